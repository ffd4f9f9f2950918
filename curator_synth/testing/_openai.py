"""OpenAI wire shapes for the fake server: request validation, response and error bodies.

Kept free of aiohttp so the shapes can be read (and unit-tested) on their own. Everything here runs on
the server's per-request path, so it uses plain dicts and the stdlib C JSON encoder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from curator_synth.testing.responders import FakeReply, count_tokens

__all__ = [
    "ChoiceText",
    "Endpoint",
    "InvalidRequest",
    "ParsedRequest",
    "apply_limits",
    "completion_body",
    "dumps",
    "error_body",
    "parse_request",
    "truncate_half",
]

Endpoint = Literal["chat", "completions"]

_ENCODER = json.JSONEncoder(separators=(",", ":"))
dumps = _ENCODER.encode
"""Compact ``json.dumps`` without building an encoder per call."""

_MAX_N = 128


class InvalidRequest(Exception):
    """The request body is not a valid chat/completion request; the message goes into the 400 body."""


@dataclass(slots=True)
class ParsedRequest:
    """The parts of a valid request the server needs (the body itself stays a dict)."""

    endpoint: Endpoint
    model: str
    messages: list[dict[str, Any]] | None
    prompt: str
    prompt_tokens: int
    n: int
    max_tokens: int | None
    stop: tuple[str, ...]


@dataclass(slots=True)
class ChoiceText:
    """One choice after ``stop``/``max_tokens``/faults were applied."""

    text: str | None  # None: a reasoning model stopped (max_tokens) while reasoning
    finish_reason: str
    logprobs: dict[str, float] | None
    reasoning: str | None = None


def error_body(
    message: str, type_: str = "invalid_request_error", code: int | str | None = None, param: str | None = None
) -> bytes:
    """OpenAI's error envelope: ``{"error": {"message", "type", "param", "code"}}``."""
    return dumps({"error": {"message": message, "type": type_, "param": param, "code": code}}).encode()


def _content_text(content: Any, index: int) -> str:
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    if isinstance(content, list):
        parts = []
        for part in content:
            if not isinstance(part, dict):
                raise InvalidRequest(f"messages[{index}].content parts must be objects")
            text = part.get("text")
            if isinstance(text, str):
                parts.append(text)
        return " ".join(parts)
    raise InvalidRequest(f"messages[{index}].content must be a string, a list of parts or null")


def _int_option(body: dict[str, Any], name: str, low: int, high: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high and value > high):
        bound = f"between {low} and {high}" if high else f">= {low}"
        raise InvalidRequest(f"'{name}' must be an integer {bound}, got {value!r}")
    return value


def parse_request(endpoint: Endpoint, body: Any) -> ParsedRequest:
    """Validate a chat or completions body; raise :class:`InvalidRequest` with an OpenAI-like message."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("you must provide a model parameter ('model' must be a non-empty string)")
    if body.get("stream"):
        raise InvalidRequest("'stream': true is not supported by FakeLLMServer")
    messages: list[dict[str, Any]] | None = None
    if endpoint == "chat":
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise InvalidRequest("'messages' must be a non-empty array of {role, content} objects")
        prompt = ""
        prompt_tokens = 0
        for index, message in enumerate(messages):
            if not isinstance(message, dict):
                raise InvalidRequest(f"messages[{index}] must be an object")
            role = message.get("role")
            if not isinstance(role, str) or not role:
                raise InvalidRequest(f"messages[{index}].role must be a non-empty string")
            if "content" not in message and role != "assistant":
                raise InvalidRequest(f"messages[{index}] is missing 'content'")
            text = _content_text(message.get("content"), index)
            prompt_tokens += count_tokens(text)
            if role == "user":
                prompt = text
    else:
        raw_prompt = body.get("prompt")
        if not isinstance(raw_prompt, str):
            raise InvalidRequest("'prompt' must be a string")
        prompt = raw_prompt
        prompt_tokens = count_tokens(prompt)
    n = _int_option(body, "n", 1, _MAX_N) or 1
    max_tokens = _int_option(body, "max_tokens", 1)
    if max_tokens is None and endpoint == "chat":
        max_tokens = _int_option(body, "max_completion_tokens", 1)
    raw_stop = body.get("stop")
    if raw_stop is None:
        stop: tuple[str, ...] = ()
    elif isinstance(raw_stop, str):
        stop = (raw_stop,) if raw_stop else ()
    elif isinstance(raw_stop, list) and all(isinstance(s, str) for s in raw_stop):
        stop = tuple(s for s in raw_stop if s)
    else:
        raise InvalidRequest("'stop' must be a string, an array of strings or null")
    return ParsedRequest(endpoint, model, messages, prompt, prompt_tokens, n, max_tokens, stop)


def apply_limits(reply: str | FakeReply, stop: tuple[str, ...], max_tokens: int | None) -> ChoiceText:
    """Cut a responder's reply at the first stop string, then to ``max_tokens`` whitespace tokens."""
    if isinstance(reply, str):
        text, finish, logprobs, reasoning = reply, "stop", None, None
    elif isinstance(reply, FakeReply):
        text, finish, logprobs, reasoning = reply.text, reply.finish_reason, reply.logprobs, reply.reasoning
    else:
        raise TypeError(f"a responder must return str or FakeReply, got {type(reply).__name__}")
    if reasoning is not None and max_tokens is not None:  # the reasoning is generated first, within max_tokens
        thought = reasoning.split()
        if len(thought) >= max_tokens:
            return ChoiceText(None, "length", logprobs, " ".join(thought[:max_tokens]))
        max_tokens -= len(thought)
    if stop:
        cut = -1
        for s in stop:
            i = text.find(s)
            if i >= 0 and (cut < 0 or i < cut):
                cut = i
        if cut >= 0:
            text, finish = text[:cut], "stop"
    if max_tokens is not None:
        tokens = text.split()
        if len(tokens) > max_tokens:
            text, finish = " ".join(tokens[:max_tokens]), "length"
    return ChoiceText(text, finish, logprobs, reasoning)


def truncate_half(choice: ChoiceText) -> None:
    """The ``truncate`` fault: keep the first half of the tokens, ``finish_reason="length"``."""
    tokens = (choice.text or "").split()
    choice.text = " ".join(tokens[: len(tokens) // 2])
    choice.finish_reason = "length"


def _chat_logprobs(logprobs: dict[str, float]) -> dict[str, Any]:
    return {
        "content": [
            {"token": name, "logprob": value, "bytes": None, "top_logprobs": []} for name, value in logprobs.items()
        ]
    }


def _completion_logprobs(logprobs: dict[str, float]) -> dict[str, Any]:
    return {
        "tokens": list(logprobs),
        "token_logprobs": list(logprobs.values()),
        "top_logprobs": None,
        "text_offset": [0] * len(logprobs),
    }


def completion_body(
    parsed: ParsedRequest, choices: list[ChoiceText], response_number: int, created: int
) -> tuple[dict[str, Any], int]:
    """The OpenAI response dict for ``choices`` and its completion token count."""
    completion_tokens = 0
    out: list[dict[str, Any]] = []
    if parsed.endpoint == "chat":
        for index, choice in enumerate(choices):
            completion_tokens += count_tokens(choice.text or "") + count_tokens(choice.reasoning or "")
            message: dict[str, Any] = {"role": "assistant", "content": choice.text}
            if choice.reasoning is not None:
                message["reasoning_content"] = choice.reasoning
            out.append(
                {
                    "index": index,
                    "message": message,
                    "logprobs": _chat_logprobs(choice.logprobs) if choice.logprobs is not None else None,
                    "finish_reason": choice.finish_reason,
                }
            )
        head: dict[str, Any] = {"id": f"chatcmpl-{response_number}", "object": "chat.completion"}
    else:
        for index, choice in enumerate(choices):
            completion_tokens += count_tokens(choice.text or "")
            logprobs = choice.logprobs
            out.append(
                {
                    "index": index,
                    "text": choice.text or "",
                    "logprobs": _completion_logprobs(logprobs) if logprobs is not None else None,
                    "finish_reason": choice.finish_reason,
                }
            )
        head = {"id": f"cmpl-{response_number}", "object": "text_completion"}
    head["created"] = created
    head["model"] = parsed.model
    head["choices"] = out
    head["usage"] = {
        "prompt_tokens": parsed.prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": parsed.prompt_tokens + completion_tokens,
    }
    return head, completion_tokens
