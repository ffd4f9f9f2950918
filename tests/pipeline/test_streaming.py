"""Streamed chains (``responses`` → ``score`` record by record, :mod:`curator_synth.pipeline.stream`) against a
FakeLLMServer on loopback: the same records, rejections and usage as stage by stage; no barrier between the
stages; a transient failure leaves only its chunk unwritten and a re-run asks only what failed."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from curator_synth.errors import IncompleteStageError
from curator_synth.pipeline import SyntheticDataPipeline, chain
from curator_synth.testing import FakeLLMServer, FakeRequest, Faults, Plausible

N = 30


def _instructions(n: int = N) -> list[str]:
    return [f"Explain how bridge number {i} carries its load." for i in range(n)]


def _recipe(tmp_path: Path, base_url: str, instructions: list[str], streaming: bool = True, **client: Any) -> dict:
    rows = [{"id": f"r{i}", "instruction": text} for i, text in enumerate(instructions)]
    data = tmp_path / "instructions.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return {
        "name": "streaming",
        "model": "m",
        "streaming": streaming,
        "client": {"base_url": base_url, "max_concurrency": 8, "max_retries": 0, **client},
        "stages": [
            {"stage": "load", "path": str(data), "columns": ["id", "instruction"]},
            {"stage": "responses", "max_tokens": 64},
            {"stage": "score", "mode": "llm_judge"},
        ],
        "report": {"enabled": False},
    }


def _refusing(request: FakeRequest) -> str:
    """Plausible answers, except a 400 for instructions that say REFUSE (a permanent failure)."""
    if "REFUSE" in request.prompt and "Response" not in request.prompt:
        raise ValueError("this request is refused")
    return Plausible()(request)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    """Parts of 7 input records: several chunks, the last one partial."""
    monkeypatch.setattr(chain, "CHUNK_SIZE", 7)
    return 7


def test_streamed_and_stage_by_stage_runs_give_the_same_records(tmp_path: Path, small_chunks: int) -> None:
    instructions = _instructions()
    instructions[4] = "REFUSE to explain bridge number 4."
    instructions[17] = "REFUSE to explain bridge number 17."
    results = {}
    with FakeLLMServer(_refusing) as server:
        for streaming in (True, False):
            recipe = _recipe(tmp_path, server.base_url, instructions, streaming)
            results[streaming] = SyntheticDataPipeline(None, recipe).run(output_dir=tmp_path / f"run-{streaming}")
    streamed, staged = results[True], results[False]
    frames = [result.dataset.to_pandas().sort_values("id").reset_index(drop=True) for result in (streamed, staged)]
    columns = ["id", "instruction", "response", "reward_overall", "reward_error"]
    pd.testing.assert_frame_equal(frames[0][columns], frames[1][columns], check_dtype=False)
    assert len(frames[0]) == N - 2
    for number in (1, 2):
        mine, theirs = streamed.stages[number], staged.stages[number]
        assert (mine["records_in"], mine["records_out"]) == (theirs["records_in"], theirs["records_out"])
        assert mine["rejections"] == theirs["rejections"]
        assert mine["usage"]["requests"] == theirs["usage"]["requests"]
    assert streamed.stages[1]["rejections"] == {"responses": {"BadRequestError": 2}}
    assert streamed.stages[1]["usage"]["requests"] == N
    assert streamed.stages[2]["usage"]["requests"] == N - 2
    parts = sorted((tmp_path / "run-True" / "stages" / "02-score" / "stream").glob("part-*.parquet"))
    assert [len(pd.read_parquet(part)) for part in parts] == [6, 7, 6, 7, 2]  # responses refused r4 and r17


@pytest.mark.parametrize("streaming", [True, False], ids=["streamed", "stage-by-stage"])
def test_no_record_waits_for_the_slowest_one_of_the_stage_before(tmp_path: Path, streaming: bool) -> None:
    instructions = _instructions(12)
    slow = instructions[0]
    arrivals: list[tuple[float, str]] = []
    lock = threading.Lock()

    def latency(request: FakeRequest) -> float:
        with lock:
            arrivals.append((time.monotonic(), request.prompt))
        return 3.0 if request.prompt == slow else 0.01

    with FakeLLMServer(Plausible(), latency=latency) as server:
        SyntheticDataPipeline(None, _recipe(tmp_path, server.base_url, instructions, streaming)).run(
            output_dir=tmp_path / "run"
        )
    slow_sent = next(at for at, prompt in arrivals if prompt == slow)
    judged_meanwhile = [at for at, prompt in arrivals if prompt not in instructions and at < slow_sent + 2.9]
    # Streamed, the other 11 records are answered and judged while the slow answer is on its way; stage by stage,
    # no judge request goes out before the last answer of the responses stage.
    assert len(judged_meanwhile) == (11 if streaming else 0)


def test_a_transient_failure_leaves_its_chunk_unwritten_and_a_rerun_asks_only_what_failed(
    tmp_path: Path, small_chunks: int
) -> None:
    instructions = _instructions()
    with FakeLLMServer(Plausible(), faults=Faults(server_error=0.15, seed=5)) as server:
        recipe = _recipe(tmp_path, server.base_url, instructions, max_error_rate=None)
        with pytest.raises(IncompleteStageError, match="failed transiently") as caught:
            SyntheticDataPipeline(None, recipe).run(output_dir=tmp_path / "run")
        assert "re-run to retry them" in str(caught.value)
        first = server.stats()
        stream = tmp_path / "run" / "stages" / "01-responses" / "stream"
        written = sorted(path.name for path in stream.glob("part-*.parquet"))
        assert 0 < len(written) < 5, written  # chunks without a failure are kept, the others are not
        server.set_faults(None)
        result = SyntheticDataPipeline(None, recipe).run(output_dir=tmp_path / "run")
        total = server.stats()
    failed = first["faults"]["500"]
    assert failed > 0
    final = result.dataset.to_pandas()
    assert sorted(final["id"]) == sorted(f"r{i}" for i in range(N))  # every record once
    assert final["reward_overall"].notna().all()
    assert result.stages[1]["rejections"] == {}
    assert result.stages[2]["rejections"] == {}
    # Two requests per record, plus those that failed once: nothing answered was paid again.
    assert total["requests"] - failed == 2 * N
