"""Integration: every client against FakeLLMServer over real loopback sockets (sync and async, every transport)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from curator_synth import AsyncNemotronClient, AsyncOpenAIClient, NemotronClient, OpenAIClient
from curator_synth.clients import RetryPolicy
from curator_synth.errors import (
    AuthenticationError,
    ConnectError,
    CuratorSynthError,
    MalformedResponseError,
    NotARewardModelError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TruncatedResponseError,
)
from curator_synth.testing import HELPSTEER2_ATTRIBUTES, Echo, FakeLLMServer, Faults, Reward

USER = [{"role": "user", "content": "hello there"}]
TRANSPORTS = ["aiohttp", "httpx", "openai"]
FAST = RetryPolicy(max_retries=4, initial_backoff=0.001, max_backoff=0.05)


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(responder=Echo(prefix="echo: ")) as srv:
        yield srv


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_async_chat_and_completions(server: FakeLLMServer, transport: str) -> None:
    async with AsyncOpenAIClient(base_url=server.base_url, api_key="k", transport=transport) as client:
        assert await client.query_model(messages=USER, model="m") == ["echo: hello there"]
        assert await client.query_model(messages=USER, model="m", n=3) == ["echo: hello there"] * 3
        formatted = await client.query_model(messages=USER, model="m", conversation_formatter="single_turn")
        assert formatted == ["echo: hello there"]
    stats = server.stats()
    assert stats["by_endpoint"]["chat"] == 2
    assert stats["by_endpoint"]["completions"] == 1
    assert client.stats.requests_sent == 3
    assert client.stats.prompt_tokens == stats["prompt_tokens"]
    assert client.stats.completion_tokens == stats["completion_tokens"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_sync_client(server: FakeLLMServer, transport: str) -> None:
    with OpenAIClient(base_url=server.base_url, api_key="k", transport=transport) as client:
        assert client.query_model(messages=USER, model="m", max_tokens=2) == ["echo: hello"]
        prompt = client.query_model(messages=USER, model="m", conversation_formatter="chatml")
        # the template's stop string (<|im_end|>) was sent and the server cut the echo there
        assert prompt == ["echo: <|im_start|>user\nhello there"]


def test_sync_client_from_many_threads(server: FakeLLMServer) -> None:
    with OpenAIClient(base_url=server.base_url, max_concurrency=4) as client:

        def ask(i: int) -> list[str]:
            return client.query_model(messages=[{"role": "user", "content": f"q{i}"}], model="m")

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(ask, range(40)))
    assert answers == [[f"echo: q{i}"] for i in range(40)]
    assert server.stats()["max_in_flight"] <= 4


async def test_sync_clients_inside_a_running_event_loop(server: FakeLLMServer) -> None:
    """docs/clients.md: the blocking clients work inside a running loop, as in a Jupyter cell (an async test body
    is one): they run on their own loop thread instead of calling asyncio.run here."""
    asyncio.get_running_loop()  # there is one
    with OpenAIClient(base_url=server.base_url) as client:
        assert client.query_model(messages=USER, model="m") == ["echo: hello there"]
    with NemotronClient(base_url=server.base_url, api_key="k") as nemotron:
        assert nemotron.query_model(messages=USER, model="m") == ["echo: hello there"]


def test_openai_sdk_instances(server: FakeLLMServer) -> None:
    import openai

    sync_client = OpenAIClient(openai.OpenAI(base_url=server.base_url, api_key="k"))
    assert sync_client.query_model(messages=USER, model="m") == ["echo: hello there"]
    sync_client.close()

    async def run() -> list[str]:
        async with AsyncOpenAIClient(openai.AsyncOpenAI(base_url=server.base_url, api_key="k")) as client:
            return await client.query_model(messages=USER, model="m")

    assert asyncio.run(run()) == ["echo: hello there"]


def test_async_client_survives_successive_event_loops(server: FakeLLMServer) -> None:
    client = AsyncOpenAIClient(base_url=server.base_url)

    async def once() -> list[str]:
        answer = await client.query_model(messages=USER, model="m")
        await client.aclose()
        return answer

    assert asyncio.run(once()) == asyncio.run(once()) == ["echo: hello there"]


def test_reward_mode_sync_and_async() -> None:
    with FakeLLMServer(responder=Reward()) as srv:
        conversation = [*USER, {"role": "assistant", "content": "general kenobi"}]
        with NemotronClient(base_url=srv.base_url, api_key="k") as client:
            scores = client.query_reward_model(messages=conversation, model="nvidia/nemotron-4-340b-reward")
        assert list(scores) == list(HELPSTEER2_ATTRIBUTES)
        assert all(0.0 <= value <= 4.0 for value in scores.values())

        async def run() -> dict[str, float]:
            async with AsyncNemotronClient(base_url=srv.base_url, api_key="k") as client:
                return await client.query_reward_model(messages=conversation, model="reward")

        assert asyncio.run(run()) == scores  # deterministic per conversation


def test_chat_model_is_not_a_reward_model(server: FakeLLMServer) -> None:
    with NemotronClient(base_url=server.base_url) as client, pytest.raises(NotARewardModelError) as info:
        client.query_reward_model(messages=USER, model="plain-chat")
    assert "not a reward model" in str(info.value)
    assert info.value.raw is not None  # the paid answer is kept


FAULTS = [
    ("429", RateLimitError),
    ("500", ServerError),
    ("drop", ConnectError),
    ("malformed", MalformedResponseError),
    ("truncate", TruncatedResponseError),
]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("fault", "error"), FAULTS)
async def test_every_fault_maps_to_its_error(
    server: FakeLLMServer, transport: str, fault: str, error: type[CuratorSynthError]
) -> None:
    server.set_faults(Faults(script=[fault], retry_after=0.25))
    async with AsyncOpenAIClient(
        base_url=server.base_url, transport=transport, max_retries=0, on_truncated="raise"
    ) as client:
        with pytest.raises(error) as info:
            await client.query_model(messages=USER, model="m")
    if fault == "429":
        assert info.value.retry_after == 0.25  # type: ignore[attr-defined]
    assert server.stats()["requests"] == 1  # max_retries=0: exactly one attempt


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_retries_recover_from_every_fault(server: FakeLLMServer, transport: str) -> None:
    server.set_faults(Faults(script=["429", "500", "drop", "malformed", "truncate"], retry_after=0.01))
    retry = RetryPolicy(max_retries=5, initial_backoff=0.001, max_backoff=0.05)
    with OpenAIClient(base_url=server.base_url, transport=transport, retry=retry, on_truncated="retry") as client:
        assert client.query_model(messages=USER, model="m") == ["echo: hello there"]
        retries = client.stats.retries
    assert sum(retries.values()) == 5
    assert server.stats()["requests"] == 6


async def test_window_is_never_exceeded(server: FakeLLMServer) -> None:
    server.set_latency(0.05)
    async with AsyncOpenAIClient(base_url=server.base_url, max_concurrency=8) as client:
        answers = await asyncio.gather(
            *(client.query_model(messages=[{"role": "user", "content": str(i)}], model="m") for i in range(60))
        )
    assert answers == [[f"echo: {i}"] for i in range(60)]
    assert server.stats()["max_in_flight"] == 8  # the window is used, and never exceeded


async def test_timeout(server: FakeLLMServer) -> None:
    server.set_latency(2.0)
    async with AsyncOpenAIClient(base_url=server.base_url, timeout=0.2, max_retries=0) as client:
        with pytest.raises(RequestTimeoutError):
            await client.query_model(messages=USER, model="m")


def test_wrong_key_is_not_retried() -> None:
    with FakeLLMServer(api_key="right-key") as srv:
        with OpenAIClient(base_url=srv.base_url, api_key="wrong-key", max_retries=5) as client:
            with pytest.raises(AuthenticationError) as info:
                client.query_model(messages=USER, model="m")
            assert "wrong-key" not in str(info.value)
        assert srv.stats()["requests"] == 1
        with OpenAIClient(base_url=srv.base_url, api_key="right-key") as client:
            assert client.query_model(messages=USER, model="m") == ["hello there"]


def test_connection_refused() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with OpenAIClient(base_url=f"http://127.0.0.1:{port}/v1", retry=RetryPolicy(1, 0.001, 0.01)) as client:
        with pytest.raises(ConnectError):
            client.query_model(messages=USER, model="m")
        assert client.stats.retries == {"ConnectError": 1}
