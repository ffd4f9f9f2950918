"""Recipes end to end: the offline curation recipe through the CLI (and its resume), and the Self-Instruct
recipe against a FakeLLMServer, locally and on a 2-worker LocalCluster, with identical outputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from curator_synth.cli import app
from curator_synth.pipeline import SyntheticDataPipeline, load_config
from curator_synth.testing import FakeLLMServer, Plausible

os.environ["HF_HUB_OFFLINE"] = "1"
RECIPES = Path(__file__).resolve().parents[2] / "prompt_templates" / "recipes"


def test_offline_curation_recipe_through_the_cli_and_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(app, ["run", str(RECIPES / "curate_self_instruct.yaml"), "--output-dir", str(out)])
    assert result.exit_code == 0, result.output
    assert "300 records" in result.output
    final = pd.read_parquet(out / "final")
    assert len(final) == 300
    assert final["id"].is_unique
    assert final["reward_overall"].min() >= 0.5  # the score_threshold filter held
    stats = json.loads((out / "report" / "stats.json").read_text())
    assert [stage["name"] for stage in stats["stages"]][:3] == ["load", "score", "filter"]
    assert stats["stages"][0]["records_out"] == 1512  # 252 instructions x 6 models
    html = (out / "report" / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 5
    for name in ("messages.jsonl", "sharegpt.jsonl", "alpaca.jsonl", "dataset.parquet"):
        assert (out / "exports" / name).stat().st_size > 0
    alpaca = [json.loads(line) for line in (out / "exports" / "alpaca.jsonl").read_text().splitlines()]
    assert all(row["output"] == row["output"].strip() for row in alpaca)  # no "\n\n" before the answers
    assert min(len(row["output"]) for row in alpaca) >= 2  # no bare one-character answers
    origins = [json.loads(text)["load"] for text in final["provenance"]]
    assert all(origin["file"].startswith("predictions_") and origin["line"] >= 1 for origin in origins)
    manifests = {p: p.stat().st_mtime_ns for p in out.glob("stages/*/manifest.json")}
    again = runner.invoke(app, ["run", str(RECIPES / "curate_self_instruct.yaml"), "--output-dir", str(out)])
    assert again.exit_code == 0, again.output
    assert {p: p.stat().st_mtime_ns for p in out.glob("stages/*/manifest.json")} == manifests  # nothing re-ran
    assert (
        pd.read_parquet(out / "final")
        .sort_values("id")
        .reset_index(drop=True)
        .equals(final.sort_values("id").reset_index(drop=True))
    )


def test_inspect_and_bad_recipe_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    named = tmp_path / "self_instruct.yaml"  # the shipped recipe naming its key's variable (it names none: keyless)
    named.write_text(
        (RECIPES / "self_instruct.yaml").read_text().replace("client:\n", "client:\n  api_key_env: OPENAI_API_KEY\n")
    )
    missing = runner.invoke(app, ["inspect", str(named)])
    assert missing.exit_code == 2  # inspect checks what run needs before its first request: the key variable
    assert "client.api_key_env: the environment variable OPENAI_API_KEY is not set" in missing.output
    assert runner.invoke(app, ["inspect", str(RECIPES / "self_instruct.yaml")]).exit_code == 0, "keyless: no variable"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-only")
    shown = runner.invoke(app, ["inspect", str(named)])
    assert shown.exit_code == 0, shown.output
    assert "00 self_instruct: num_instructions=40" in shown.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstages:\n  - stage: sample\n    nn: 3\n")
    failed = runner.invoke(app, ["run", str(bad)])
    assert failed.exit_code == 2
    assert "bad.yaml:4: stages[0].nn: unknown key" in failed.output


@pytest.fixture
def self_instruct_config(monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("FAKE_KEY", "sk-test")
    with FakeLLMServer(responder=Plausible()) as server:
        config = load_config(RECIPES / "self_instruct.yaml")
        client = config.client.model_copy(update={"base_url": server.base_url, "api_key_env": "FAKE_KEY"})  # type: ignore[union-attr]
        yield config.model_copy(update={"client": client}), server


def run_with(config: object, out: Path, local_cluster: bool) -> pd.DataFrame:
    cluster = "local" if local_cluster else "threads"
    config = config.model_copy(update={"dask": config.dask.model_copy(update={"cluster": cluster})})  # type: ignore[attr-defined]
    SyntheticDataPipeline(None, config).run(output_dir=out)
    return pd.read_parquet(out / "final").sort_values("id").reset_index(drop=True)


def test_self_instruct_recipe_same_output_locally_and_on_a_local_cluster(
    self_instruct_config: tuple[object, FakeLLMServer], tmp_path: Path
) -> None:
    config, server = self_instruct_config
    local = run_with(config, tmp_path / "local", local_cluster=False)
    sent = server.stats()["requests"]
    assert sent > 40
    assert 10 <= len(local) <= 40  # the sample stage keeps at most n=40 of the deduplicated records
    assert local["id"].is_unique
    assert local["reward_overall"].between(0, 1).all()  # judged by the llm_judge mode over partitions
    clustered = run_with(config, tmp_path / "cluster", local_cluster=True)
    columns = [c for c in local.columns if c != "provenance"]
    pd.testing.assert_frame_equal(local[columns], clustered[columns])
    again = run_with(config, tmp_path / "local", local_cluster=False)  # resumed: no request at all
    assert server.stats()["requests"] - sent > 0  # the cluster run paid its own journal
    before = server.stats()["requests"]
    assert run_with(config, tmp_path / "local", local_cluster=False).equals(again)
    assert server.stats()["requests"] == before


def test_run_simple_pipeline_with_a_client_object_runs_in_process(tmp_path: Path) -> None:
    from curator_synth import AsyncOpenAIClient
    from curator_synth.pipeline import run_simple_pipeline

    seed_file = RECIPES.parents[1] / "curator_synth" / "data" / "self_instruct" / "seed_tasks.jsonl"
    seeds = [json.loads(line)["instruction"] for line in seed_file.read_text().splitlines()[:12]]
    with FakeLLMServer(responder=Plausible()) as server:
        client = AsyncOpenAIClient(base_url=server.base_url, api_key="sk-test")
        result = run_simple_pipeline(client, seeds, num_samples=8, model="fake", output_dir=tmp_path / "simple")
        frame = result.dataset.to_pandas()
        assert 1 <= len(frame) <= 8
        assert frame["response"].str.len().gt(0).all()  # answered by the responses stage, in this process
        assert (tmp_path / "simple" / "stages" / "01-responses" / "stream" / "part-00000.parquet").exists()
        assert result.report_path is not None
        assert result.report_path.exists()
        assert server.stats()["requests"] > 8
