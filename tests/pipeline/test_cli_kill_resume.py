"""SIGKILL the ``curator-synth run`` process in the middle of its LLM stages, twice, and run it again: the run
resumes (finished stages and parts kept, paid answers replayed from the journals), re-pays at most the requests
that were in flight when it died, and the final dataset has every record exactly once. Both ways of running
``responses`` → ``score``: streamed record by record (the default), and stage by stage (``streaming: false``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from data_paths import SELF_INSTRUCT

from curator_synth.testing import FakeLLMServer, Plausible

INSTRUCTIONS = SELF_INSTRUCT / "user_oriented_instructions.jsonl"
CONCURRENCY = 8
RECORDS = 252  # the user-oriented instructions


def write_recipe(path: Path, base_url: str, streaming: bool = True) -> None:
    recipe = {
        "name": "kill_resume",
        "streaming": streaming,
        "model": "fake-model",
        "client": {"base_url": base_url, "api_key_env": "FAKE_KEY", "max_concurrency": CONCURRENCY},
        "dask": {"cluster": "threads"},
        "stages": [
            {"stage": "load", "path": str(INSTRUCTIONS), "columns": ["id", "instruction"]},
            {"stage": "responses", "max_tokens": 64},
            {"stage": "score", "mode": "llm_judge"},
        ],
        "report": {"enabled": False},
    }
    path.write_text(json.dumps(recipe))  # JSON is YAML


def start(recipe: Path, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FAKE_KEY": "sk-test", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "curator_synth.cli", "run", str(recipe), "--output-dir", str(out)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def kill_after(process: subprocess.Popen[bytes], server: FakeLLMServer, requests: int) -> None:
    deadline = time.monotonic() + 120
    while server.stats()["requests"] < requests:
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the run did not reach the kill point"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


@pytest.mark.parametrize("streaming", [True, False], ids=["streamed", "stage-by-stage"])
def test_sigkilled_cli_run_resumes_without_repaying_and_keeps_every_record_once(
    tmp_path: Path, streaming: bool
) -> None:
    with FakeLLMServer(responder=Plausible(), latency=0.03) as server:
        recipe, out = tmp_path / "recipe.yaml", tmp_path / "run"
        write_recipe(recipe, server.base_url, streaming)
        kill_after(start(recipe, out), server, RECORDS // 2)  # answers and scores under way (streamed)
        assert not (out / "stages" / "01-responses" / "manifest.json").exists()
        kill_after(start(recipe, out), server, RECORDS + RECORDS // 2)
        # Stage by stage, the kill fell in the score stage; streamed, both stages were under way.
        assert (out / "stages" / "01-responses" / "manifest.json").exists() is not streaming
        assert not (out / "stages" / "02-score" / "manifest.json").exists()
        finish = start(recipe, out)
        output = finish.communicate(timeout=300)[0].decode()
        assert finish.returncode == 0, output
        stats = server.stats()

    final = pd.read_parquet(out / "final")
    assert len(final) == RECORDS
    assert final["id"].is_unique
    assert sorted(final["id"]) == sorted(f"user_oriented_task_{i}" for i in range(RECORDS))
    assert final["response"].str.len().gt(0).all()
    assert final["reward_overall"].notna().all()
    # One request per distinct prompt and stage (one instruction appears twice in the data, and its repeat is
    # answered from the journal), plus at most the requests in flight at each of the two kills.
    prompts = pd.read_json(INSTRUCTIONS, lines=True)["instruction"].nunique()
    unique = len(stats["body_hits"])
    assert unique == 2 * prompts
    repaid = stats["requests"] - unique
    print(f"requests {stats['requests']}, distinct {unique}, re-paid after two SIGKILLs: {repaid}")
    assert 0 <= repaid <= 2 * CONCURRENCY, stats["requests"]
