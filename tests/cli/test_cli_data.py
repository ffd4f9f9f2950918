"""The single-step commands (generate, score, filter, dedup, sample, export, report) on the shipped Self-Instruct
answers and against a FakeLLMServer: outputs, chaining, resume, exit codes, atomic output, API keys."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

import curator_synth
from curator_synth.cli import app
from curator_synth.testing import FakeLLMServer, Plausible

os.environ["HF_HUB_OFFLINE"] = "1"
DATA = Path(curator_synth.__file__).parent / "data" / "self_instruct"
ANSWERS = DATA / "predictions_text-davinci-003.jsonl"  # 252 records: instruction, input, response (+ prompt, target)
SEEDS = DATA / "seed_tasks.jsonl"
SECRET = "sk-test-do-not-print-4242"


def invoke(*args: object) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def manifest_times(work: Path) -> dict[Path, int]:
    return {path: path.stat().st_mtime_ns for path in work.glob("stages/*/manifest.json")}


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 252 answers with heuristic reward_* scores (what the chain and the report start from)."""
    out = tmp_path_factory.mktemp("scored") / "scored.jsonl"
    result = invoke("score", ANSWERS, "-o", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLMServer]:
    monkeypatch.setenv("FAKE_KEY", SECRET)
    with FakeLLMServer(responder=Plausible(), api_key=SECRET) as fake:
        yield fake


def test_score_heuristic_writes_every_record_and_resumes(scored: Path, tmp_path: Path) -> None:
    frame = pd.read_json(scored, lines=True)
    assert len(frame) == 252
    assert frame["reward_overall"].between(0, 1).all()
    assert {"id", "instruction", "input", "response", "provenance"} <= set(frame.columns)
    work = scored.with_name(".scored.jsonl.work")
    manifests = manifest_times(work)
    assert len(manifests) == 2  # load, score
    again = invoke("score", ANSWERS, "-o", scored)
    assert again.exit_code == 0, again.output
    assert "score: 252 -> 252 records (resumed)" in again.output
    assert manifest_times(work) == manifests  # no stage re-ran
    copy = tmp_path / "answers.jsonl"  # a changed input is not resumed from stale stages
    copy.write_text("\n".join(ANSWERS.read_text().splitlines()[:20]) + "\n")
    first = invoke("score", copy, "-o", tmp_path / "s.parquet")
    copy.write_text("\n".join(ANSWERS.read_text().splitlines()[:30]) + "\n")
    second = invoke("score", copy, "-o", tmp_path / "s.parquet")
    assert first.exit_code == second.exit_code == 0, second.output
    assert "score: 30 -> 30 records (" in second.output
    assert len(pd.read_parquet(tmp_path / "s.parquet")) == 30


def test_filter_dedup_sample_export_chain_loads_with_datasets(scored: Path, tmp_path: Path) -> None:
    import datasets

    filters = tmp_path / "filters.yaml"
    filters.write_text("- {name: score_threshold, field: reward_overall, min_score: 0.3}\n")
    filtered = tmp_path / "filtered.jsonl"
    result = invoke("filter", scored, "-o", filtered, "--filters", filters, "--filter", "empty_response",
                    "--filter", "echo:instruction,response", "--filter", "truncated_response")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "filter: 252 -> " in result.output
    assert "truncated_response/" in result.output  # drops by reason
    kept = pd.read_json(filtered, lines=True)
    assert 50 < len(kept) < 252
    assert kept["reward_overall"].min() >= 0.3
    deduped = tmp_path / "deduped.parquet"
    result = invoke("dedup", filtered, "-o", deduped, "--method", "exact", "--field", "instruction")
    assert result.exit_code == 0, result.output
    assert pd.read_parquet(deduped)["instruction"].is_unique
    sampled = tmp_path / "sampled.jsonl"
    result = invoke("sample", deduped, "-o", sampled, "--strategy", "random", "-n", 40, "--seed", 3)
    assert result.exit_code == 0, result.output
    assert "sample/not_sampled" in result.output
    exported = tmp_path / "exports" / "train.jsonl"
    result = invoke("export", sampled, "--format", "alpaca", "-o", exported, "--metadata", "id")
    assert result.exit_code == 0, result.output
    assert "40 records exported as alpaca" in result.output
    loaded = datasets.load_dataset("json", data_files=str(exported), split="train", cache_dir=str(tmp_path / "hf"))
    assert loaded.num_rows == 40
    assert {"instruction", "input", "output", "id"} <= set(loaded.column_names)
    assert set(loaded["id"]) == set(pd.read_json(sampled, lines=True)["id"])


def test_inputs_directory_glob_and_rename(tmp_path: Path) -> None:
    frame = pd.read_json(ANSWERS, lines=True)
    folder = tmp_path / "parts"
    folder.mkdir()
    frame.iloc[:30].to_parquet(folder / "a.parquet")
    frame.iloc[30:50].to_parquet(folder / "b.parquet")
    out = tmp_path / "sample.jsonl"
    result = invoke("sample", folder, "-o", out, "--strategy", "random", "-n", 100, "--rename", "target=gold")
    assert result.exit_code == 0, result.output
    sampled = pd.read_json(out, lines=True)
    assert len(sampled) == 50
    assert "gold" in sampled.columns
    assert "target" not in sampled.columns
    glob = invoke("dedup", tmp_path / "parts" / "*.parquet", "-o", tmp_path / "d.jsonl", "--method", "exact")
    assert glob.exit_code == 0, glob.output
    assert "load: 0 -> 50 records" in glob.output


def test_report_of_a_scored_dataset(scored: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import curator_synth.pipeline.summary

    monkeypatch.setattr(curator_synth.pipeline.summary, "_embeddings", lambda texts, ctx: None)  # no MiniLM: fast
    out = tmp_path / "report"
    result = invoke("report", scored, "-o", out, "--seeds", SEEDS, "--limit", 60, "--title", "Scored answers")
    assert result.exit_code == 0, result.output
    stats = json.loads((out / "stats.json").read_text())
    assert stats["title"] == "Scored answers"
    assert stats["stages"][0]["records_out"] == 60
    assert "overall" in json.dumps(stats["scores"])
    assert stats["rouge_l_to_seed"]
    assert (out / "plots" / "score_overall.png").stat().st_size > 0
    assert (out / "plots" / "rouge_l_to_seed.png").exists()
    assert "data:image/png;base64," in (out / "report.html").read_text()


def test_generate_and_llm_judge_score_against_a_fake_server(server: FakeLLMServer, tmp_path: Path) -> None:
    generated = tmp_path / "generated.jsonl"
    endpoint = ["--model", "fake-model", "--base-url", server.base_url, "--api-key-env", "FAKE_KEY"]
    args = ["generate", "self_instruct", "-o", generated, "--seeds", SEEDS, *endpoint,
            "--set", "num_instructions=6", "--set", "batch_size=3", "--max-concurrency", 8]  # fmt: skip
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    records = pd.read_json(generated, lines=True)
    assert len(records) >= 6
    assert records["instruction"].str.len().gt(0).all()
    sent = server.stats()["requests"]
    work = tmp_path / ".generated.jsonl.work"
    manifests = manifest_times(work)
    again = invoke(*args)
    assert again.exit_code == 0, again.output
    assert manifest_times(work) == manifests
    assert server.stats()["requests"] == sent  # resumed: not one request
    judged = tmp_path / "judged.parquet"
    result = invoke("score", generated, "-o", judged, "--mode", "llm_judge", *endpoint)
    assert result.exit_code == 0, result.output
    scores = pd.read_parquet(judged)
    assert len(scores) == len(records)
    assert scores["reward_overall"].between(0, 1).all()
    assert server.stats()["requests"] >= sent + len(records)


def test_a_failed_run_exits_1_and_leaves_the_output_alone(
    server: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "generated.jsonl"
    out.write_text("previous content\n")
    monkeypatch.setenv("WRONG_KEY", "sk-wrong")
    result = invoke("generate", "self_instruct", "-o", out, "--seeds", SEEDS, "--model", "m", "--base-url",
                    server.base_url, "--api-key-env", "WRONG_KEY", "--set", "num_instructions=4")  # fmt: skip
    assert result.exit_code == 1, result.output
    # the pre-flight (the model listing) finds the refused key before any generation request
    assert "the endpoint check before the first LLM stage failed: Incorrect API key" in result.output
    assert "Check the API key" in result.output
    assert "sk-wrong" not in result.output
    assert out.read_text() == "previous content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".generated.jsonl.work", "generated.jsonl"]


def test_the_output_is_never_half_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from curator_synth.cli import steps

    def broken(frame: pd.DataFrame, path: Path) -> None:
        path.write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setitem(steps.OUTPUT_WRITERS, ".parquet", broken)
    result = invoke("sample", ANSWERS, "-o", tmp_path / "out.parquet", "--strategy", "random", "-n", 5)
    assert result.exit_code == 75  # a storage problem: fix it and re-run (one line, no traceback)
    assert "error: disk full: cannot write" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.parquet.work"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["score", "{bad}", "-o", "{tmp}/o.jsonl"], "bad.jsonl:3: not valid JSON"),
        (["score", "{tmp}/missing.jsonl", "-o", "{tmp}/o.jsonl"], "input file or directory not found"),
        (["score", ANSWERS, "-o", "{tmp}/o.jsonl", "--set", "min_scor=1"], "unknown option 'min_scor' of stage"),
        (["score", ANSWERS, "-o", "{tmp}/o.jsonl", "--mode", "judge"], "known: heuristic, llm_judge, nemotron"),
        (["score", ANSWERS, "-o", "{tmp}/o.jsonl", "--mode", "llm_judge"], "calls a model: give --model"),
        (["score", ANSWERS, "-o", "{tmp}/o.csv"], "the output must end in .jsonl, .json, .parquet"),
        (["export", ANSWERS, "--format", "csv", "-o", "{tmp}/o.jsonl"], "known: alpaca, dpo, messages"),
        (["export", ANSWERS, "--format", "alpaca", "-o", "{tmp}/o.jsonl", "--field-map", "x"], "--field-map expects"),
        (["filter", ANSWERS, "-o", "{tmp}/o.jsonl", "--filter", "nope"], "unknown filters 'nope'; known: alpha_"),
        (["dedup", ANSWERS, "-o", "{tmp}/o.jsonl", "--method", "nope"], "'exact', 'fuzzy', 'semantic' or 'novelty'"),
        (["sample", ANSWERS, "-o", "{tmp}/o.jsonl", "--strategy", "nope"], "known: cluster_balanced, random"),
        (["generate", "dedup", "-o", "{tmp}/o.jsonl"], "unknown generating stage 'dedup'; known: self_instruct"),
        (
            ["generate", "self_instruct", "-o", "{tmp}/o.jsonl", "--model", "m", "--api-key-env", "UNSET_X"],
            "is not set",
        ),
    ],
)
def test_bad_input_exits_2_naming_the_problem(args: list[object], message: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "a", "response": "b"}\n{"instruction": "c", "response": "d"}\n{"instruction": \n')
    result = invoke(*(str(arg).format(bad=bad, tmp=tmp_path) for arg in args))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "o.jsonl").exists()
