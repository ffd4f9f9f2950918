"""Structured output: a validated pydantic model from any :class:`~curator_synth.clients.AsyncLLMClient`.

Three modes, tried in this order until the endpoint accepts one:

- ``"json_schema"``: OpenAI's ``response_format={"type": "json_schema", ...}`` (OpenAI, vLLM, NIM).
- ``"json_object"``: ``response_format={"type": "json_object", "schema": ...}``, the form llama.cpp and vLLM
  constrain decoding with (llama.cpp answers ``json_schema`` with an HTTP 500; that 500 is mapped to
  :class:`~curator_synth.errors.UnsupportedRequestError` by the protocol layer). The schema is in the prompt too.
- ``"prompt"``: any chat endpoint: a system instruction carries the JSON schema and the answer is parsed with
  :func:`~curator_synth.parsing.extract_json`.

An endpoint that refuses a mode's ``response_format`` (a ``BadRequestError``: 400/422, or the mapped 500) makes
:func:`query_structured` go to the next mode; once a mode has gone through, the client remembers it for that
model, so later calls skip the refused attempts. In every mode an answer that does not validate is shown back
to the model with the validation errors, up to ``max_repairs`` times.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from contextlib import suppress
from typing import Any, Literal, TypeVar
from weakref import WeakKeyDictionary

from pydantic import BaseModel

from curator_synth.clients.base import AsyncLLMClient
from curator_synth.errors import BadRequestError, ConfigError, ContextLengthError, ResponseParseError
from curator_synth.parsing import parse_json_as

__all__ = ["StructuredMode", "accepted_mode", "query_structured", "response_format_for", "schema_instruction"]

M = TypeVar("M", bound=BaseModel)

StructuredMode = Literal["json_schema", "json_object", "prompt"]
"""``"json_schema"``/``"json_object"``: constrained decoding through ``response_format``; ``"prompt"``: the
schema in a system message, the JSON parsed out of the answer. A mode is where the chain starts."""

_MODES: tuple[StructuredMode, ...] = ("json_schema", "json_object", "prompt")
_SCHEMA_KEYS = ("items", "additionalProperties", "not", "contains")
_SCHEMA_LIST_KEYS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_MAP_KEYS = ("properties", "$defs", "definitions", "patternProperties")

# client -> {model: the mode its endpoint accepted} (weak keys: a closed, dropped client is forgotten)
_ACCEPTED: WeakKeyDictionary[AsyncLLMClient, dict[str, StructuredMode]] = WeakKeyDictionary()


async def query_structured(
    client: AsyncLLMClient,
    *,
    messages: Iterable[Mapping[str, Any]],
    model: str,
    schema: type[M],
    mode: StructuredMode = "json_schema",
    max_repairs: int = 2,
    **params: Any,
) -> M:
    """Ask ``model`` for an answer and return it validated as ``schema`` (a pydantic model class).

    ``params`` go to :meth:`~curator_synth.clients.AsyncLLMClient.query_model` (``temperature``,
    ``max_tokens``, extra body fields); ``response_format`` is set here and ``n`` must stay 1. ``mode`` is where
    the fallback chain starts (``"prompt"`` never sends ``response_format``).

    An answer that is not valid JSON or does not validate is sent back as an assistant turn, followed by a
    user message quoting the errors and asking for corrected JSON, at most ``max_repairs`` times; then
    :class:`ResponseParseError` is raised with the last answer in ``.raw``. Transport and API errors are
    raised as the client raises them, except a ``BadRequestError`` to a ``response_format`` request (not a
    context-length one), which moves to the next mode.
    """
    if mode not in _MODES:
        raise ConfigError(f"mode must be one of {_MODES}, got {mode!r}")
    if isinstance(max_repairs, bool) or not isinstance(max_repairs, int) or max_repairs < 0:
        raise ConfigError(f"max_repairs must be a non-negative integer, got {max_repairs!r}")
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        raise ConfigError(f"schema must be a pydantic BaseModel subclass, got {schema!r}")
    if "response_format" in params:
        raise ConfigError("query_structured sets response_format itself; choose the mode instead")
    if params.pop("n", 1) != 1:
        raise ConfigError("query_structured asks for one answer: n must be 1")

    original = [dict(message) for message in messages]
    chain = list(_MODES[_MODES.index(_accepted(client, model) or mode) :])
    current = chain.pop(0)
    conversation, extra = _request(original, schema, current)
    confirmed = False
    repairs = 0
    while True:
        try:
            texts = await client.query_model(messages=conversation, model=model, **params, **extra)
        except BadRequestError as error:
            if not extra or repairs or isinstance(error, ContextLengthError) or not chain:
                raise
            current = chain.pop(0)
            conversation, extra = _request(original, schema, current)
            continue
        if not confirmed:
            _remember(client, model, current)
            confirmed = True
        answer = texts[0] if texts else ""
        try:
            return parse_json_as(answer, schema)
        except ResponseParseError as exc:
            if repairs >= max_repairs:
                raise ResponseParseError(
                    f"no valid {schema.__name__} after {repairs + 1} answer(s): {exc}", raw=answer
                ) from exc
            repairs += 1
            conversation = [
                *conversation,
                {"role": "assistant", "content": answer},
                {"role": "user", "content": _repair_request(str(exc))},
            ]


def _request(
    messages: list[dict[str, Any]], schema: type[BaseModel], mode: StructuredMode
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The conversation and extra body fields of ``mode``."""
    if mode == "json_schema":
        return messages, {"response_format": response_format_for(schema)}
    if mode == "json_object":
        fmt = {"type": "json_object", "schema": schema.model_json_schema()}
        return _with_instruction(messages, schema), {"response_format": fmt}
    return _with_instruction(messages, schema), {}


def accepted_mode(client: AsyncLLMClient, model: str) -> StructuredMode | None:
    """The structured-output mode ``client``'s endpoint accepted for ``model`` so far (None: not tried yet)."""
    return _accepted(client, model)


def _accepted(client: AsyncLLMClient, model: str) -> StructuredMode | None:
    try:
        return _ACCEPTED.get(client, {}).get(model)
    except TypeError:  # not weakly referenceable
        return None


def _remember(client: AsyncLLMClient, model: str, mode: StructuredMode) -> None:
    with suppress(TypeError):  # a client that cannot be weakly referenced just asks again next time
        _ACCEPTED.setdefault(client, {})[model] = mode


def _with_instruction(messages: list[dict[str, Any]], schema: type[BaseModel]) -> list[dict[str, Any]]:
    """The conversation with the JSON instruction in its system message (merged into an existing one)."""
    instruction = schema_instruction(schema)
    if messages and messages[0].get("role") == "system" and isinstance(messages[0].get("content"), str):
        first = {**messages[0], "content": f"{messages[0]['content']}\n\n{instruction}"}
        return [first, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]


def _repair_request(errors: str) -> str:
    return (
        f"Your previous reply could not be used: {errors}\n"
        "Please send the corrected JSON object again. It must match the JSON Schema you were given, and the "
        "reply must contain the JSON only, with no other text."
    )


def schema_instruction(schema: type[BaseModel]) -> str:
    """The prompt-mode system instruction: reply with JSON only, valid against ``schema``'s JSON Schema."""
    schema_text = json.dumps(schema.model_json_schema(), ensure_ascii=False)
    return (
        "Reply with a single JSON object and nothing else: no introduction, no explanation, no markdown "
        "and no code fences. The object must be valid against this JSON Schema:\n" + schema_text
    )


def response_format_for(schema: type[BaseModel], *, strict: bool = True) -> dict[str, Any]:
    """OpenAI's ``response_format`` value for ``schema`` (usable in any request's extra parameters).

    The name is the class name reduced to the characters OpenAI allows. With ``strict=True`` the schema is
    adapted to OpenAI's strict mode the way the openai SDK does it: every object gets
    ``additionalProperties: false`` and lists all its properties as required (optional fields stay nullable
    through their ``anyOf``), ``default: null`` is dropped, and a ``$ref`` with sibling keys is inlined.
    The answer is still validated against the pydantic model itself.
    """
    json_schema = schema.model_json_schema()
    if strict:
        json_schema = _strict(json_schema, json_schema.get("$defs", {}), ())
    name = re.sub(r"[^A-Za-z0-9_-]", "_", schema.__name__)[:64] or "response"
    return {"type": "json_schema", "json_schema": {"name": name, "schema": json_schema, "strict": strict}}


def _strict(node: Any, defs: Mapping[str, Any], inlining: tuple[str, ...]) -> Any:
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1 and ref.startswith("#/$defs/") and ref not in inlining:
        target = defs.get(ref.removeprefix("#/$defs/"))
        if isinstance(target, dict):
            merged = {**target, **{key: value for key, value in node.items() if key != "$ref"}}
            return _strict(merged, defs, (*inlining, ref))
    out = dict(node)
    for key in _SCHEMA_KEYS:
        if isinstance(out.get(key), dict):
            out[key] = _strict(out[key], defs, inlining)
    for key in _SCHEMA_LIST_KEYS:
        if isinstance(out.get(key), list):
            out[key] = [_strict(item, defs, inlining) for item in out[key]]
    for key in _SCHEMA_MAP_KEYS:
        if isinstance(out.get(key), dict):
            out[key] = {name: _strict(value, defs, inlining) for name, value in out[key].items()}
    if out.get("type") == "object" and isinstance(out.get("properties"), dict):
        out.setdefault("additionalProperties", False)
        out["required"] = list(out["properties"])
    if "default" in out and out["default"] is None:
        del out["default"]
    return out
