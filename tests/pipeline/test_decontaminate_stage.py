"""The ``decontaminate`` stage through the real pipeline: records holding a benchmark's texts are rejected with
their reason (counted, and kept in the stage's ``rejected.jsonl``), and a bad benchmark stops the run before
it starts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from data_paths import SEED_TASKS, SELF_INSTRUCT

from curator_synth.errors import ConfigError, DataFormatError
from curator_synth.pipeline import PipelineResult, SyntheticDataPipeline

BENCHMARK = SELF_INSTRUCT / "user_oriented_instructions.jsonl"


def rows(path: Path, count: int) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[:count]]


def run(tmp_path: Path, records: Path, **options: Any) -> PipelineResult:
    config = {
        "name": "decontaminate",
        "stages": [{"stage": "load", "path": str(records)}, {"stage": "decontaminate", **options}],
        "report": {"enabled": False},
        "dask": {"cluster": "threads"},
    }
    return SyntheticDataPipeline(None, config).run(output_dir=tmp_path / "run")


def training_file(tmp_path: Path, copies: int = 1) -> Path:
    # The answers of a model to 20 user-oriented instructions (the benchmark), each ``copies`` times with another
    # response, and 10 seed tasks (clean).
    answers = [
        {"instruction": row["instruction"], "input": row["input"], "response": f"{row['response']} ({copy})"}
        for row in rows(SELF_INSTRUCT / "predictions_text-davinci-003.jsonl", 20)
        for copy in range(copies)
    ]
    seeds = [
        {"instruction": row["instruction"], "response": row["instances"][0]["output"]} for row in rows(SEED_TASKS, 10)
    ]
    path = tmp_path / "training.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in answers + seeds), encoding="utf-8")
    return path


def test_contaminated_records_are_rejected_with_their_reason(tmp_path: Path) -> None:
    benchmarks = [{"name": "user_oriented", "path": str(BENCHMARK), "field": "instruction"}]
    result = run(tmp_path, training_file(tmp_path), benchmarks=benchmarks)
    kept = result.dataset.to_pandas()
    assert len(kept) == 10
    assert "decontamination_reason" not in kept.columns
    assert result.stages[1]["rejections"] == {"decontaminate": {"contaminated:user_oriented": 20}}
    [rejected_file] = (tmp_path / "run").rglob("rejected.jsonl")
    rejected = [json.loads(line) for line in rejected_file.read_text().splitlines()]
    assert len(rejected) == 20
    assert {row["decontamination_reason"] for row in rejected} == {"contaminated:user_oriented"}
    assert "_decontamination_text" not in rejected[0]


def test_only_the_fields_named_are_searched_and_max_matches_applies(tmp_path: Path) -> None:
    benchmarks = [{"name": "user_oriented", "path": str(BENCHMARK), "field": "instruction"}]
    records = training_file(tmp_path)
    assert len(run(tmp_path / "a", records, benchmarks=benchmarks, fields=["response"]).dataset.to_pandas()) == 30
    twice = training_file(tmp_path, copies=2)
    assert len(run(tmp_path / "b", twice, benchmarks=benchmarks, max_matches=2).dataset.to_pandas()) == 10
    assert len(run(tmp_path / "c", twice, benchmarks=benchmarks, max_matches=1).dataset.to_pandas()) == 50


def test_a_bad_benchmark_stops_the_run_before_it_starts(tmp_path: Path) -> None:
    bad = tmp_path / "bench.jsonl"
    bad.write_text('{"question": "fine"}\n{"question": \n', encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"bench\.jsonl:2"):
        run(tmp_path, training_file(tmp_path), benchmarks=[{"name": "b", "path": str(bad), "field": "question"}])
    assert not list((tmp_path / "run").rglob("*.parquet"))
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="has no texts"):
        run(tmp_path, training_file(tmp_path), benchmarks=[{"name": "e", "path": str(empty)}])
