"""Fault injection and the rpm limiter, seen from plain httpx and aiohttp clients."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import httpx
import pytest

from curator_synth.testing import FakeLLMServer, Faults, Fixed


def chat_body(content: str = "one two three four five six", **options: Any) -> dict[str, Any]:
    return {"model": "fake-model", "messages": [{"role": "user", "content": content}], **options}


def chat(client: httpx.Client, srv: FakeLLMServer, body: dict[str, Any] | None = None) -> httpx.Response:
    return client.post(f"{srv.base_url}/chat/completions", json=body or chat_body())


def outcome(client: httpx.Client, srv: FakeLLMServer) -> int | str:
    try:
        return chat(client, srv).status_code
    except httpx.RemoteProtocolError:
        return "drop"


@pytest.mark.parametrize(("retry_after", "header"), [(1.0, "1"), (0.5, "0.5"), (2.25, "2.25"), (None, None)])
def test_rate_limit_fault_is_429_with_retry_after(
    client: httpx.Client, retry_after: float | None, header: str | None
) -> None:
    with FakeLLMServer(latency=5.0, faults=Faults(rate_limit=1.0, retry_after=retry_after)) as srv:
        started = time.perf_counter()
        response = chat(client, srv)
        elapsed = time.perf_counter() - started
    assert response.status_code == 429
    assert elapsed < 1.0  # 429 faults skip the latency
    assert response.headers.get("retry-after") == header
    assert response.json()["error"]["code"] == "rate_limit_exceeded"


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_fault_status_and_body(client: httpx.Client, status: int) -> None:
    with FakeLLMServer(faults=Faults(server_error=1.0, server_error_status=status)) as srv:
        response = chat(client, srv)
    assert response.status_code == status
    assert response.json()["error"]["type"] == "server_error"
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_drop_fault_raises_disconnect_in_httpx_even_on_a_reused_connection(
    client: httpx.Client, capfd: pytest.CaptureFixture[str]
) -> None:
    with FakeLLMServer(faults=Faults(script=[None, "drop", None])) as srv:
        assert chat(client, srv).status_code == 200  # opens a keep-alive connection
        with pytest.raises(httpx.RemoteProtocolError, match="disconnected"):
            chat(client, srv)
        assert chat(client, srv).status_code == 200  # the client recovers on a new connection
        stats = srv.stats()
    assert stats["faults"]["drop"] == 1
    assert stats["by_status"] == {"200": 2}
    assert stats["requests"] == 3
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""


async def test_drop_fault_raises_disconnect_in_httpx_async_and_aiohttp(capfd: pytest.CaptureFixture[str]) -> None:
    with FakeLLMServer(faults=Faults(drop=1.0), latency=0.01) as srv:
        url = f"{srv.base_url}/chat/completions"
        async with httpx.AsyncClient() as client:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post(url, json=chat_body())
        async with aiohttp.ClientSession() as session:
            for _ in range(2):  # the second one would reuse a pooled connection if there were one
                with pytest.raises(aiohttp.ServerDisconnectedError):
                    async with session.post(url, json=chat_body()) as response:
                        await response.read()
        assert srv.stats()["faults"]["drop"] == 3
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""


async def test_malformed_fault_is_200_json_that_does_not_parse() -> None:
    with FakeLLMServer(faults=Faults(malformed=1.0)) as srv:
        url = f"{srv.base_url}/chat/completions"
        async with aiohttp.ClientSession() as session, session.post(url, json=chat_body()) as response:
            assert response.status == 200
            assert response.content_type == "application/json"
            text = await response.text()
            with pytest.raises(json.JSONDecodeError):
                await response.json()
        stats = srv.stats()
    assert text.startswith('{"id":"chatcmpl-')
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    assert stats["faults"]["malformed"] == 1
    assert stats["responses_ok"] == 0


def test_truncate_fault_halves_tokens_with_length(client: httpx.Client) -> None:
    with FakeLLMServer(Fixed("a b c d e f g"), faults=Faults(truncate=1.0)) as srv:
        data = chat(client, srv, chat_body(n=2)).json()
    assert [c["message"]["content"] for c in data["choices"]] == ["a b c", "a b c"]
    assert [c["finish_reason"] for c in data["choices"]] == ["length", "length"]
    assert data["usage"]["completion_tokens"] == 6


async def test_trickle_fault_sends_headers_at_once_then_a_byte_per_interval() -> None:
    with FakeLLMServer(Fixed("a b"), faults=Faults(trickle=1.0, trickle_interval=0.05)) as srv:
        url = f"{srv.base_url}/chat/completions"
        async with aiohttp.ClientSession() as session:
            started = time.perf_counter()
            async with session.post(url, json=chat_body()) as response:
                headers_after = time.perf_counter() - started
                chunks = [chunk async for chunk in response.content.iter_any()]
            elapsed = time.perf_counter() - started
        stats = srv.stats()
    body = b"".join(chunks)
    assert response.status == 200
    assert response.content_length == len(body)
    assert headers_after < 1.0
    assert json.loads(body)["choices"][0]["message"]["content"] == "a b"
    assert len(chunks) > len(body) // 2  # arrived in small pieces, not at once
    assert elapsed >= (len(body) - 1) * 0.05 * 0.9
    assert stats["faults"]["trickle"] == 1
    assert stats["by_status"] == {"200": 1}


async def test_trickle_fault_stops_quietly_when_the_client_gives_up(capfd: pytest.CaptureFixture[str]) -> None:
    with FakeLLMServer(faults=Faults(trickle=1.0, trickle_interval=0.2)) as srv:
        async with httpx.AsyncClient() as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.post(f"{srv.base_url}/chat/completions", json=chat_body(), timeout=0.1)
        for _ in range(50):  # the server notices at its next byte
            if srv.stats()["in_flight"] == 0:
                break
            await asyncio.sleep(0.1)
        assert srv.stats()["in_flight"] == 0
    out, err = capfd.readouterr()
    assert out == err == ""


@pytest.mark.parametrize("code", [None, 503, "overloaded"])
def test_error_body_fault_is_200_with_an_openai_error(client: httpx.Client, code: int | str | None) -> None:
    with FakeLLMServer(faults=Faults(error_body=1.0, error_body_code=code)) as srv:
        response = chat(client, srv)
        stats = srv.stats()
    assert response.status_code == 200
    error = response.json()["error"]
    assert error["type"] == "server_error"
    assert error["code"] == code
    assert "injected by FakeLLMServer" in error["message"]
    assert set(response.json()) == {"error"}
    assert stats["faults"]["error_body"] == 1
    assert stats["responses_ok"] == 0


def test_empty_choices_fault_is_a_valid_completion_without_choices(client: httpx.Client) -> None:
    with FakeLLMServer(faults=Faults(script=["empty_choices"])) as srv:
        data = chat(client, srv).json()
        completion = client.post(f"{srv.base_url}/completions", json={"model": "m", "prompt": "x"}).json()
        stats = srv.stats()
    assert data["object"] == "chat.completion"
    assert data["choices"] == []
    assert data["usage"]["completion_tokens"] == 0
    assert completion["choices"][0]["text"] == "x"  # the script had one entry
    assert stats["faults"]["empty_choices"] == 1
    assert stats["responses_ok"] == 1


def test_script_applies_in_order_then_answers_normally(client: httpx.Client) -> None:
    script = ["429", None, "500", "drop", "malformed", "truncate", "error_body", "empty_choices"]
    with FakeLLMServer(Fixed("x y"), faults=Faults(script=script)) as srv:
        results = [outcome(client, srv) for _ in range(10)]
        last = chat(client, srv).json()
        stats = srv.stats()
    assert results == [429, 200, 500, "drop", 200, 200, 200, 200, 200, 200]
    assert last["choices"][0]["finish_reason"] == "stop"
    assert stats["faults"] == {
        "429": 1, "500": 1, "drop": 1, "malformed": 1, "truncate": 1, "trickle": 0, "error_body": 1, "empty_choices": 1,
    }  # fmt: skip


def test_requests_refused_before_the_fault_stage_do_not_use_script_entries(client: httpx.Client) -> None:
    with FakeLLMServer(faults=Faults(script=["500"])) as srv:
        assert client.post(f"{srv.base_url}/chat/completions", json={"model": "m"}).status_code == 400
        assert chat(client, srv).status_code == 500


def test_random_faults_are_seeded_and_reproducible(client: httpx.Client) -> None:
    faults = Faults(rate_limit=0.2, server_error=0.2, truncate=0.2, seed=42)
    sequences = []
    for _ in range(2):
        with FakeLLMServer(faults=faults) as srv:
            sequences.append([outcome(client, srv) for _ in range(60)])
            stats = srv.stats()
    assert sequences[0] == sequences[1]
    assert set(sequences[0]) == {200, 429, 500}
    assert stats["faults"]["429"] == sequences[1].count(429)
    assert 5 <= stats["faults"]["truncate"] <= 25
    with FakeLLMServer(faults=Faults(rate_limit=0.2, server_error=0.2, truncate=0.2, seed=7)) as srv:
        other = [outcome(client, srv) for _ in range(60)]
    assert other != sequences[0]


def test_set_faults_at_run_time_restarts_the_script(server: FakeLLMServer, client: httpx.Client) -> None:
    assert [outcome(client, server) for _ in range(2)] == [200, 200]
    server.set_faults(Faults(script=["500", "429"]))
    assert [outcome(client, server) for _ in range(3)] == [500, 429, 200]
    server.set_faults(Faults(server_error=1.0, server_error_status=503))
    assert outcome(client, server) == 503
    server.set_faults(None)
    assert outcome(client, server) == 200
    assert server.stats()["faults_config"] is None


def test_rpm_limit_headers_and_429(client: httpx.Client) -> None:
    with FakeLLMServer(rpm_limit=3) as srv:
        admitted = [chat(client, srv) for _ in range(3)]
        started = time.perf_counter()
        srv.set_latency(5.0)
        refused = chat(client, srv)
        elapsed = time.perf_counter() - started
        stats = srv.stats()
    assert [r.status_code for r in admitted] == [200, 200, 200]
    assert [r.headers["x-ratelimit-remaining-requests"] for r in admitted] == ["2", "1", "0"]
    assert all(r.headers["x-ratelimit-limit-requests"] == "3" for r in admitted)
    assert admitted[0].headers["x-ratelimit-reset-requests"] == "60s"
    assert refused.status_code == 429
    assert elapsed < 1.0  # refused at once, no latency
    assert 59.0 <= float(refused.headers["retry-after"]) <= 60.0
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    assert refused.headers["x-ratelimit-reset-requests"].endswith("s")
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert stats["rate_limited"] == 1
    assert stats["faults"]["429"] == 0  # a limiter refusal is not an injected fault
    assert stats["by_status"] == {"200": 3, "429": 1}


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_rpm_limit_without_headers_answers_only_retry_after_1(client: httpx.Client, mode: str) -> None:
    srv = FakeLLMServer(rpm_limit=2, rate_window=0.5, rate_limit_headers=False, mode=mode)  # type: ignore[arg-type]
    with srv:
        admitted = [chat(client, srv) for _ in range(2)]
        refused = chat(client, srv)
        time.sleep(0.6)  # the 0.5 s window has passed
        again = chat(client, srv)
        stats = srv.stats()
    assert [r.status_code for r in admitted] == [200, 200]
    assert not any(name.startswith("x-ratelimit") for r in admitted for name in r.headers)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"  # whatever the window
    assert not any(name.startswith("x-ratelimit") for name in refused.headers)
    assert "requests per 0.5 s" in refused.json()["error"]["message"]
    assert again.status_code == 200
    assert stats["rate_limited"] == 1


def test_rate_window_sets_the_window_and_its_headers(client: httpx.Client) -> None:
    with FakeLLMServer(rpm_limit=1, rate_window=4.0) as srv:
        admitted = chat(client, srv)
        refused = chat(client, srv)
    assert admitted.headers["x-ratelimit-reset-requests"] == "4s"
    assert 3.0 <= float(refused.headers["retry-after"]) <= 4.0


def test_no_rate_limit_headers_without_rpm_limit(server: FakeLLMServer, client: httpx.Client) -> None:
    response = chat(client, server)
    assert "x-ratelimit-limit-requests" not in response.headers
