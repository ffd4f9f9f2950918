"""Unit tests of the clients with respx / httpx.MockTransport: request shapes, error mapping, retries."""

from __future__ import annotations

import json
import time

import httpx
import pytest
import respx

from curator_synth import AsyncNemotronClient, AsyncOpenAIClient
from curator_synth.clients import RetryPolicy
from curator_synth.clients.transport.httpx_transport import HttpxTransport
from curator_synth.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ConnectError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TruncatedResponseError,
)

BASE = "http://llm.test/v1"
CHAT = f"{BASE}/chat/completions"
USER = [{"role": "user", "content": "hi"}]
FAST = RetryPolicy(max_retries=3, initial_backoff=0.001, max_backoff=0.01)


def ok(*texts: str, finish: str = "stop") -> httpx.Response:
    choices = [
        {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": finish}
        for i, t in enumerate(texts or ("ok",))
    ]
    usage = {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}
    return httpx.Response(200, json={"choices": choices, "usage": usage})


def client(transport: str = "httpx", **kwargs: object) -> AsyncOpenAIClient:
    kwargs.setdefault("retry", FAST)
    return AsyncOpenAIClient(base_url=BASE, api_key="k-123", transport=transport, **kwargs)  # type: ignore[arg-type]


@respx.mock
async def test_chat_request_shape_and_headers() -> None:
    route = respx.post(CHAT).mock(return_value=ok("a", "b"))
    async with client() as c:
        out = await c.query_model(messages=USER, model="m", max_tokens=8, temperature=0.2, seed=1, n=2, top_k=5)
    assert out == ["a", "b"]
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer k-123"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "model": "m", "messages": USER, "max_tokens": 8, "temperature": 0.2, "seed": 1, "n": 2, "top_k": 5,
    }  # fmt: skip
    assert c.stats.as_dict()["prompt_tokens"] == 4


@respx.mock
async def test_formatter_goes_to_completions() -> None:
    route = respx.post(f"{BASE}/completions").mock(
        return_value=httpx.Response(200, json={"choices": [{"index": 0, "text": "yo", "finish_reason": "stop"}]})
    )
    async with client() as c:
        assert await c.query_model(messages=USER, model="m", conversation_formatter="nemotron") == ["yo"]
    body = json.loads(route.calls.last.request.content)
    assert body["prompt"].startswith("<extra_id_0>System")
    assert body["stop"] == ["<extra_id_1>"]


@pytest.mark.parametrize(
    ("status", "error", "calls"),
    [
        (400, BadRequestError, 1),
        (401, AuthenticationError, 1),
        (403, PermissionDeniedError, 1),
        (404, NotFoundError, 1),
        (422, BadRequestError, 1),
        (429, RateLimitError, 4),
        (500, ServerError, 4),
        (503, ServerError, 4),
    ],
)
@respx.mock
async def test_status_mapping_and_retry_by_type(status: int, error: type[APIStatusError], calls: int) -> None:
    route = respx.post(CHAT).mock(return_value=httpx.Response(status, json={"error": {"message": "nope"}}))
    async with client() as c:
        with pytest.raises(error) as info:
            await c.query_model(messages=USER, model="m")
    assert info.value.status_code == status
    assert route.call_count == calls  # 4 = first try + max_retries; never retried: 400/401/403/404/422
    assert c.stats.failures == {error.__name__: 1}


@respx.mock
async def test_retries_then_succeeds_and_counts_causes() -> None:
    respx.post(CHAT).mock(side_effect=[httpx.Response(500), httpx.Response(429), httpx.ConnectError("x"), ok("fine")])
    async with client() as c:
        assert await c.query_model(messages=USER, model="m") == ["fine"]
    assert c.stats.retries == {"ServerError": 1, "RateLimitError": 1, "ConnectError": 1}
    assert c.stats.requests_sent == 4
    assert c.stats.responses_ok == 1


@respx.mock
async def test_retry_after_is_honoured() -> None:
    respx.post(CHAT).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "0.4"}), ok("later")])
    async with client(retry=RetryPolicy(max_retries=2, initial_backoff=0.001, max_backoff=5)) as c:
        start = time.monotonic()
        assert await c.query_model(messages=USER, model="m") == ["later"]
    assert time.monotonic() - start >= 0.4


@pytest.mark.parametrize(
    ("exc", "error"),
    [
        (httpx.ConnectError("refused"), ConnectError),
        (httpx.RemoteProtocolError("peer closed"), ConnectError),
        (httpx.ReadError("reset"), ConnectError),
        (httpx.ReadTimeout("slow"), RequestTimeoutError),
        (httpx.ConnectTimeout("slow"), RequestTimeoutError),
    ],
)
@respx.mock
async def test_transport_errors_map_and_retry(exc: Exception, error: type[Exception]) -> None:
    route = respx.post(CHAT).mock(side_effect=exc)
    async with client() as c:
        with pytest.raises(error) as info:
            await c.query_model(messages=USER, model="m")
    assert route.call_count == 4
    assert isinstance(info.value.__cause__, httpx.HTTPError)  # mapped at the boundary with raise ... from


@respx.mock
async def test_malformed_body_retried_and_raw_kept() -> None:
    route = respx.post(CHAT).mock(return_value=httpx.Response(200, content=b'{"choices": [{"index"'))
    async with client() as c:
        with pytest.raises(MalformedResponseError) as info:
            await c.query_model(messages=USER, model="m")
    assert route.call_count == 4
    assert info.value.raw == '{"choices": [{"index"'


@respx.mock
async def test_truncation_policies() -> None:
    respx.post(CHAT).mock(side_effect=[ok("cut", finish="length"), ok("whole")])
    async with client(on_truncated="retry") as c:
        assert await c.query_model(messages=USER, model="m") == ["whole"]
    respx.post(CHAT).mock(return_value=ok("cut", finish="length"))
    async with client(on_truncated="raise") as c:
        with pytest.raises(TruncatedResponseError) as info:
            await c.query_model(messages=USER, model="m")
    assert '"cut"' in (info.value.raw or "")  # the paid-for text is not lost
    async with client() as c:
        assert await c.query_model(messages=USER, model="m") == ["cut"]


def sdk_client(*replies: httpx.Response | Exception) -> AsyncOpenAIClient:
    """An AsyncOpenAIClient sending through an openai.AsyncOpenAI whose HTTP client replays ``replies``."""
    import openai

    queue = list(replies)

    def handler(request: httpx.Request) -> httpx.Response:
        reply = queue.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return AsyncOpenAIClient(openai.AsyncOpenAI(base_url=BASE, api_key="k", http_client=http), retry=FAST)


async def test_openai_sdk_transport_maps_errors() -> None:
    async with sdk_client(httpx.Response(429, headers={"retry-after": "0"}), ok("via sdk")) as c:
        assert await c.query_model(messages=USER, model="m") == ["via sdk"]
        assert c.stats.retries == {"RateLimitError": 1}
    async with sdk_client(httpx.Response(404, json={"error": {"message": "no such model"}})) as c:
        with pytest.raises(NotFoundError, match="no such model"):
            await c.query_model(messages=USER, model="m")
    async with sdk_client(*[httpx.ConnectError("refused")] * 4) as c:
        with pytest.raises(ConnectError):
            await c.query_model(messages=USER, model="m")
    async with sdk_client(*[httpx.ReadTimeout("slow")] * 4) as c:
        with pytest.raises(RequestTimeoutError):
            await c.query_model(messages=USER, model="m")


async def test_existing_openai_instance_is_used() -> None:
    import openai

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok("from instance")

    sdk = openai.AsyncOpenAI(
        base_url=BASE, api_key="inst-key", http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )
    c = AsyncOpenAIClient(sdk, retry=FAST)
    assert c.transport_name == "openai"
    assert c.base_url.startswith(BASE)
    assert await c.query_model(messages=USER, model="m") == ["from instance"]
    assert seen[0].headers["authorization"] == "Bearer inst-key"
    await c.aclose()
    with pytest.raises(ConfigError, match=r"openai\.OpenAI"):
        AsyncOpenAIClient("http://not-a-client")


async def test_custom_transport_factory_with_mock_transport() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return ok(json.loads(request.content)["messages"][0]["content"].upper())

    c = AsyncOpenAIClient(
        base_url=BASE, api_key="k", transport=lambda cfg: HttpxTransport(cfg, transport=httpx.MockTransport(handler))
    )
    assert await c.query_model(messages=USER, model="m") == ["HI"]
    await c.aclose()


def test_api_key_and_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "env-openai")
    monkeypatch.setenv("NVIDIA_API_KEY", "env-nvidia")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("NVIDIA_BASE_URL", raising=False)
    openai_client = AsyncOpenAIClient()
    nim = AsyncNemotronClient()
    assert openai_client.connection.api_key
    assert openai_client.connection.api_key.reveal() == "env-openai"
    assert openai_client.base_url == "https://api.openai.com/v1"
    assert nim.connection.api_key
    assert nim.connection.api_key.reveal() == "env-nvidia"
    assert nim.base_url == "https://integrate.api.nvidia.com/v1"
    assert AsyncOpenAIClient(api_key="explicit").connection.api_key.reveal() == "explicit"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "kwargs",
    [{"base_url": "ftp://x"}, {"timeout": 0}, {"max_concurrency": 0}, {"max_retries": -1}, {"rpm": 0},
     {"on_truncated": "ignore"}, {"transport": "carrier-pigeon"}],
)  # fmt: skip
def test_bad_options_are_config_errors(kwargs: dict) -> None:
    kwargs.setdefault("base_url", BASE)
    with pytest.raises(ConfigError):
        AsyncOpenAIClient(**kwargs)
