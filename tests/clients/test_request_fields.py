"""query_model's extra keyword arguments: request fields are sent, ``extra_body`` is merged, anything else is an
error before a request goes out (issue 18: NeMo 1.x's ``generation_config=`` used to be sent as an unknown field
and the user's sampling settings were lost without a word)."""

from __future__ import annotations

from typing import Any

import pytest

from curator_synth import AsyncOpenAIClient, OpenAIClient
from curator_synth.errors import ConfigError, UnknownParameterError
from curator_synth.testing import FakeLLMServer, Fixed, Recording

USER = [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize("transport", ["aiohttp", "openai"])
async def test_known_fields_and_extra_body_are_sent(transport: str) -> None:
    seen = Recording(Fixed("ok"))
    with FakeLLMServer(responder=seen) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="k", transport=transport) as client:
            answer = await client.query_model(
                messages=USER, model="m", temperature=0.3, top_k=5, presence_penalty=0.5,
                extra_body={"min_tokens": 2, "guided_choice": ["a", "b"]},
            )  # fmt: skip
    assert answer == ["ok"]
    body = seen.bodies[-1]
    assert (body["temperature"], body["top_k"], body["presence_penalty"]) == (0.3, 5, 0.5)
    assert (body["min_tokens"], body["guided_choice"]) == (2, ["a", "b"])
    assert "extra_body" not in body


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"generation_config": {"temperature": 0.0, "max_tokens": 2048}}, "generation_config"),
        ({"temprature": 0.2}, "temprature"),
        ({"min_tokens": 2}, "min_tokens"),
    ],
)
async def test_an_unknown_keyword_is_an_error_and_nothing_is_sent(extra: dict[str, Any], named: str) -> None:
    with FakeLLMServer() as server:
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="k") as client:
            with pytest.raises(UnknownParameterError, match=named) as caught:
                await client.query_model(messages=USER, model="m", **extra)
        assert server.stats()["requests"] == 0
    # Python's own kind of error for an unexpected keyword, and the project's config error for the CLI
    assert isinstance(caught.value, TypeError)
    assert isinstance(caught.value, ConfigError)
    assert "extra_body" in str(caught.value)


def test_the_blocking_client_and_raw_completion_check_the_same_way() -> None:
    with FakeLLMServer() as server, OpenAIClient(base_url=server.base_url, api_key="k") as client:
        with pytest.raises(UnknownParameterError, match="GenerationConfig"):
            client.query_model(messages=USER, model="m", generation_config={"seed": 0})
        with pytest.raises(UnknownParameterError, match="extra_body must be a dict"):
            client.query_model(messages=USER, model="m", extra_body=["min_tokens"])
        assert server.stats()["requests"] == 0


async def test_extra_body_cannot_override_named_arguments() -> None:
    with FakeLLMServer() as server:
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="k") as client:
            with pytest.raises(ConfigError, match="temperature"):
                await client.query_model(messages=USER, model="m", extra_body={"temperature": 2.0})
            with pytest.raises(UnknownParameterError):
                await client.raw_completion(messages=USER, model="m", generation_config={})
        assert server.stats()["requests"] == 0
