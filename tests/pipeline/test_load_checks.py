"""``Stage.check`` of the stages that need no endpoint (load, filter, dedup, sample, redact_pii): registry names
and arguments, input files, all refused with the option's path before any stage runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from curator_synth.errors import ConfigError, DataFormatError
from curator_synth.pipeline import STAGES, PipelineConfig, SyntheticDataPipeline
from curator_synth.pipeline.context import RunContext


def context(tmp_path: Path, **recipe: Any) -> RunContext:
    config = PipelineConfig.from_dict({"name": "checks", "stages": [{"stage": "load", "path": "x"}], **recipe},
                                      base_dir=tmp_path)  # fmt: skip
    return RunContext(config=config, output_dir=tmp_path / "run")


def check(tmp_path: Path, stage: str, **options: Any) -> None:
    cls = STAGES.get(stage)
    cls(cls.Options.model_validate(options)).check(context(tmp_path))


def test_an_unknown_filter_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    filters = [{"name": "empty_response"}, {"name": "safty"}]
    suggestion = r"^filters\[1\]\.name: unknown filters 'safty'; did you mean 'safety'\? \(known: .*\bword_count\b"
    with pytest.raises(ConfigError, match=suggestion):
        check(tmp_path, "filter", filters=filters)
    with pytest.raises(ConfigError, match=r"filters\[0\]\.name: unknown filters 'zzz'; known: .*\bsafety\b") as caught:
        check(tmp_path, "filter", filters=[{"name": "zzz"}])
    # one name per filter (its ``name``, not also its class name), so the list stays readable
    listed = str(caught.value).split("known: ")[1].split(", ")
    assert "word_count" in listed
    assert "wordcountfilter" not in listed
    assert len(listed) == len(set(listed))


def test_filter_arguments_are_checked_by_building_the_filter(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^filters\[0\]: filter 'word_count': .*min_wordz"):
        check(tmp_path, "filter", filters=[{"name": "word_count", "min_wordz": 3}])
    with pytest.raises(ConfigError, match=r"^filters\[0\]: filter 'pii': unknown PII kind"):
        check(tmp_path, "filter", filters=[{"name": "pii", "kinds": ["emial"]}])
    check(tmp_path, "filter", filters=[{"name": "score_threshold", "field": "reward_overall", "min_score": 0.5}])


def test_an_unknown_sampling_strategy_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^strategy: unknown sampling_strategies 'randon'; did you mean 'random'\?"):
        check(tmp_path, "sample", strategy="randon", n=3)
    with pytest.raises(ConfigError, match="topic_field"):
        check(tmp_path, "sample", strategy="topic_stratified", n=3)
    check(tmp_path, "sample", strategy="random", n=3)


def test_dedup_options_are_checked_without_data(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^options: dedup method 'fuzzy': .*jacard"):
        check(tmp_path, "dedup", method="fuzzy", options={"jacard": 0.5})
    with pytest.raises(ConfigError, match=r"^options: dedup method 'novelty': threshold must be in"):
        check(tmp_path, "dedup", method="novelty", options={"threshold": 2})
    with pytest.raises(ConfigError, match=r"^against_seeds: the recipe has no `seeds:`"):
        check(tmp_path, "dedup", method="novelty", against_seeds=True)
    with pytest.raises(ConfigError, match=r"^against_seeds: only method 'novelty'"):
        check(tmp_path, "dedup", method="exact", against_seeds=True)
    check(tmp_path, "dedup", method="exact")


def test_redact_pii_kinds_and_replacement_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^kinds\[1\]: unknown PII kind 'emial'; did you mean 'email'\?$"):
        check(tmp_path, "redact_pii", kinds=["phone", "emial"])
    with pytest.raises(ConfigError, match=r"^replacement: '\[\{type\}\]' may only use \{kind\}"):
        check(tmp_path, "redact_pii", replacement="[{type}]")
    check(tmp_path, "redact_pii", kinds=["email"], replacement="<{kind}>")


def test_load_inputs_are_checked(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "data.jsonl").write_text(json.dumps({"instruction": "x"}) + "\n")
    (tmp_path / "b" / "data.jsonl").write_text(json.dumps({"instruction": "y"}) + "\n")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "x.csv").write_text("a\n")
    check(tmp_path, "load", path="a")  # relative to the recipe's directory
    with pytest.raises(ConfigError, match=r"^path: input file or directory not found: .*missing\.jsonl"):
        check(tmp_path, "load", path="missing.jsonl")
    with pytest.raises(ConfigError, match=r"^path: no \.jsonl/\.json/\.parquet/\.pq files in directory .*x\.csv"):
        check(tmp_path, "load", path="csv")
    with pytest.raises(ConfigError, match=r"^path: two input files are named 'data\.jsonl'"):
        check(tmp_path, "load", path=["a", "b"])
    with pytest.raises(DataFormatError, match="not a readable Parquet file"):
        check(tmp_path, "load", path="broken.parquet")
    with pytest.raises(ConfigError, match=r"^source_from_filename: 'pred_\(\.\+\)' matches none of the file names"):
        check(tmp_path, "load", path="a", source_from_filename="pred_(.+)")
    renames = {"stage": "load", "path": "a", "rename": {"q": "instruction", "question": "instruction"}}
    with pytest.raises(ConfigError, match=r"stages\[0\]\.rename: .*'q' and 'question' would both become 'instruction'"):
        PipelineConfig.from_dict({"name": "renames", "stages": [renames]})


def test_a_recipe_with_an_unknown_filter_fails_before_its_first_stage_runs(tmp_path: Path) -> None:
    pd.DataFrame({"instruction": ["x"], "response": ["y"]}).to_parquet(tmp_path / "d.parquet")
    recipe = {
        "name": "typo",
        "stages": [
            {"stage": "load", "path": str(tmp_path / "d.parquet")},
            {"stage": "filter", "filters": [{"name": "safty"}]},
        ],
        "report": {"enabled": False},
        "dask": {"cluster": "threads"},
    }
    with pytest.raises(ConfigError, match=r"stages\[1\]\.filters\[0\]\.name: unknown filters 'safty'; did you mean"):
        SyntheticDataPipeline(None, recipe).run(output_dir=tmp_path / "run")
    assert not (tmp_path / "run" / "stages").exists()
