"""The progress display (issue 16, point 5): per stage, its name, records done of total, requests sent / ok /
retried / failed, tokens in and out, tokens per second, spend and ETA — a live table on a terminal, plain
periodic lines elsewhere — read from the pipeline's RunStatus."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from curator_synth.cli import _progress, app
from curator_synth.clients.stats import ClientStats, UsageMeter
from curator_synth.distributed import PartitionStats
from curator_synth.pipeline import SyntheticDataPipeline
from curator_synth.pipeline.config import PricingConfig
from curator_synth.pipeline.progress import RunStatus
from curator_synth.testing import FakeLLMServer, Faults, Plausible


def test_a_stage_reports_live_usage_progress_eta_and_spend() -> None:
    status = RunStatus.of(
        [("load", False), ("responses", True)], PricingConfig(prompt_per_1m=2.0, completion_per_1m=8.0)
    )
    status.finish(0, {"records_in": 0, "records_out": 100, "seconds": 0.5})
    driver = ClientStats()
    driver.requests_sent = 7  # sent before this stage: not charged to it
    with UsageMeter([driver]) as meter:
        stage = status.start(1, 100, meter)
        assert status.current is stage
        assert stage.records_done is None
        assert stage.eta() is None
        worker = ClientStats()  # a partition's client, made on a Dask thread while the stage runs
        worker.requests_sent, worker.responses_ok, worker.prompt_tokens, worker.completion_tokens = 30, 28, 3000, 900
        worker.retries["RateLimitError"] = 2
        worker.failures["ServerError"] = 1
        driver.requests_sent += 5
        driver.responses_ok += 5
        status.partition_done(1, 1, 4)
        stage.started -= 10.0  # type: ignore[operator]  # ten seconds in
        assert stage.records_done == 25
        assert stage.eta() == pytest.approx(30.0, abs=0.5)
        assert stage.usage == {"requests": 35, "ok": 33, "retries": 2, "failed": 1, "from_journal": 0,
                               "prompt_tokens": 3000, "completion_tokens": 900,
                               "batch_prompt_tokens": 0, "batch_completion_tokens": 0}  # fmt: skip
        assert status.spend(stage.usage) == pytest.approx((3000 * 2 + 900 * 8) / 1e6)
        # Tokens sent through a batch API cost pricing.batch_discount (0.5) times as much.
        assert status.spend({**stage.usage, "batch_prompt_tokens": 3000}) == pytest.approx((1500 * 2 + 900 * 8) / 1e6)
        line = _progress.plain_line(stage, status)
        assert line.startswith(
            "[  10 s] 01-responses running: 25/100 records, requests 35 (33 ok, 2 retried, 1 failed)"
        )
        assert "tokens 3.0k in / 900 out" in line
        assert "spend 0.0132 USD" in line
        assert "ETA 30 s" in line
    status.finish(1, {"records_in": 100, "records_out": 97, "seconds": 40.0})
    assert status.stages[1].usage["requests"] == 35, "the final counts stay when the meter closes"
    console = Console(file=io.StringIO(), width=160, record=True)
    console.print(_progress.status_table(status))
    text = console.export_text()
    assert "01 responses" in text
    assert "100 -> 97" in text
    assert "35/33/2/1" in text


def test_a_cluster_partition_adds_its_usage_when_it_finishes() -> None:
    status = RunStatus.of([("responses", True)])
    with UsageMeter() as meter:
        stage = status.start(0, 20, meter)
        status.partition_done(0, 1, 2, PartitionStats(0, rows_in=10, requests_sent=10, prompt_tokens=500))
        assert stage.usage["requests"] == 10  # nothing was seen live: the worker's counts come with its partition
        assert stage.usage["prompt_tokens"] == 500


def test_plain_lines_on_a_run_that_is_not_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_progress, "PLAIN_INTERVAL", 0.3)
    data = tmp_path / "instructions.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"Name a colour ({i})."}) + "\n" for i in range(24)))
    recipe = tmp_path / "recipe.json"
    faults = Faults(rate_limit=0.15, retry_after=0.05, seed=3)
    with FakeLLMServer(responder=Plausible(), latency=0.1, faults=faults) as server:
        recipe.write_text(json.dumps({
            "name": "progress", "model": "m", "client": {"base_url": server.base_url, "max_concurrency": 4},
            "report": {"enabled": False}, "pricing": {"prompt_per_1m": 1, "completion_per_1m": 2},
            "stages": [{"stage": "load", "path": str(data)}, {"stage": "responses"}],
        }))  # fmt: skip
        result = CliRunner().invoke(app, ["run", str(recipe), "--output-dir", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    running = [line for line in lines if "01-responses running:" in line]
    assert running, result.output  # at least one periodic line while the stage ran (~0.8 s)
    assert "/24 records, requests" in running[0]
    done = next(line for line in lines if "01-responses done:" in line)
    assert "24 -> 24 records, requests " in done
    assert int(re.search(r"(\d+) retried", done).group(1)) > 0, done  # type: ignore[union-attr]  # the 429s
    assert "spend " in done
    assert any("00-load done: 0 -> 24 records" in line for line in lines)


def test_the_pipeline_status_is_there_for_python_callers(tmp_path: Path) -> None:
    data = tmp_path / "instructions.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"Say {i}."}) + "\n" for i in range(3)))
    with FakeLLMServer(responder=Plausible()) as server:
        recipe = {"name": "s", "model": "m", "client": {"base_url": server.base_url}, "report": {"enabled": False},
                  "stages": [{"stage": "load", "path": str(data)}, {"stage": "responses"}]}  # fmt: skip
        pipeline = SyntheticDataPipeline(None, recipe)
        assert pipeline.status is None
        pipeline.run(output_dir=tmp_path / "run")
    assert pipeline.status is not None
    assert [stage.state for stage in pipeline.status.stages] == ["done", "done"]
    assert pipeline.status.stages[1].usage["requests"] == 3
    again = SyntheticDataPipeline(None, recipe)
    again.run(output_dir=tmp_path / "run")
    assert again.status is not None
    assert [stage.state for stage in again.status.stages] == ["resumed", "resumed"]
