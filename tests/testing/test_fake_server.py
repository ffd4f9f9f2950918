"""FakeLLMServer over real loopback sockets, with plain httpx and aiohttp clients."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any

import aiohttp
import httpx
import pytest

from curator_synth.errors import ConfigError
from curator_synth.testing import (
    FAULT_KINDS,
    HELPSTEER2_ATTRIBUTES,
    Cycle,
    Echo,
    FakeLLMServer,
    FakeReply,
    FakeRequest,
    Faults,
    Fixed,
    Reward,
    Scripted,
)


def chat_body(content: str = "hello fake world", **options: Any) -> dict[str, Any]:
    return {"model": "fake-model", "messages": [{"role": "user", "content": content}], **options}


def chat(client: httpx.Client, srv: FakeLLMServer, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return client.post(f"{srv.base_url}/chat/completions", json=body, **kwargs)


# ------------------------------------------------------------------------------------------- shapes
def test_chat_completion_has_openai_shape(server: FakeLLMServer, client: httpx.Client) -> None:
    response = chat(client, server, chat_body("two words"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    data = response.json()
    assert set(data) == {"id", "object", "created", "model", "choices", "usage"}
    assert data["id"].startswith("chatcmpl-")
    assert data["object"] == "chat.completion"
    assert isinstance(data["created"], int)
    assert abs(data["created"] - time.time()) < 60
    assert data["model"] == "fake-model"
    assert data["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "two words"},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert data["usage"] == {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}


def test_text_completion_has_openai_shape(server: FakeLLMServer, client: httpx.Client) -> None:
    body = {"model": "base", "prompt": "Once upon a time", "max_tokens": 3}
    data = client.post(f"{server.base_url}/completions", json=body).json()
    assert data["id"].startswith("cmpl-")
    assert data["object"] == "text_completion"
    assert data["model"] == "base"
    assert data["choices"] == [{"index": 0, "text": "Once upon a", "logprobs": None, "finish_reason": "length"}]
    assert data["usage"] == {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}


def test_models_endpoint_lists_models_seen(server: FakeLLMServer, client: httpx.Client) -> None:
    chat(client, server, chat_body() | {"model": "my-model"})
    data = client.get(f"{server.base_url}/models").json()
    assert data["object"] == "list"
    assert {m["id"] for m in data["data"]} == {"fake-model", "my-model"}
    assert all(m["object"] == "model" for m in data["data"])


def test_n_choices_call_responder_per_choice_and_usage_sums(client: httpx.Client) -> None:
    seen: list[FakeRequest] = []

    def responder(request: FakeRequest) -> str:
        seen.append(request)
        return "word " * (request.choice_index + 1)

    with FakeLLMServer(responder) as srv:
        body = chat_body("a b c", n=3, temperature=0.7)
        body["messages"].insert(0, {"role": "system", "content": "be brief"})
        data = chat(client, srv, body).json()
    assert [c["index"] for c in data["choices"]] == [0, 1, 2]
    assert [c["message"]["content"] for c in data["choices"]] == ["word ", "word word ", "word word word "]
    assert data["usage"] == {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11}
    assert [r.choice_index for r in seen] == [0, 1, 2]
    assert {r.request_number for r in seen} == {0}
    assert seen[0].endpoint == "chat"
    assert seen[0].prompt == "a b c"
    assert seen[0].body == body
    assert seen[0].messages == body["messages"]


def test_request_number_counts_requests_in_order(client: httpx.Client) -> None:
    with FakeLLMServer(lambda r: str(r.request_number)) as srv:
        texts = [chat(client, srv, chat_body()).json()["choices"][0]["message"]["content"] for _ in range(3)]
    assert texts == ["0", "1", "2"]


def test_max_tokens_cuts_to_whitespace_tokens(client: httpx.Client) -> None:
    with FakeLLMServer(Fixed("one  two\nthree four five")) as srv:
        cut = chat(client, srv, chat_body(max_tokens=3)).json()
        fits = chat(client, srv, chat_body(max_tokens=5)).json()
    assert cut["choices"][0]["message"]["content"] == "one two three"
    assert cut["choices"][0]["finish_reason"] == "length"
    assert cut["usage"]["completion_tokens"] == 3
    assert fits["choices"][0]["message"]["content"] == "one  two\nthree four five"
    assert fits["choices"][0]["finish_reason"] == "stop"


def test_stop_cuts_before_first_stop_string(client: httpx.Client) -> None:
    with FakeLLMServer(Fixed("alpha beta. gamma\n\ndelta")) as srv:
        single = chat(client, srv, chat_body(stop="\n\n")).json()["choices"][0]
        several = chat(client, srv, chat_body(stop=[".", "\n\n"])).json()["choices"][0]
        with_length = FakeLLMServer(Fixed(FakeReply("x y z", finish_reason="length")))
        with with_length:
            reply = chat(client, with_length, chat_body(stop="y")).json()["choices"][0]
    assert single["message"]["content"] == "alpha beta. gamma"
    assert several["message"]["content"] == "alpha beta"
    assert single["finish_reason"] == several["finish_reason"] == "stop"
    assert reply == {
        "index": 0,
        "message": {"role": "assistant", "content": "x "},
        "logprobs": None,
        "finish_reason": "stop",
    }


def test_responders_over_http(client: httpx.Client) -> None:
    with FakeLLMServer(Scripted({"capital": ["Paris", "Rome"]}, default=Echo("E:"))) as srv:
        texts = [
            chat(client, srv, chat_body(p)).json()["choices"][0]["message"]["content"]
            for p in ("capital?", "other", "capital!", "capital.")
        ]
    assert texts == ["Paris", "E:other", "Rome", "Rome"]
    with FakeLLMServer(Cycle(["a", "b"])) as srv:
        data = chat(client, srv, chat_body(n=3)).json()
    assert [c["message"]["content"] for c in data["choices"]] == ["a", "b", "a"]


def test_reward_answers_like_nemotron_on_nim(client: httpx.Client) -> None:
    conversation = [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]
    with FakeLLMServer(Reward()) as srv:
        data = chat(client, srv, {"model": "nvidia/nemotron-4-340b-reward", "messages": conversation}).json()
    choice = data["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": ""}
    entries = choice["logprobs"]["content"]
    assert [e["token"] for e in entries] == list(HELPSTEER2_ATTRIBUTES)
    assert all(set(e) == {"token", "logprob", "bytes", "top_logprobs"} for e in entries)
    assert all(e["bytes"] is None and e["top_logprobs"] == [] for e in entries)
    expected = Reward.default_scores(FakeRequest("chat", "m", conversation, "2+2?", {}))
    assert {e["token"]: e["logprob"] for e in entries} == expected


def test_responder_failure_is_a_400_naming_the_error(client: httpx.Client) -> None:
    with FakeLLMServer(Scripted({"capital": "Paris"})) as srv:
        response = chat(client, srv, chat_body("unknown prompt"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"].startswith("FakeLLMServer responder failed: LookupError")
    assert "unknown prompt" in error["message"]
    assert error["type"] == "invalid_request_error"


# ---------------------------------------------------------------------------------- validation, auth
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("chat/completions", {"messages": [{"role": "user", "content": "x"}]}),
        ("chat/completions", {"model": 3, "messages": [{"role": "user", "content": "x"}]}),
        ("chat/completions", {"model": "m"}),
        ("chat/completions", {"model": "m", "messages": []}),
        ("chat/completions", {"model": "m", "messages": "hello"}),
        ("chat/completions", {"model": "m", "messages": [{"content": "no role"}]}),
        ("chat/completions", {"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 0}),
        ("chat/completions", {"model": "m", "messages": [{"role": "user", "content": "x"}], "stop": 5}),
        ("completions", {"model": "m"}),
        ("completions", {"model": "m", "prompt": ["a", "b"]}),
        ("completions", [1, 2]),
        ("chat/completions", {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True}),
        ("completions", {"model": "m", "prompt": "x", "stream": True}),
    ],
)
def test_invalid_requests_get_openai_400(server: FakeLLMServer, client: httpx.Client, path: str, body: Any) -> None:
    response = client.post(f"{server.base_url}/{path}", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] is None
    assert isinstance(error["message"], str)
    assert error["message"]


def test_invalid_json_is_400(server: FakeLLMServer, client: httpx.Client) -> None:
    response = client.post(f"{server.base_url}/chat/completions", content=b"{not json")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_api_key_is_required_when_configured(client: httpx.Client) -> None:
    with FakeLLMServer(api_key="sk-test") as srv:
        missing = chat(client, srv, chat_body())
        wrong = chat(client, srv, chat_body(), headers={"Authorization": "Bearer nope"})
        models = client.get(f"{srv.base_url}/models")
        right = chat(client, srv, chat_body(), headers={"Authorization": "Bearer sk-test"})
        stats = srv.stats()
    assert missing.status_code == wrong.status_code == models.status_code == 401
    assert missing.json()["error"]["code"] == "invalid_api_key"
    assert missing.json()["error"]["type"] == "invalid_request_error"
    assert right.status_code == 200
    assert stats["by_status"] == {"401": 3, "200": 1}
    # the challenge echoes the token sent, as some real servers do (clients must keep it out of their logs)
    assert wrong.headers["www-authenticate"] == "Bearer nope"
    assert missing.headers["www-authenticate"] == models.headers["www-authenticate"] == 'Bearer realm="FakeLLMServer"'


# ---------------------------------------------------------------------------------- stats and hits
def test_stats_count_everything(server: FakeLLMServer, client: httpx.Client) -> None:
    server.set_faults(Faults(script=["500", "429", "drop", "malformed", "truncate"]))
    outcomes: list[int | str] = []
    for _ in range(5):
        try:
            outcomes.append(chat(client, server, chat_body("a b c")).status_code)
        except httpx.RemoteProtocolError:
            outcomes.append("drop")
    assert outcomes == [500, 429, "drop", 200, 200]
    chat(client, server, chat_body("a b c", n=2))
    client.post(f"{server.base_url}/completions", json={"model": "m", "prompt": "x y"})
    client.post(f"{server.base_url}/completions", json={"model": "m"})
    client.get(f"{server.base_url}/models")
    stats = server.stats()
    assert stats["requests"] == 8  # the model listing is counted in by_endpoint only (a client's pre-flight)
    assert stats["responses_ok"] == 3  # truncate, n=2, completion
    assert stats["by_endpoint"] == {"chat": 6, "completions": 2, "models": 1}
    assert stats["by_status"] == {"500": 1, "429": 1, "200": 5, "400": 1}
    assert stats["faults"] == {
        "429": 1, "500": 1, "drop": 1, "malformed": 1, "truncate": 1, "trickle": 0, "error_body": 0, "empty_choices": 0,
    }  # fmt: skip
    assert stats["in_flight"] == 0
    assert stats["max_in_flight"] == 1
    assert stats["prompt_tokens"] == 3 + 3 + 2  # truncate, n=2, completion
    assert stats["completion_tokens"] == 1 + 6 + 2
    server.reset_stats()
    stats = server.stats()
    assert stats["requests"] == stats["responses_ok"] == stats["prompt_tokens"] == 0
    assert stats["by_status"] == {}
    assert stats["body_hits"] == {}
    assert stats["faults"] == dict.fromkeys(FAULT_KINDS, 0)
    assert server.stats()["requests"] == 0  # control endpoints are not counted


def test_hits_counts_identical_bodies(server: FakeLLMServer, client: httpx.Client) -> None:
    body = chat_body("same", temperature=0.5)
    chat(client, server, body)
    chat(client, server, body)
    reordered = json.dumps(dict(reversed(list(body.items()))))
    client.post(f"{server.base_url}/chat/completions", content=reordered)
    chat(client, server, chat_body("different"))
    assert server.hits(body) == 3
    assert server.hits(chat_body("different")) == 1
    assert server.hits(chat_body("never sent")) == 0
    key = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert server.stats()["body_hits"][key] == 3


async def test_max_in_flight_counts_requests_sleeping_in_latency() -> None:
    with FakeLLMServer(latency=0.2) as srv:
        async with aiohttp.ClientSession() as session:

            async def one(i: int) -> int:
                async with session.post(f"{srv.base_url}/chat/completions", json=chat_body(str(i))) as r:
                    return r.status

            started = time.perf_counter()
            statuses = await asyncio.gather(*(one(i) for i in range(40)))
            elapsed = time.perf_counter() - started
        stats = srv.stats()
    assert statuses == [200] * 40
    assert 0.2 <= elapsed < 1.0  # concurrent, not 40 x 0.2 s
    assert stats["max_in_flight"] == 40
    assert stats["in_flight"] == 0


async def test_set_latency_at_run_time_with_httpx_async() -> None:
    with FakeLLMServer() as srv:
        async with httpx.AsyncClient() as client:

            async def timed(prompt: str = "fast") -> float:
                started = time.perf_counter()
                response = await client.post(f"{srv.base_url}/chat/completions", json=chat_body(prompt))
                assert response.status_code == 200
                return time.perf_counter() - started

            assert await timed() < 0.15
            srv.set_latency(0.25)
            assert 0.25 <= await timed() < 0.5
            srv.set_latency((0.1, 0.15))
            assert 0.1 <= await timed() < 0.35
            srv.set_latency(lambda r: 0.2 if "slow" in r.prompt else 0.0)
            assert 0.2 <= await timed("slow please") < 0.4
            assert await timed("quick") < 0.15
            srv.set_latency(0)
            assert await timed() < 0.15
    with pytest.raises(ConfigError):
        srv.set_latency(-1)


def test_latency_callable_receives_the_request(client: httpx.Client) -> None:
    seen: list[str] = []

    def latency(request: FakeRequest) -> float:
        seen.append(request.prompt)
        return 0.0

    with FakeLLMServer(latency=latency) as srv:
        chat(client, srv, chat_body("where am I"))
    assert seen == ["where am I"]
