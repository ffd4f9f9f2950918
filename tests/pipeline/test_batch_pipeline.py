"""``batch: true`` on a stage: its requests go through the provider's batch API; the records, rejections and
resume keep their meaning; the report and ``--dry-run`` price its tokens at ``pricing.batch_discount``; and a
run killed while its batch is with the provider polls that batch when re-run, never paying twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from data_paths import SELF_INSTRUCT

from curator_synth.pipeline import SyntheticDataPipeline, load_config
from curator_synth.pipeline.dryrun import dry_run
from curator_synth.testing import FakeLLMServer, Faults, Plausible

INSTRUCTIONS = SELF_INSTRUCT / "user_oriented_instructions.jsonl"
RECORDS = 252
PRICING = {"prompt_per_1m": 1.0, "completion_per_1m": 2.0, "batch_discount": 0.5}


def write_recipe(path: Path, base_url: str, batch: bool | None, **extra: Any) -> Path:
    responses: dict[str, Any] = {"stage": "responses", "max_tokens": 64}
    if batch is not None:
        responses["batch"] = batch
    recipe = {
        "name": "batched",
        "model": "fake-model",
        "client": {"base_url": base_url, "api_key_env": "FAKE_KEY", "batch_poll_seconds": 0.05},
        "dask": {"cluster": "threads"},
        "stages": [
            {"stage": "load", "path": str(INSTRUCTIONS), "columns": ["id", "instruction"]},
            responses,
            {"stage": "score", "mode": "llm_judge"},
        ],
        "pricing": PRICING,
        "report": {"enabled": True, "embeddings": False, "plots": False},
        **extra,
    }
    path.write_text(json.dumps(recipe))  # JSON is YAML
    return path


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_KEY", "sk-test-batch-pipeline")


def test_a_batched_stage_gives_the_same_records_and_its_tokens_cost_the_discount(tmp_path: Path) -> None:
    runs = {}
    for batch in (True, False):
        with FakeLLMServer(responder=Plausible()) as server:
            recipe = write_recipe(tmp_path / f"{batch}.yaml", server.base_url, batch)
            out = tmp_path / f"run-{batch}"
            SyntheticDataPipeline(None, load_config(recipe)).run(output_dir=out)
            runs[batch] = (server.stats(), pd.read_parquet(out / "final"), _usage(out))
    (batched, final, usage), (online, final_online, usage_online) = runs[True], runs[False]
    assert batched["batches"] >= 1
    assert batched["batch_requests"] == batched["requests"] - online["requests"] // 2 > 0  # responses only
    assert online["batch_requests"] == 0
    columns = ["id", "instruction", "response", "reward_overall"]
    pd.testing.assert_frame_equal(
        final.sort_values("id")[columns].reset_index(drop=True),
        final_online.sort_values("id")[columns].reset_index(drop=True),
    )
    assert len(final) == RECORDS

    responses, score = usage["01-responses"], usage["02-score"]
    assert responses["batch_prompt_tokens"] == responses["prompt_tokens"] > 0
    assert responses["cost"] == pytest.approx(usage_online["01-responses"]["cost"] * 0.5)
    assert score["batch_prompt_tokens"] == 0
    assert score["cost"] == pytest.approx(usage_online["02-score"]["cost"])
    html = (tmp_path / "run-True" / "report" / "report.html").read_text()
    assert "went through the batch API at 0.5x the price" in html


def test_the_dry_run_prices_batched_requests_at_the_discount(tmp_path: Path) -> None:
    plans = {}
    for batch in (True, False):
        config = load_config(write_recipe(tmp_path / f"{batch}.yaml", "http://127.0.0.1:9/v1", batch))
        plans[batch] = dry_run(config, output_dir=tmp_path / f"dry-{batch}")
    batched, online = plans[True], plans[False]
    responses = batched.stages[1]
    assert responses.batch_requests == responses.requests == online.stages[1].requests > 0
    assert batched.stages[2].batch_requests == 0
    (cost, ceiling), (online_cost, online_ceiling) = batched.cost(), online.cost()  # type: ignore[misc]
    saved = 0.5 * (
        PRICING["prompt_per_1m"] * responses.prompt_tokens + PRICING["completion_per_1m"] * responses.completion_tokens
    )
    assert cost == pytest.approx(online_cost - saved / 1e6)
    assert ceiling < online_ceiling
    assert f"{responses.requests:,} requests go through the batch API, priced at 0.5x" in batched.format()


def test_a_recipe_wide_batch_turns_off_streaming_and_failed_lines_are_asked_again(tmp_path: Path) -> None:
    faults = Faults(server_error=0.05, seed=3)
    with FakeLLMServer(responder=Plausible(), faults=faults) as server:
        recipe = write_recipe(tmp_path / "r.yaml", server.base_url, None)
        config = load_config(recipe)
        client = config.client.model_copy(update={"batch": True})  # type: ignore[union-attr]
        SyntheticDataPipeline(None, config.model_copy(update={"client": client})).run(output_dir=tmp_path / "run")
        stats = server.stats()
    assert stats["batch_requests"] == stats["requests"]  # both stages, nothing online
    assert stats["faults"]["500"] > 0
    assert not (tmp_path / "run" / "stages" / "01-responses" / "stream").exists()  # stage by stage
    final = pd.read_parquet(tmp_path / "run" / "final")
    assert len(final) == RECORDS
    assert final["reward_overall"].notna().all()


def test_a_run_killed_while_its_batches_are_pending_polls_them_and_pays_once(tmp_path: Path) -> None:
    with FakeLLMServer(responder=Plausible(), batch_delay=2.0) as server:
        recipe = write_recipe(tmp_path / "r.yaml", server.base_url, True)
        out = tmp_path / "run"
        process = _start(recipe, out)
        deadline = time.monotonic() + 120
        while server.stats()["batches"] < 1:
            assert process.poll() is None, process.communicate()[0].decode()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.3)  # every partition's batch submitted (they are sealed after 0.5 s without requests... or not)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        submitted = server.stats()["batches"]
        assert server.stats()["batch_requests"] == 0  # nothing answered yet: the batches are still running

        finish = _start(recipe, out)
        output = finish.communicate(timeout=300)[0].decode()
        assert finish.returncode == 0, output
        stats = server.stats()
    # Every request answered once: the re-run polled the batches the killed run left instead of resubmitting.
    assert set(stats["body_hits"].values()) == {1}
    assert stats["requests"] == len(stats["body_hits"])
    print(f"batches before the kill {submitted}, in all {stats['batches']}, requests {stats['requests']}")
    final = pd.read_parquet(out / "final")
    assert len(final) == RECORDS
    assert final["id"].is_unique


def _start(recipe: Path, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "curator_synth.cli", "run", str(recipe), "--output-dir", str(out)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _usage(out: Path) -> dict[str, Any]:
    stats = json.loads((out / "report" / "stats.json").read_text())
    return dict(stats["usage"]["clients"])
