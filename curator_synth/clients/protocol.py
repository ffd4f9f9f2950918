"""The OpenAI-compatible wire protocol, written once: request bodies in, texts / reward scores / typed errors out.

Used by every client (sync and async alike, through the one async engine). Bodies are serialised canonically
(sorted keys, compact) so the same request always has the same bytes, which the journal hashes.

Text taken from a response into an error is redacted whole (:func:`curator_synth.redact.redact`: every
registered key, URL credentials), then cut: a key straddling the cut would otherwise leak most of itself.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from time import time
from typing import Any, Literal

from curator_synth.clients.formatters import FormatsConversations, resolve_formatter
from curator_synth.clients.reasoning import split_reasoning
from curator_synth.clients.transport.base import HTTPRequest, HTTPResponse
from curator_synth.errors import (
    APIStatusError,
    ConfigError,
    ContentFilterError,
    ContextLengthError,
    ConversationFormatError,
    MalformedResponseError,
    NotARewardModelError,
    RequestSummary,
    ResponseParseError,
    TruncatedResponseError,
    UnsupportedRequestError,
    status_error_for,
)
from curator_synth.redact import redact as redact_secrets

__all__ = [
    "CHAT_PATH",
    "COMPLETIONS_PATH",
    "OnTruncated",
    "build_query",
    "build_reward_query",
    "decode_document",
    "decode_response",
    "encode_body",
    "estimate_tokens",
    "estimated_prompt_tokens",
    "parse_retry_after",
    "reward_scores",
    "texts",
]

CHAT_PATH = "chat/completions"
COMPLETIONS_PATH = "completions"
OnTruncated = Literal["return", "raise", "retry"]
_RESERVED = frozenset({"model", "messages", "prompt", "n", "max_tokens", "temperature", "top_p", "seed", "stop"})
_EXCERPT = 300  # characters of a response body kept in an error, cut after redaction


def encode_body(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _message_list(messages: object) -> list[Any]:
    """The messages as a list, checked for shape (any iterable of dicts is accepted)."""
    iterable = isinstance(messages, Iterable) and not isinstance(messages, (str, bytes, Mapping))
    items = list(messages) if iterable else []  # type: ignore[call-overload]
    if not items:
        raise ConversationFormatError("messages must be a non-empty list of {'role': ..., 'content': ...} dicts")
    for index, message in enumerate(items):
        if not isinstance(message, Mapping) or "role" not in message or "content" not in message:
            raise ConversationFormatError(f"messages[{index}] must be a dict with 'role' and 'content'")
    return items


def build_query(
    *,
    messages: Iterable[Mapping[str, Any]],
    model: str,
    max_tokens: int | None,
    temperature: float | None,
    top_p: float | None,
    seed: int | None,
    stop: str | Sequence[str] | None,
    n: int,
    conversation_formatter: FormatsConversations | str | None,
    extra: Mapping[str, Any],
) -> HTTPRequest:
    """Chat request by default; with a conversation formatter, a ``/completions`` request of the formatted prompt."""
    if not isinstance(model, str) or not model:
        raise ConfigError("model must be a non-empty string")
    if not isinstance(n, int) or n < 1:
        raise ConfigError(f"n must be a positive integer, got {n!r}")
    clash = _RESERVED.intersection(extra)
    if clash:
        raise ConfigError(f"pass {sorted(clash)} as named arguments of query_model, not as extra parameters")
    formatter = resolve_formatter(conversation_formatter)
    body: dict[str, Any] = {"model": model}
    if formatter is None:
        body["messages"] = _message_list(messages)
        path = CHAT_PATH
    else:
        body["prompt"] = formatter.format_conversation(_message_list(messages))
        path = COMPLETIONS_PATH
        default_stop = getattr(formatter, "stop", None)  # the stop strings of a template of ours
        if stop is None and default_stop:
            stop = list(default_stop)
    for key, value in (
        ("max_tokens", max_tokens),
        ("temperature", temperature),
        ("top_p", top_p),
        ("seed", seed),
        ("stop", stop),
    ):
        if value is not None:
            body[key] = value
    if n != 1:
        body["n"] = n
    body.update(extra)
    return HTTPRequest(path, encode_body(body), model)


def build_reward_query(*, messages: Iterable[Mapping[str, Any]], model: str) -> HTTPRequest:
    if not isinstance(model, str) or not model:
        raise ConfigError("model must be a non-empty string")
    return HTTPRequest(CHAT_PATH, encode_body({"model": model, "messages": _message_list(messages)}), model)


def estimate_tokens(request: HTTPRequest, default_completion: int = 256) -> int:
    """A cheap upper-ish estimate for token budgets: ~4 bytes per prompt token plus the completion allowance."""
    body_tokens = len(request.body) // 4
    return body_tokens + default_completion


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms``, ``Retry-After`` (seconds or HTTP date); None if absent/garbled."""
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _error_message(payload: object) -> str:
    """The server's own message in an error body (OpenAI ``{"error": {"message"}}``, FastAPI ``{"detail"}``)."""
    if isinstance(payload, dict):
        error = payload.get("error", payload)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if isinstance(payload.get("detail"), str):  # FastAPI-style (vLLM, NIM)
            return str(payload["detail"])
    return ""


def _named_status(error: object) -> int | None:
    """The HTTP status an error object names in ``code`` or ``status`` (an int in 400..599), else None."""
    if isinstance(error, dict):
        for name in ("code", "status"):
            value = error.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and 400 <= value <= 599:
                return value
    return None


def decode_response(
    response: HTTPResponse, summary: Callable[[], RequestSummary], redact: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """Raise the typed error for a non-2xx status or a 2xx error answer; parse the JSON body of a 2xx one.

    ``summary`` builds the request summary for an error (only called on failure: it is not free). Error text
    taken from the response is passed whole through :func:`curator_synth.redact.redact` and ``redact`` (e.g.
    a client's own scrubber), then cut. A 2xx body that is an error (``{"error": {...}}``) raises the status
    error it names (``code``/``status`` 400..599), else :class:`MalformedResponseError`; a 2xx body without a
    non-empty ``choices`` list raises :class:`MalformedResponseError`, so it is never journaled.
    """
    payload = decode_document(response, summary, redact)
    if payload.get("error"):
        said = _scrubbed(_error_message(payload), redact) or "(no message)"
        message = f"the endpoint answered {response.status} with an error: {said}"
        named = _named_status(payload["error"])
        if named is None:
            raise _malformed(response, message, redact, summary)
        raise _status_error(response, named, message, redact, summary)
    if not isinstance(payload.get("choices"), list):
        raise _malformed(response, "the response has no 'choices' list", redact, summary)
    if not payload["choices"]:
        raise _malformed(response, "the response has an empty 'choices' list", redact, summary)
    return payload


def decode_document(
    response: HTTPResponse, summary: Callable[[], RequestSummary], redact: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """The JSON object of a 2xx answer (e.g. to ``GET models``); a non-2xx status raises its typed error, a body
    that is not a JSON object :class:`MalformedResponseError`."""
    if not 200 <= response.status < 300:
        try:
            payload: Any = json.loads(response.body)
        except ValueError:
            payload = None
        message = _scrubbed(_error_message(payload), redact) or "the endpoint returned an error"
        error = _status_error(response, response.status, message, redact, summary, _error_kind(payload, message))
        if isinstance(error, UnsupportedRequestError):
            named = payload.get("error") if isinstance(payload, dict) else None
            param = named.get("param") if isinstance(named, dict) else None
            error.param = param if isinstance(param, str) else None
        raise error
    try:
        payload = json.loads(response.body)
    except ValueError:
        raise _malformed(response, "the response body is not valid JSON", redact, summary) from None
    if not isinstance(payload, dict):
        raise _malformed(response, "the response is not a JSON object", redact, summary)
    return payload


def estimated_prompt_tokens(messages: Iterable[Mapping[str, Any]]) -> int:
    """A low estimate of a conversation's prompt tokens (6 characters a token; real tokenizers give more), so a
    prompt judged too long for the context surely is."""
    return sum(len(str(message.get("content", ""))) for message in messages) // 6


def _scrubbed(text: str, redact: Callable[[str], str] | None) -> str:
    """``text`` through the registry's :func:`~curator_synth.redact.redact`, then the caller's ``redact``."""
    text = redact_secrets(text)
    return redact(text) if redact is not None else text


def _malformed(
    response: HTTPResponse, message: str, redact: Callable[[str], str] | None, summary: Callable[[], RequestSummary]
) -> MalformedResponseError:
    raw = _scrubbed(response.body.decode("utf-8", "replace"), redact)
    return MalformedResponseError(message, raw=raw, request=summary())


_CONTEXT = re.compile(r"maximum context length is (\d+)", re.IGNORECASE)
_BODY_VALIDATION = re.compile(r"validation error.*\(\s*'body'", re.IGNORECASE | re.DOTALL)


def _error_kind(payload: object, message: str) -> type[APIStatusError] | None:
    """The error class an error body calls for beyond its status: a context-length overflow (OpenAI's and vLLM's
    ``context_length_exceeded``, llama.cpp's message), or a field the endpoint refuses: a request validation error
    some servers answer with a 5xx (FastAPI/pydantic's "validation error ... ('body', ...)"), OpenAI's
    ``unsupported_parameter`` / ``unsupported_value``. None: the status decides. Mapped here, at the
    one boundary, so that what follows is decided by type."""
    error = payload.get("error") if isinstance(payload, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    if code == "context_length_exceeded" or _CONTEXT.search(message):
        return ContextLengthError
    if code in ("unsupported_parameter", "unsupported_value") or _BODY_VALIDATION.search(message):
        return UnsupportedRequestError
    return None


def _status_error(
    response: HTTPResponse,
    status: int,
    message: str,
    redact: Callable[[str], str] | None,
    summary: Callable[[], RequestSummary],
    kind: type[APIStatusError] | None = None,
) -> APIStatusError:
    """The typed error of ``status`` (or ``kind``), with the (redacted, then cut) start of the body unless it is
    the message."""
    excerpt = _scrubbed(response.body.decode("utf-8", "replace"), redact)[:_EXCERPT]
    error = (kind or status_error_for(status))(
        message,
        status_code=status,
        request=summary(),
        body=excerpt if excerpt != message else "",
        retry_after=parse_retry_after(response.headers),
    )
    if isinstance(error, ContextLengthError):
        found = _CONTEXT.search(message)
        error.context_length = int(found.group(1)) if found else None
    return error


def texts(
    payload: Mapping[str, Any],
    request: HTTPRequest,
    n: int,
    on_truncated: OnTruncated = "return",
    *,
    partial: bool = False,
    invalid_finish: Collection[str] = (),
) -> list[str]:
    """The generated texts of a chat or completions payload, in choice order.

    ``partial``: fewer than ``n`` choices (at least one) are returned as they are, for a caller that asks for the
    rest itself (an endpoint that ignores ``n``); otherwise any count but ``n`` is an error. A choice whose
    ``finish_reason`` is in ``invalid_finish`` (or is ``length`` and ``on_truncated`` is not "return") raises:
    :class:`TruncatedResponseError` (length), :class:`ContentFilterError` (content_filter), else
    :class:`ResponseParseError`. A reasoning model's reasoning (``reasoning_content``, or ``<think>…</think>``
    before the answer) is split off: the text is the answer alone, an
    :class:`~curator_synth.clients.reasoning.Answer` whose ``reasoning`` holds the rest.
    Errors raised here carry no ``raw``: the engine attaches the raw body it received.
    """
    chat = request.path == CHAT_PATH
    choices = payload["choices"]
    if len(choices) > 1:
        choices = sorted(choices, key=lambda choice: choice.get("index", 0) if isinstance(choice, dict) else 0)
    if len(choices) != n and not (partial and 0 < len(choices) < n):
        raise ResponseParseError(
            f"asked for n={n} choices, the endpoint returned {len(choices)} (it may not support n > 1)"
        )
    out: list[str] = []
    for choice in choices:
        try:
            text = choice["message"]["content"] if chat else choice["text"]
        except (KeyError, TypeError):
            where = "message.content" if chat else "text"
            raise MalformedResponseError(f"a choice lacks {where}") from None
        reason = choice.get("finish_reason")
        if reason in invalid_finish or (reason == "length" and on_truncated != "return"):
            raise _finish_error(str(reason))  # also a reasoning model cut while reasoning (content null)
        message = choice["message"] if chat else {}
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if text is None and isinstance(reasoning, str):
            text = ""  # reasoning only: the answer is empty (and fails whatever parses it)
        if not isinstance(text, str):
            raise ResponseParseError("a choice has no text content (refusal or tool call?)")
        out.append(split_reasoning(text, reasoning))
    return out


def _finish_error(reason: str) -> ResponseParseError:
    if reason == "length":
        return TruncatedResponseError(
            "the model stopped at max_tokens (finish_reason='length'); raise max_tokens or accept truncation"
        )
    if reason == "content_filter":
        return ContentFilterError("the endpoint filtered the answer (finish_reason='content_filter')")
    return ResponseParseError(f"the answer ended with finish_reason={reason!r}, which this stage refuses")


def reward_scores(payload: Mapping[str, Any], model: str | None) -> dict[str, float]:
    """Nemotron reward models answer with one logprob per attribute in ``choices[0].logprobs.content``."""
    try:
        content = payload["choices"][0]["logprobs"]["content"]
    except (KeyError, IndexError, TypeError):
        content = None
    if not content:
        raise NotARewardModelError(
            f"model {model!r} returned no per-attribute scores in choices[0].logprobs.content: it is not a reward "
            "model (expected e.g. nvidia/nemotron-4-340b-reward)"
        )
    scores: dict[str, float] = {}
    for item in content:
        try:
            scores[str(item["token"])] = float(item["logprob"])
        except (KeyError, TypeError, ValueError):
            shown = redact_secrets(repr(item))[:100]
            raise MalformedResponseError(f"a reward logprob entry is not {{token, logprob}}: {shown}") from None
    return scores
