from __future__ import annotations

import json
from email.utils import formatdate
from pathlib import Path
from time import time

import pytest

from curator_synth import AsyncOpenAIClient
from curator_synth.clients import Journal, Secret, protocol
from curator_synth.clients.transport import HTTPRequest, HTTPResponse
from curator_synth.errors import (
    BadRequestError,
    ConfigError,
    ContextLengthError,
    ConversationFormatError,
    MalformedResponseError,
    NotARewardModelError,
    RateLimitError,
    RequestSummary,
    ResponseParseError,
    ServerError,
    TruncatedResponseError,
    UnsupportedRequestError,
)
from curator_synth.testing import FakeLLMServer, Faults, Reward

USER = [{"role": "user", "content": "hi"}]
SUMMARY = RequestSummary.create("POST", "http://127.0.0.1:9/v1/chat/completions", "m")


def summary() -> RequestSummary:
    return SUMMARY


def query(**overrides: object) -> HTTPRequest:
    args: dict = dict(
        messages=USER, model="m", max_tokens=None, temperature=None, top_p=None, seed=None, stop=None, n=1,
        conversation_formatter=None, extra={},
    )  # fmt: skip
    args.update(overrides)
    return protocol.build_query(**args)


def test_chat_body_omits_unset_params() -> None:
    request = query()
    assert request.path == "chat/completions"
    assert json.loads(request.body) == {"model": "m", "messages": USER}


def test_chat_body_with_all_params_is_canonical() -> None:
    request = query(max_tokens=5, temperature=0.5, top_p=0.9, seed=7, stop=["\n"], n=3, extra={"top_k": 2})
    body = json.loads(request.body)
    assert body == {
        "model": "m", "messages": USER, "max_tokens": 5, "temperature": 0.5, "top_p": 0.9, "seed": 7,
        "stop": ["\n"], "n": 3, "top_k": 2,
    }  # fmt: skip
    assert request.body == protocol.encode_body(dict(reversed(list(body.items()))))  # key order irrelevant


def test_formatter_switches_to_completions_with_template_stop() -> None:
    request = query(conversation_formatter="chatml")
    body = json.loads(request.body)
    assert request.path == "completions"
    assert body["prompt"].endswith("<|im_start|>assistant\n")
    assert "messages" not in body
    assert body["stop"] == ["<|im_end|>"]
    assert json.loads(query(conversation_formatter="chatml", stop="X").body)["stop"] == "X"


@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        ({"model": ""}, ConfigError, "model"),
        ({"n": 0}, ConfigError, "n must be"),
        ({"extra": {"temperature": 1}}, ConfigError, "named arguments"),
        ({"messages": "hi"}, ConversationFormatError, "non-empty list"),
        ({"messages": []}, ConversationFormatError, "non-empty list"),
        ({"messages": [{"content": "x"}]}, ConversationFormatError, r"messages\[0\]"),
    ],
)
def test_bad_arguments_fail_before_sending(overrides: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        query(**overrides)


def test_messages_may_be_any_iterable() -> None:
    assert json.loads(query(messages=iter(USER)).body)["messages"] == USER


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "soon"}, None),
        ({}, None),
        ({"retry-after": "-3"}, 0.0),
    ],
)
def test_retry_after(headers: dict, expected: float | None) -> None:
    assert protocol.parse_retry_after(headers) == expected


def test_retry_after_http_date() -> None:
    value = protocol.parse_retry_after({"retry-after": formatdate(time() + 30, usegmt=True)})
    assert value is not None
    assert 25 < value <= 31


def response(status: int, body: object, headers: dict | None = None) -> HTTPResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HTTPResponse(status, headers or {}, raw)


def test_decode_status_errors() -> None:
    with pytest.raises(RateLimitError) as info:
        protocol.decode_response(response(429, {"error": {"message": "too many"}}, {"retry-after": "3"}), summary)
    assert info.value.retry_after == 3.0
    assert "too many" in str(info.value)
    with pytest.raises(ServerError, match="upstream died"):
        protocol.decode_response(response(503, {"detail": "upstream died"}), summary)


def test_decode_malformed_keeps_raw() -> None:
    with pytest.raises(MalformedResponseError) as info:
        protocol.decode_response(response(200, b'{"choices": [{"mess'), summary)
    assert info.value.raw == '{"choices": [{"mess'
    with pytest.raises(MalformedResponseError, match="no 'choices'") as info:
        protocol.decode_response(response(200, {"id": 1}), summary)
    assert info.value.request == SUMMARY


def test_decode_an_error_answered_with_200_keeps_the_server_message() -> None:
    body = {"error": {"message": "model overloaded, try later", "type": "server_error", "code": None}}
    with pytest.raises(MalformedResponseError, match="answered 200 with an error: model overloaded") as info:
        protocol.decode_response(response(200, body), summary)
    assert info.value.retryable
    with pytest.raises(ServerError, match="model overloaded") as status_info:
        protocol.decode_response(response(200, {"error": {"message": "model overloaded", "code": 503}}), summary)
    assert status_info.value.status_code == 503
    with pytest.raises(BadRequestError, match="context too long"):
        protocol.decode_response(response(200, {"error": {"message": "context too long", "status": 400}}), summary)
    with pytest.raises(MalformedResponseError, match="with an error: gateway broke"):
        protocol.decode_response(response(200, {"error": "gateway broke", "code": 502}), summary)
    ok = {"choices": [{"index": 0, "message": {"content": "x"}}], "error": None}
    assert protocol.decode_response(response(200, ok), summary) == ok


def test_decode_empty_choices_is_malformed_before_anyone_journals_it() -> None:
    with pytest.raises(MalformedResponseError, match="empty 'choices' list") as info:
        protocol.decode_response(response(200, {"id": "x", "choices": [], "usage": {}}), summary)
    assert info.value.raw == '{"id": "x", "choices": [], "usage": {}}'


def test_decode_redacts_the_whole_body_before_cutting_the_excerpt() -> None:
    key = "sk-straddle-0123456789"
    Secret(key)
    body = json.dumps({"error": {"message": "refused"}, "detail": "x" * 246 + key}).encode()
    assert 290 < body.index(key.encode()) < 300 < body.index(key.encode()) + len(key)  # the key straddles the cut
    with pytest.raises(ServerError) as info:
        protocol.decode_response(HTTPResponse(500, {}, body), summary)
    assert key[:6] not in info.value.body
    assert key[:6] not in str(info.value)
    assert info.value.body.endswith('x***"}')


def test_redaction_of_echoed_text() -> None:
    def redact(text: str) -> str:
        return text.replace("sk-XYZ", "***")

    with pytest.raises(ServerError) as info:
        protocol.decode_response(response(500, {"error": {"message": "bad key sk-XYZ"}}), summary, redact)
    assert "sk-XYZ" not in str(info.value)
    assert "***" in str(info.value)


def chat_payload(*texts: str, finish: str = "stop") -> dict:
    return {
        "choices": [
            {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": finish}
            for i, t in reversed(list(enumerate(texts)))
        ]
    }


def test_texts_in_index_order_and_n_checked() -> None:
    request = query(n=2)
    assert protocol.texts(chat_payload("a", "b"), request, 2) == ["a", "b"]
    with pytest.raises(ResponseParseError, match="n=3"):
        protocol.texts(chat_payload("a", "b"), request, 3)


def test_completion_texts() -> None:
    request = query(conversation_formatter="single_turn")
    assert protocol.texts({"choices": [{"index": 0, "text": "t"}]}, request, 1) == ["t"]
    with pytest.raises(MalformedResponseError, match="text"):
        protocol.texts({"choices": [{"index": 0, "message": {}}]}, request, 1)


def test_truncation_policy() -> None:
    request = query()
    payload = chat_payload("cut", finish="length")
    assert protocol.texts(payload, request, 1, "return") == ["cut"]
    with pytest.raises(TruncatedResponseError):
        protocol.texts(payload, request, 1, "raise")


def test_null_content_is_an_error_not_an_empty_string() -> None:
    payload = {"choices": [{"index": 0, "message": {"role": "assistant", "content": None}}]}
    with pytest.raises(ResponseParseError, match="no text content"):
        protocol.texts(payload, query(), 1)


def test_reward_scores() -> None:
    content = [{"token": "helpfulness", "logprob": 3.5}, {"token": "verbosity", "logprob": 1.0}]
    payload = {"choices": [{"index": 0, "message": {"content": ""}, "logprobs": {"content": content}}]}
    assert protocol.reward_scores(payload, "rm") == {"helpfulness": 3.5, "verbosity": 1.0}
    with pytest.raises(NotARewardModelError, match="not a reward model"):
        protocol.reward_scores(chat_payload("hi"), "chat-model")
    with pytest.raises(MalformedResponseError):
        protocol.reward_scores({"choices": [{"logprobs": {"content": [{"tok": 1}]}}]}, "rm")


# --------------------------------------------------------------------------- against FakeLLMServer
@pytest.mark.parametrize(
    ("code", "error"), [(None, MalformedResponseError), (503, ServerError), ("overloaded", MalformedResponseError)]
)
async def test_a_200_error_body_raises_with_the_server_message(code: object, error: type[Exception]) -> None:
    with FakeLLMServer(faults=Faults(error_body=1.0, error_body_code=code)) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, max_retries=0) as client:
            with pytest.raises(error, match="injected by FakeLLMServer"):
                await client.query_model(messages=USER, model="m")


async def test_empty_choices_fail_and_are_not_journaled(tmp_path: Path) -> None:
    with FakeLLMServer(faults=Faults(script=["empty_choices", "empty_choices"])) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, max_retries=0, cache_dir=tmp_path) as client:
            with pytest.raises(MalformedResponseError, match="empty 'choices' list"):
                await client.query_model(messages=USER, model="m")
            client.flush_journal()
            assert list(Journal.read(tmp_path)) == []
            with pytest.raises(MalformedResponseError):  # asked again, not replayed from the journal
                await client.query_model(messages=USER, model="m")
            assert await client.query_model(messages=USER, model="m") == ["hi"]
        assert server.stats()["requests"] == 3


async def test_reward_answers_still_decode() -> None:
    with FakeLLMServer(Reward()) as server:
        async with AsyncOpenAIClient(base_url=server.base_url) as client:
            scores = await client.query_reward_model(
                messages=[*USER, {"role": "assistant", "content": "yo"}], model="r"
            )
    assert set(scores) == {"helpfulness", "correctness", "coherence", "complexity", "verbosity"}


def test_a_context_overflow_is_a_context_length_error_with_the_limit() -> None:
    llama = {
        "error": {
            "message": "This model's maximum context length is 2048 tokens. However, you requested 6040 tokens.",
            "type": "invalid_request_error",
            "code": "context_length_exceeded",
        }
    }
    with pytest.raises(ContextLengthError) as caught:
        protocol.decode_response(response(400, llama), summary)
    assert caught.value.context_length == 2048
    assert not caught.value.retryable
    vllm = {"object": "error", "message": "This model's maximum context length is 4096 tokens.", "code": 400}
    with pytest.raises(ContextLengthError, match="4096"):
        protocol.decode_response(response(400, vllm), summary)


def test_a_request_validation_error_answered_with_500_is_not_retried() -> None:
    llama = {
        "error": {
            "message": "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'),"
            " 'msg': \"Input should be 'text' or 'json_object'\"}",
            "type": "internal_server_error",
        }
    }
    with pytest.raises(UnsupportedRequestError) as caught:
        protocol.decode_response(response(500, llama), summary)
    assert caught.value.status_code == 500
    assert not caught.value.retryable
    with pytest.raises(ServerError):  # an ordinary 500 stays a retryable server error
        protocol.decode_response(response(500, {"error": {"message": "CUDA out of memory"}}), summary)
