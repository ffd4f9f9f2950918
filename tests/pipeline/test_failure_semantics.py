"""Every request ends answered, rejected with a reason, or failed transiently — and a transient failure never
becomes a rejection (issue 13: defects 2, 3, 10, 11, 16 and the rules of docs/reliability.md), on real sockets
against FakeLLMServer and real files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from curator_synth.errors import ConfigError, IncompleteStageError, StageError
from curator_synth.pipeline import SyntheticDataPipeline
from curator_synth.testing import FakeLLMServer, Faults, Fixed


def _records(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps({"instruction": f"Question {i}?"}) + "\n" for i in range(n)))
    return path


def _recipe(tmp_path: Path, base_url: str, n: int = 40, **client: Any) -> dict[str, Any]:
    return {
        "name": "semantics",
        "model": "m",
        "client": {"base_url": base_url, "max_concurrency": 8, "max_retries": 1, **client},
        "dask": {"cluster": "threads"},
        "stages": [{"stage": "load", "path": str(_records(tmp_path / "records.jsonl", n))}, {"stage": "responses"}],
        "report": {"enabled": False},
    }


def _run(recipe: dict[str, Any], out: Path) -> Any:
    return SyntheticDataPipeline(None, recipe).run(output_dir=out)


@pytest.mark.parametrize("fault", ["server_error", "drop", "error_body", "empty_choices"])
def test_transient_failures_leave_the_stage_unfinished_and_a_rerun_finishes_it(tmp_path: Path, fault: str) -> None:
    with FakeLLMServer(Fixed("an answer"), faults=Faults(**{fault: 0.5}, seed=3)) as server:
        recipe = _recipe(tmp_path, server.base_url, max_retries=0, max_error_rate=None)
        with pytest.raises(IncompleteStageError, match=r"responses: \d+ requests? failed transiently") as caught:
            _run(recipe, tmp_path / "run")
        assert "re-run to retry them" in str(caught.value)
        assert not (tmp_path / "run" / "stages" / "01-responses" / "manifest.json").exists()
        answered = server.stats()["responses_ok"]
        server.set_faults(None)
        server.reset_stats()
        result = _run(recipe, tmp_path / "run")
        asked_again = server.stats()["requests"]
    assert len(result) == 40, "a transiently failed row became a rejection"
    assert result.stages[1]["rejections"] == {}
    assert asked_again == 40 - answered  # exactly the failed ones are asked again


def test_timeouts_after_the_retries_are_transient(tmp_path: Path) -> None:
    with FakeLLMServer(Fixed("late"), latency=3.0) as server, pytest.raises(IncompleteStageError, match="Timeout"):
        _run(_recipe(tmp_path, server.base_url, n=4, timeout=0.3, max_retries=0), tmp_path / "run")


def test_the_error_budget_stops_a_stage_against_a_failing_endpoint_early(tmp_path: Path) -> None:
    with FakeLLMServer(Fixed("never"), faults=Faults(server_error=1.0)) as server:
        recipe = _recipe(tmp_path, server.base_url, n=400, max_retries=0, max_concurrency=4)
        with pytest.raises(IncompleteStageError, match="error budget spent") as caught:
            _run(recipe, tmp_path / "run")
        sent = server.stats()["requests"]
    print(f"error budget: {sent} of 400 requests sent before the stage stopped; {caught.value}")
    assert sent < 100, f"{sent} requests sent to an endpoint that failed every one"
    assert "the remaining requests are not sent" in str(caught.value)  # streamed: one budget for the chain


def test_without_a_budget_every_request_is_tried(tmp_path: Path) -> None:
    with FakeLLMServer(Fixed("never"), faults=Faults(server_error=1.0)) as server:
        recipe = _recipe(tmp_path, server.base_url, n=60, max_retries=0, max_error_rate=None)
        with pytest.raises(IncompleteStageError, match="ServerError 60"):
            _run(recipe, tmp_path / "run")
        assert server.stats()["requests"] == 60


def test_a_changed_endpoint_reruns_the_stage_and_asks_the_new_server(tmp_path: Path) -> None:
    with FakeLLMServer(Fixed("from A")) as first, FakeLLMServer(Fixed("from B")) as second:
        out = tmp_path / "run"
        assert set(_run(_recipe(tmp_path, first.base_url), out).dataset.to_pandas()["response"]) == {"from A"}
        result = _run(_recipe(tmp_path, second.base_url), out)
        assert set(result.dataset.to_pandas()["response"]) == {"from B"}
        assert not result.stages[1]["resumed"]
        assert second.stats()["requests"] == 40
        again = _run(_recipe(tmp_path, first.base_url), out)  # back to A: its journal answers, for free
        assert set(again.dataset.to_pandas()["response"]) == {"from A"}
        assert first.stats()["requests"] == 40


def test_a_recipe_is_validated_whole_before_the_first_request(tmp_path: Path) -> None:
    with FakeLLMServer(Fixed("an answer")) as server:
        recipe = _recipe(tmp_path, server.base_url)
        recipe["stages"].append({"stage": "filter", "filters": [{"name": "safty"}]})
        with pytest.raises(ConfigError, match=r"stages\[2\]\.filters\[0\]\.name: .*'safty'.*did you mean 'safety'"):
            _run(recipe, tmp_path / "run")
        recipe["stages"][2] = {"stage": "sample", "strategy": "cluster_balancedd"}
        with pytest.raises(ConfigError, match="did you mean 'cluster_balanced'"):
            _run(recipe, tmp_path / "run")
        recipe["stages"][2] = {"stage": "dedup", "method": "fuzzy"}
        recipe["exports"] = [{"format": "alpacca", "path": "x.jsonl"}]
        with pytest.raises(ConfigError, match=r"exports\[0\]\.format: .*did you mean 'alpaca'"):
            _run(recipe, tmp_path / "run")
        assert server.stats()["requests"] == 0, "requests were sent before the recipe was known to be valid"


def test_a_missing_key_variable_is_found_before_the_first_request(tmp_path: Path) -> None:
    with FakeLLMServer(Fixed("an answer")) as server:
        recipe = _recipe(tmp_path, server.base_url, api_key_env="CURATOR_SYNTH_TEST_NOT_SET")
        with pytest.raises(ConfigError, match="CURATOR_SYNTH_TEST_NOT_SET is not set"):
            _run(recipe, tmp_path / "run")
        assert server.stats()["requests"] == 0


def test_a_run_that_keeps_nothing_fails_and_exports_nothing(tmp_path: Path) -> None:
    recipe = {
        "name": "nothing",
        "dask": {"cluster": "threads"},
        "stages": [
            {"stage": "load", "path": str(_records(tmp_path / "records.jsonl", 10))},
            {"stage": "filter", "filters": [{"name": "word_count", "field": "instruction", "min_words": 50}]},
        ],
        "exports": [{"format": "alpaca", "path": "exports/alpaca.jsonl"}],
        "report": {"enabled": False},
    }
    with pytest.raises(StageError, match=r"no records: stage 'filter' kept 0 of 10 \(word_count/"):
        _run(recipe, tmp_path / "run")
    assert not (tmp_path / "run" / "exports").exists()
    assert not (tmp_path / "run" / "final").exists()


def test_hints_follow_the_error_type(tmp_path: Path) -> None:
    with FakeLLMServer(Fixed("not a judgement at all")) as server:
        recipe = _recipe(tmp_path, server.base_url, n=6)
        recipe["stages"][1] = {"stage": "score", "mode": "llm_judge"}
        with pytest.raises(StageError) as caught:
            _run(recipe, tmp_path / "run")
    message = str(caught.value)
    assert "all 6 records failed" in message
    assert "the answers could not be used" in message
    assert "Check the endpoint" not in message


def test_a_key_echoed_across_the_excerpt_cut_never_reaches_the_error_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-straddle-0123456789abcdef"

    def refuse_half(request: Any) -> str:
        if int(request.prompt.split()[1].rstrip("?")) % 2:
            raise ValueError("x" * 280 + key)  # the server's 400 message echoes the key across the 300-char cut
        return "fine"

    monkeypatch.setenv("STRADDLE_KEY", key)
    with FakeLLMServer(refuse_half, api_key=key) as server:
        result = _run(_recipe(tmp_path, server.base_url, n=10, api_key_env="STRADDLE_KEY"), tmp_path / "run")
    assert len(result) == 5
    stage = tmp_path / "run" / "stages" / "01-responses" / "stream"  # streamed: a part per chunk of records
    parts = pd.concat(pd.read_parquet(path) for path in stage.glob("*.parquet"))
    errors = " ".join(parts["llm_error"].dropna())
    assert "BadRequestError" in errors
    for start in range(len(key) - 5):
        assert key[start : start + 6] not in errors
    assert result.stages[1]["rejections"] == {"responses": {"BadRequestError": 5}}


def test_a_full_disk_in_a_pipeline_stops_at_once_and_a_rerun_pays_only_the_rest(
    tmp_path: Path, small_disks: Any
) -> None:
    from curator_synth.clients import Journal

    disk = small_disks.make("4m")
    out = disk / "run"
    with FakeLLMServer(Fixed("word " * 1600)) as server:  # ~8 KB answers: 600 of them do not fit
        recipe = _recipe(tmp_path, server.base_url, n=600, max_concurrency=16)
        with pytest.raises(IncompleteStageError, match="no space left on device") as caught:
            _run(recipe, out)
        answered = server.stats()["responses_ok"]
        journaled = sum(len(list(Journal.read(path.parent))) for path in out.rglob("journal.sqlite3"))
        print(f"full disk in a pipeline: {answered} answered, {journaled} journaled; {caught.value}")
        assert answered < 600, "the run kept sending after the disk was full"
        assert answered - journaled <= 16, f"{answered - journaled} paid answers were lost (window 16)"

        small_disks.resize(disk, "64m")
        server.reset_stats()
        result = _run(recipe, out)
        asked_again = server.stats()["requests"]
    assert len(result) == 600
    assert asked_again == 600 - journaled, "a re-run paid again for journaled answers"


def test_a_driver_stage_against_a_dead_endpoint_is_unfinished_not_failed(tmp_path: Path) -> None:
    import socket

    import curator_synth

    with socket.socket() as probe:  # a port nobody listens on: every connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    seeds = Path(curator_synth.__file__).parent / "data" / "self_instruct" / "seed_tasks.jsonl"
    recipe = {
        "name": "dead",
        "model": "m",
        "seeds": str(seeds),
        # check: false: the pre-flight would stop the run before the stage (tests/pipeline/test_preflight.py)
        "client": {"base_url": f"http://127.0.0.1:{port}/v1", "max_retries": 0, "check": False},
        "dask": {"cluster": "threads"},
        "stages": [{"stage": "self_instruct", "num_instructions": 4}],
        "report": {"enabled": False},
    }
    with pytest.raises(IncompleteStageError, match=r"self_instruct: \d+ requests failed transiently \(ConnectError"):
        _run(recipe, tmp_path / "run")
