"""The generator base against a real loopback server: templates under their namespace, fan-out, sync twin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from curator_synth.clients import AsyncOpenAIClient, Journal, OpenAIClient
from curator_synth.errors import ConfigError, ServerError
from curator_synth.generators import BaseGenerator, sync_generator
from curator_synth.generators.base import template_of
from curator_synth.prompts import PromptTemplate
from curator_synth.testing import Echo, FakeLLMServer, Faults

SHOUT = PromptTemplate("test.shout", 2, "Shout {word}")


class AsyncShouter(BaseGenerator):
    """Test generator: one template, one parse step."""

    family = "test"

    async def shout(self, word: str, model: str | None = None) -> str:
        return (await self.ask_one(SHOUT, {"word": word}, model=model)).upper()

    async def shout_all(self, words: list[str]) -> object:
        return await self.fan_out(self.shout, words)

    def describe(self) -> str:
        return f"shouter({self.model})"


Shouter = sync_generator(AsyncShouter, "Shouter")


async def test_ask_runs_under_the_template_namespace(tmp_path: Path) -> None:
    with FakeLLMServer(responder=Echo()) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path) as client:
            generator = AsyncShouter(client, "m", params={"temperature": 0.3})
            assert await generator.shout("hey") == "SHOUT HEY"
            request = server.stats()
        assert request["requests"] == 1
    records = list(Journal.read(tmp_path))
    assert [r.namespace for r in records] == ["test.shout@2"]
    assert b'"temperature":0.3' in records[0].request


async def test_fan_out_reports_failures_without_aborting() -> None:
    faults = Faults(script=["500", "500", "500"])
    with FakeLLMServer(responder=Echo(), faults=faults) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, max_retries=0, max_concurrency=1) as client:
            generator = AsyncShouter(client, "m", max_pending=1)
            result = await generator.shout_all(["a", "b", "c", "d", "e"])
    assert result.items == ["SHOUT D", "SHOUT E"]  # type: ignore[attr-defined]
    assert [f.index for f in result.failures] == [0, 1, 2]  # type: ignore[attr-defined]
    assert [f.input for f in result.failures] == ["a", "b", "c"]  # type: ignore[attr-defined]
    assert isinstance(result.failures[0].error, ServerError)  # type: ignore[attr-defined]
    assert "ServerError" in result.failures[0].reason  # type: ignore[attr-defined]
    with pytest.raises(ServerError):
        result.raise_on_failure()  # type: ignore[attr-defined]


def test_generated_sync_twin() -> None:
    with FakeLLMServer(responder=Echo()) as server, OpenAIClient(base_url=server.base_url) as client:
        shouter = Shouter(client, "m")
        assert shouter.shout("yo") == "SHOUT YO"
        assert shouter.shout_all(["x", "y"]).items == ["SHOUT X", "SHOUT Y"]
        assert shouter.describe() == "shouter(m)"
        assert shouter.model == "m"
        assert shouter.async_generator.client is client.async_client  # shares limits and journal
    assert Shouter.shout.__doc__ == AsyncShouter.shout.__doc__


def test_model_is_required_somewhere() -> None:
    with FakeLLMServer() as server, OpenAIClient(base_url=server.base_url) as client:
        with pytest.raises(ConfigError, match="pass model="):
            Shouter(client).shout("x")
        assert Shouter(client).shout("x", model="m") == "SHOUT X"


def test_provenance_and_plain_string_templates() -> None:
    with FakeLLMServer() as server, OpenAIClient(base_url=server.base_url) as client:
        generator = AsyncShouter(client, "m", params={"temperature": 0.5})
        record = generator.provenance(SHOUT, method="shout", parents=["p1"], seed=3)
    assert record["template"] == "test.shout"
    assert record["template_version"] == 2
    assert record["model"] == "m"
    assert record["params"] == {"temperature": 0.5}
    assert record["parents"] == ["p1"]
    assert record["seed"] == 3
    custom = template_of("Tell me about {topic}", "test")
    assert custom.fields == {"topic"}
    assert custom.id.startswith("test.custom.")
    assert template_of("Tell me about {topic}", "test").id == custom.id


async def test_n_may_come_from_params_model_kwargs_or_the_argument() -> None:
    with FakeLLMServer(responder=Echo()) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            generator = AsyncShouter(client, "m", params={"n": 2})
            assert len(await generator.ask(SHOUT, {"word": "a"})) == 2
            assert len(await generator.ask(SHOUT, {"word": "b"}, model_kwargs={"n": 3})) == 3
            assert len(await generator.ask(SHOUT, {"word": "c"}, model_kwargs={"n": 3}, n=1)) == 1


async def test_ask_messages_sends_a_ready_conversation(tmp_path: Path) -> None:
    conversation = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    conversation.append({"role": "user", "content": "again"})
    with FakeLLMServer(responder=Echo()) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path) as client:
            answer = await AsyncShouter(client, "m").ask_messages(conversation, namespace="test.turn@1")
    assert answer == ["again"]
    assert [r.namespace for r in Journal.read(tmp_path)] == ["test.turn@1"]


def test_registry_and_complete_prompt_catalogue() -> None:
    from curator_synth.generators import GENERATORS
    from curator_synth.prompts import PROMPTS

    assert {"nemotron", "evol_instruct", "self_instruct"} <= set(GENERATORS.names())
    ids = PROMPTS.names()
    for family in ("nemotron.", "evol.", "self_instruct."):
        assert any(i.startswith(family) for i in ids), family


def test_provenance_names_the_class_the_caller_used() -> None:
    with FakeLLMServer() as server, OpenAIClient(base_url=server.base_url) as client:
        assert Shouter(client, "m").provenance(SHOUT, method="shout")["generator"] == "Shouter"
        assert AsyncShouter(client, "m").provenance(SHOUT, method="shout")["generator"] == "AsyncShouter"


async def test_a_subclass_decides_which_clients_it_accepts() -> None:
    class Answers:
        """Not an LLMClient: only a query_model coroutine."""

        async def query_model(self, **kwargs: object) -> list[str]:
            return [f"echo {kwargs['model']}"]

    class AsyncLenient(AsyncShouter):
        @classmethod
        def accept_client(cls, client: Any) -> Any:
            return client

    with pytest.raises(ConfigError, match="expected an LLMClient"):
        AsyncShouter(Answers(), "m")
    given = Answers()
    lenient = AsyncLenient(given, "m")
    assert lenient.client is given
    assert await lenient.shout("x") == "ECHO M"
