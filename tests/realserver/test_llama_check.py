"""``curator-synth check`` and the run's pre-flight against a real llama.cpp server: what it supports (it ignores
n, answers json_schema with a 500, takes json_object with a schema, gives logprobs), and the warning for a model
name it does not list (it answers any name)."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from curator_synth.cli import app
from curator_synth.clients import AsyncOpenAIClient
from curator_synth.clients.capabilities import preflight

MODEL = "tiny-random"


def _rows(output: str) -> dict[str, str]:
    return {name.strip(): value.strip() for name, _, value in (line.partition("  ") for line in output.splitlines())}


def test_check_finds_what_llama_cpp_supports(llama: Any) -> None:
    result = CliRunner().invoke(app, ["check", "--base-url", llama.base_url, "--model", MODEL])
    assert result.exit_code == 0, result.output
    rows = _rows(result.output)
    found = {name: rows[name] for name in ("models listed", "n > 1", "response_format json_schema",
                                            "response_format json_object + schema", "logprobs")}  # fmt: skip
    assert found == {
        "models listed": MODEL, "n > 1": "no", "response_format json_schema": "no",
        "response_format json_object + schema": "yes", "logprobs": "yes",
    }  # fmt: skip
    assert rows["latency"].endswith(" s")
    assert "warning:" not in result.output


async def test_a_model_name_llama_cpp_does_not_list_is_warned_about(llama: Any) -> None:
    async with AsyncOpenAIClient(base_url=llama.base_url, api_key="none") as client:
        found = await preflight(client, "llama-3.1-8b-instruct")
        assert client.stats.requests_sent == 0  # the listing only: nothing generated, nothing paid
    assert found.models == [MODEL]
    assert len(found.warnings) == 1
    assert "'llama-3.1-8b-instruct'" in found.warnings[0]
