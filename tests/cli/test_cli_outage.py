"""The acceptance test of issue 13: a server that dies in the middle of an LLM stage, through the CLI.

80 records -> ``responses`` against a loopback server (its own process) that dies after ~25 answers: the run
exits 75 saying how many requests failed transiently, that the answers are kept and that a re-run retries them;
the stage is not taken as finished. The server comes back on the same port, the re-run gives 80 of 80 records,
none duplicated, and re-pays at most the requests that were in flight when the server died.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from curator_synth.testing import FakeLLMServer

RECORDS = 80
DIES_AFTER = 25
CONCURRENCY = 8


class DiesAfter:
    """Answers each prompt, logging it to ``log``, until ``answers`` were given; then kills its own process (the
    server goes away mid-stage: connections are refused from then on)."""

    def __init__(self, answers: int, log: str) -> None:
        self.answers, self.log, self.count = answers, log, 0

    def __call__(self, request: Any) -> str:
        if self.count >= self.answers:
            os.kill(os.getpid(), signal.SIGKILL)
        self.count += 1
        with open(self.log, "a", encoding="utf-8") as file:
            file.write(json.dumps(request.prompt) + "\n")
        return f"an answer to: {request.prompt}"


class Logged(DiesAfter):
    def __init__(self, log: str) -> None:
        super().__init__(10**9, log)


def run_cli(recipe: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "curator_synth.cli", "run", str(recipe), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_a_server_dying_mid_stage_leaves_the_run_unfinished_and_a_rerun_completes(tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    records.write_text("".join(json.dumps({"instruction": f"Question number {i}?"}) + "\n" for i in range(RECORDS)))
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with FakeLLMServer(DiesAfter(DIES_AFTER, str(first_log)), mode="process", latency=0.05) as server:
        port = server.port
        recipe = tmp_path / "recipe.yaml"
        recipe.write_text(json.dumps({
            "name": "outage", "model": "m", "output_dir": str(tmp_path / "run"),
            "client": {"base_url": server.base_url, "max_concurrency": CONCURRENCY, "max_retries": 2},
            "stages": [{"stage": "load", "path": str(records)}, {"stage": "responses"}],
            "report": {"enabled": False},
        }))  # fmt: skip
        first = run_cli(recipe)
    answered_first = [json.loads(line) for line in first_log.read_text().splitlines()]
    assert first.returncode == 75, first.stderr
    assert "requests failed transiently (ConnectError" in first.stderr, first.stderr
    assert "answers so far are kept" in first.stderr
    assert "re-run to retry them" in first.stderr
    assert "Traceback" not in first.stderr
    assert len(answered_first) == DIES_AFTER
    assert not (tmp_path / "run" / "stages" / "01-responses" / "manifest.json").exists()
    assert not (tmp_path / "run" / "final").exists()

    with FakeLLMServer(Logged(str(second_log)), mode="process", port=port) as server:
        second = run_cli(recipe)
        requests_second = server.stats()["requests"]
    assert second.returncode == 0, second.stderr
    final = pd.read_parquet(tmp_path / "run" / "final")
    assert len(final) == RECORDS
    assert final["id"].is_unique
    assert sorted(final["instruction"]) == sorted(f"Question number {i}?" for i in range(RECORDS))
    assert all(row.response == f"an answer to: {row.instruction}" for row in final.itertuples())
    answered_second = [json.loads(line) for line in second_log.read_text().splitlines()]
    repaid = len(set(answered_first) & set(answered_second))
    print(f"outage: first run answered {len(answered_first)}, second sent {requests_second}, re-paid {repaid}")
    assert repaid <= CONCURRENCY, f"{repaid} answers paid twice (in-flight window {CONCURRENCY})"
    assert requests_second <= RECORDS - len(answered_first) + CONCURRENCY
