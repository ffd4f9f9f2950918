"""The endpoint pre-flight (issue 14): before a recipe's first LLM stage, the model listing is read (a warning when
the recipe's model is not listed, the context length when the endpoint gives it, all kept in capabilities.json);
a prompt that cannot fit the context is rejected unsent (``prompt_too_long``); a stopped endpoint or a refused key
fails the run before any generation request. ``curator-synth check`` prints the whole table. Against FakeLLMServer
on loopback, through the real pipeline and CLI."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from curator_synth.cli import app
from curator_synth.clients.capabilities import FILE, Capabilities
from curator_synth.errors import AuthenticationError, ConnectError
from curator_synth.pipeline import SyntheticDataPipeline
from curator_synth.testing import FakeLLMServer, Fixed


def invoke(*args: object) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def _recipe(tmp_path: Path, base_url: str, instructions: list[str], model: str = "fake-model",
            **client: Any) -> dict[str, Any]:  # fmt: skip
    records = tmp_path / "records.jsonl"
    records.write_text("".join(json.dumps({"instruction": text}) + "\n" for text in instructions))
    return {
        "name": "preflight", "model": model, "client": {"base_url": base_url, "max_retries": 0, **client},
        "dask": {"cluster": "threads"}, "report": {"enabled": False},
        "stages": [{"stage": "load", "path": str(records)}, {"stage": "responses", "max_tokens": 20}],
    }  # fmt: skip


def _questions(count: int) -> list[str]:
    return [f"Question {i}?" for i in range(count)]


def test_the_preflight_warns_of_an_unlisted_model_and_keeps_the_capabilities(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with FakeLLMServer(Fixed("an answer")) as server:
        recipe = _recipe(tmp_path, server.base_url, _questions(6), model="llama-3-typo")
        with caplog.at_level(logging.WARNING, logger="curator_synth.pipeline.checks"):
            result = SyntheticDataPipeline(None, recipe).run(output_dir=tmp_path / "run")
        stats = server.stats()
    assert len(result) == 6
    assert stats["by_endpoint"]["models"] == 1  # once, before the first LLM stage
    assert stats["requests"] == 6  # the listing is not a generation request
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert any("fake-model" in text and "'llama-3-typo'" in text and "model name" in text for text in warnings)
    found = Capabilities.load(tmp_path / "run")
    assert found is not None
    assert (found.model, found.models) == ("llama-3-typo", ["fake-model"])
    assert len(found.warnings) == 1
    assert "llama-3-typo" in found.warnings[0]


def test_a_listed_model_gives_no_warning_and_check_false_skips_the_preflight(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with FakeLLMServer(Fixed("an answer")) as server:
        with caplog.at_level(logging.WARNING, logger="curator_synth.pipeline.checks"):
            SyntheticDataPipeline(None, _recipe(tmp_path, server.base_url, _questions(3))).run(
                output_dir=tmp_path / "a"
            )
        assert not [record for record in caplog.records if record.name == "curator_synth.pipeline.checks"]
        assert json.loads((tmp_path / "a" / FILE).read_text())["warnings"] == []
        server.reset_stats()
        recipe = _recipe(tmp_path, server.base_url, _questions(3), check=False)
        SyntheticDataPipeline(None, recipe).run(output_dir=tmp_path / "b")
        assert server.stats()["by_endpoint"]["models"] == 0
    assert not (tmp_path / "b" / FILE).exists()


def test_a_prompt_that_cannot_fit_the_context_is_rejected_unsent(tmp_path: Path) -> None:
    # The context (120 fake tokens: words) comes from the listing's max_model_len, as vLLM gives it. Long prompts
    # are refused before sending (prompt_too_long); a prompt the low estimate lets through but the server counts
    # over the context is refused by the server (context_length), never retried.
    long = [f"{i} " + " ".join(["word"] * 400) for i in range(2)]  # ~2,000 characters: surely too long
    dense = " ".join(["a"] * 150)  # 300 characters, 150 words: the estimate fits, the server's count does not
    instructions = [*_questions(4), *long, dense]
    with FakeLLMServer(Fixed("an answer"), context_length=120) as server:
        result = SyntheticDataPipeline(None, _recipe(tmp_path, server.base_url, instructions)).run(
            output_dir=tmp_path / "run"
        )
        stats = server.stats()
    assert len(result) == 4
    assert result.stages[1]["rejections"]["responses"] == {"prompt_too_long": 2, "context_length": 1}
    assert stats["requests"] == 5  # the four short prompts and the dense one; the long ones were never sent
    assert stats["by_status"] == {"200": 5, "400": 1}  # the listing, four answers; the dense one refused
    assert json.loads((tmp_path / "run" / FILE).read_text())["context_length"] == 120


def test_a_recipe_context_length_applies_without_a_listing_that_gives_one(tmp_path: Path) -> None:
    long = " ".join(["word"] * 400)
    with FakeLLMServer(Fixed("an answer")) as server:
        recipe = _recipe(tmp_path, server.base_url, [*_questions(2), long], context_length=100)
        result = SyntheticDataPipeline(None, recipe).run(output_dir=tmp_path / "run")
        assert server.stats()["requests"] == 2
    assert result.stages[1]["rejections"]["responses"] == {"prompt_too_long": 1}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_stopped_endpoint_fails_the_run_before_any_stage_work(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, f"http://127.0.0.1:{_free_port()}/v1", _questions(3))
    with pytest.raises(ConnectError) as caught:
        SyntheticDataPipeline(None, recipe).run(output_dir=tmp_path / "run")
    assert caught.value.transient
    assert not (tmp_path / "run" / "stages" / "01-responses" / "parts").exists()
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe))
    result = invoke("run", path, "--output-dir", tmp_path / "cli")
    assert result.exit_code == 75, result.output
    assert "Traceback" not in result.output
    assert "the endpoint check before the first LLM stage failed: connection failed" in result.output
    assert "127.0.0.1" in result.output


def test_a_refused_key_fails_before_any_generation_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFLIGHT_KEY", "sk-wrong-key-0123456789")
    with FakeLLMServer(Fixed("an answer"), api_key="sk-right") as server:
        recipe = _recipe(tmp_path, server.base_url, _questions(3), api_key_env="PREFLIGHT_KEY")
        with pytest.raises(AuthenticationError) as caught:
            SyntheticDataPipeline(None, recipe).run(output_dir=tmp_path / "run")
        stats = server.stats()
    assert stats["by_endpoint"] == {"chat": 0, "completions": 0, "models": 1}
    assert "sk-wrong-key" not in str(caught.value)


def test_the_check_command_prints_what_the_endpoint_supports(tmp_path: Path) -> None:
    with FakeLLMServer(Fixed("OK"), context_length=4096) as server:
        result = invoke("check", "--base-url", server.base_url, "--model", "other-model")
        assert result.exit_code == 0, result.output
        rows = dict(line.split("  ", 1) for line in result.output.splitlines() if "  " in line)
        shown = {name: rows[name].strip() for name in ("n > 1", "logprobs", "context length")}
        assert shown == {"n > 1": "yes", "logprobs": "no", "context length": "4096"}  # Fixed gives no logprobs
        assert "warning:" in result.output
        assert "'other-model'" in result.output
        recipe = tmp_path / "recipe.json"
        recipe.write_text(json.dumps({**_recipe(tmp_path, server.base_url, _questions(1)),
                                      "output_dir": str(tmp_path / "out")}))  # fmt: skip
        result = invoke("check", recipe)
        assert result.exit_code == 0, result.output
    found = Capabilities.load(tmp_path / "out")
    assert found is not None
    assert (found.model, found.n, found.warnings) == ("fake-model", True, [])
    assert found.latency is not None


def test_the_check_command_fails_in_seconds_on_a_stopped_endpoint() -> None:
    result = invoke("check", "--base-url", f"http://127.0.0.1:{_free_port()}/v1", "--model", "m")
    assert result.exit_code == 75, result.output
    assert "Traceback" not in result.output
    assert "failed: connection failed" in result.output
    assert "Check that the endpoint (client.base_url) is up and reachable." in result.output
