"""``curator_synth.nemo.models.client``: NeMo Curator 1.x client code runs after renaming its imports (issue 18).

On loopback, through the real openai SDK: ``GenerationConfig`` (a dataclass or a dict, 1.x's defaults) reaches the
request, ``setup()`` builds the SDK client from the keyword arguments (``organization=`` included),
``max_concurrent_requests`` bounds the requests in flight, and a subclass implementing ``setup`` and
``_query_model_impl`` gets the bound and the retries: transient failures (503, 429 with ``Retry-After``) are
asked again, a 400 is not. Unknown settings are errors, never dropped; the API key stays out of reprs and logs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import openai
import pytest

from curator_synth.errors import ConfigError
from curator_synth.nemo.models.client import AsyncLLMClient, AsyncOpenAIClient, GenerationConfig, OpenAIClient
from curator_synth.testing import Echo, FakeLLMServer, Faults, Fixed, Recording

KEY = "sk-nemo-1x-secret-0123456789"
HELLO = [{"role": "user", "content": "Hello"}]


def test_a_nemo_1x_async_snippet_runs_unchanged() -> None:
    seen = Recording(Echo("re: "))
    with FakeLLMServer(responder=seen, latency=0.05, api_key=KEY) as server:
        # --- NeMo 1.x code, imports renamed ---
        client = AsyncOpenAIClient(
            max_concurrent_requests=3, max_retries=2, base_delay=0.01,
            base_url=server.base_url, api_key=KEY, organization="org-nemo", timeout=30,
        )  # fmt: skip
        client.setup()
        config = GenerationConfig(max_tokens=64, temperature=0.7, seed=11, extra_kwargs={"extra_body": {"top_k": 4}})

        async def main() -> list[list[str]]:
            asks = [[{"role": "user", "content": f"q{i}"}] for i in range(12)]
            return await asyncio.gather(
                *(client.query_model(messages=ask, model="m", generation_config=config) for ask in asks)
            )

        answers = asyncio.run(main())
        # --- end of the snippet ---
        assert answers == [[f"re: q{i}"] for i in range(12)]
        again = asyncio.run(main())  # another event loop: the SDK client is set up again for it
        assert again == answers
        assert server.stats()["max_in_flight"] == 3  # max_concurrent_requests bounds the requests in flight
    assert isinstance(client.client, openai.AsyncOpenAI)
    assert client.client.organization == "org-nemo"  # the SDK's own keyword arguments reach it
    body = seen.bodies[0]
    assert (body["max_tokens"], body["temperature"], body["seed"], body["top_k"]) == (64, 0.7, 11, 4)
    assert (body["top_p"], body["n"]) == (0.95, 1)  # 1.x's defaults for what the config left alone
    assert KEY not in repr(client)


def test_the_blocking_client_takes_a_dict_and_sets_itself_up() -> None:
    seen = Recording(Echo("re: "))
    with FakeLLMServer(responder=seen) as server:
        client = OpenAIClient(base_url=server.base_url, api_key=KEY)
        assert client.timeout == 120  # 1.x's default, sent with each request
        assert client.query_model(messages=HELLO, model="m", generation_config={"max_tokens": 5, "n": 2}) == [
            "re: Hello", "re: Hello",
        ]  # fmt: skip
        assert client.query_model(messages=HELLO, model="m") == ["re: Hello"]
    assert isinstance(client.client, openai.OpenAI)  # setup() ran on first use
    default = seen.bodies[-1]
    assert {name: default[name] for name in ("max_tokens", "temperature", "top_p", "seed")} == {
        "max_tokens": 2048, "temperature": 0.0, "top_p": 0.95, "seed": 0,
    }  # fmt: skip


def test_settings_that_would_be_lost_are_errors_before_anything_is_sent() -> None:
    with FakeLLMServer() as server:
        client = OpenAIClient(base_url=server.base_url, api_key=KEY)
        with pytest.raises(TypeError, match="temprature"):
            client.query_model(messages=HELLO, model="m", generation_config={"temprature": 0.2})
        with pytest.raises(TypeError, match="max_token"):
            client.query_model(messages=HELLO, model="m", max_token=5)  # type: ignore[call-arg]
        with pytest.raises(ConfigError, match="stream"):
            client.query_model(messages=HELLO, model="m", generation_config=GenerationConfig(stream=True))
        with pytest.raises(ConfigError, match="max_concurrent_requests"):
            AsyncOpenAIClient(max_concurrent_requests=0)
        with pytest.warns(UserWarning, match="top_k is not used"):
            client.query_model(messages=HELLO, model="m", generation_config={"top_k": 3})
        assert server.stats()["requests"] == 1


class MyClient(AsyncLLMClient):
    """A NeMo 1.x custom client: ``setup`` and ``_query_model_impl`` only (the SDK's own retries off)."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url
        self.calls = 0

    def setup(self) -> None:
        self.client = openai.AsyncOpenAI(base_url=self.base_url, api_key=KEY, max_retries=0)

    async def _query_model_impl(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        conversation_formatter: Any = None,
        generation_config: GenerationConfig | dict[str, Any] | None = None,
    ) -> list[str]:
        self.calls += 1
        assert isinstance(generation_config, GenerationConfig)  # the base class made the dict one
        response = await self.client.chat.completions.create(
            messages=list(messages), model=model, max_tokens=generation_config.max_tokens
        )
        return [choice.message.content or "" for choice in response.choices]


def test_a_custom_subclass_gets_the_bound_and_the_retries(caplog: pytest.LogCaptureFixture) -> None:
    faults = Faults(script=["500", "429", None], server_error_status=503, retry_after=0.05)
    with FakeLLMServer(responder=Fixed("fine"), faults=faults, api_key=KEY) as server:
        client = MyClient(server.base_url, max_concurrent_requests=2, max_retries=3, base_delay=0.01)
        client.setup()
        with caplog.at_level(logging.WARNING):
            answer = asyncio.run(client.query_model(messages=HELLO, model="m", generation_config={"max_tokens": 8}))
        assert answer == ["fine"]
        assert client.calls == 3  # a 503, then a 429 (its Retry-After), then the answer
        assert server.stats()["by_status"] == {"503": 1, "429": 1, "200": 1}
    assert "attempt 3 of 4" in caplog.text
    assert KEY not in caplog.text


def test_a_permanent_error_is_raised_at_once_and_spent_retries_raise_the_last() -> None:
    with FakeLLMServer(unsupported=["max_tokens"]) as server:
        client = MyClient(server.base_url, max_retries=3, base_delay=0.01)
        client.setup()
        with pytest.raises(openai.BadRequestError):
            asyncio.run(client.query_model(messages=HELLO, model="m"))
        assert client.calls == 1  # a 400 says the request is wrong: not asked again
    with FakeLLMServer(faults=Faults(server_error=1.0)) as server:
        client = MyClient(server.base_url, max_retries=2, base_delay=0.0)
        client.setup()
        with pytest.raises(openai.InternalServerError):
            asyncio.run(client.query_model(messages=HELLO, model="m"))
        assert client.calls == 3
