"""JSON in model answers: find the value (fenced or wrapped in prose), then validate it with pydantic.

Strict JSON only (no trailing commas, no single quotes, no comments): a repaired guess could silently change
the data. Instead every error says where the JSON broke, so a caller can show the model its mistake
(:func:`curator_synth.structured.query_structured` does exactly that).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar, overload

from pydantic import BaseModel, TypeAdapter, ValidationError

from curator_synth.errors import ResponseParseError
from curator_synth.parsing._markdown import fenced_blocks

__all__ = ["extract_json", "format_validation_errors", "parse_json_as"]

T = TypeVar("T")

_DECODER = json.JSONDecoder()
_MAX_ERRORS = 8
_OPENERS = {"{": "}", "[": "]"}


def extract_json(text: str) -> Any:
    """The first complete JSON object or array in a model answer.

    Looked for, in order: the whole answer as JSON (a bare scalar is accepted here too); the first fenced code
    block whose body starts with ``{`` or ``[``; then a value starting at the beginning of a line; then one
    starting anywhere (so ``see [1]`` in a sentence does not win over a JSON object below it).

    Raises :class:`ResponseParseError` (answer in ``.raw``) when there is none, saying where the most
    JSON-like candidate failed, or that the answer ends inside a value (a truncated answer).
    """
    stripped = text.strip()
    if not stripped:
        raise ResponseParseError("the answer is empty, expected JSON", raw=text)
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        pass
    for block in fenced_blocks(text):
        body = block.body.strip()
        if body[:1] in _OPENERS:
            try:
                return json.loads(body)
            except json.JSONDecodeError as exc:
                ending = "" if block.closed else "; the code block is not closed (truncated answer?)"
                raise ResponseParseError(
                    f"the JSON in the {block.language or 'unlabelled'} code block is invalid: {_describe(exc)}{ending}",
                    raw=text,
                ) from exc
    return _scan(text)


def _scan(text: str) -> Any:
    first_anywhere: tuple[Any] | None = None
    worst: tuple[int, str] | None = None  # (span length, message) of the most JSON-like failure
    position = 0
    while True:
        start = _next_opener(text, position)
        if start < 0:
            break
        try:
            value, end = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            span_end = _span_end(text, start)
            if span_end is None:
                if first_anywhere is not None and not _starts_line(text, start):
                    return first_anywhere[0]
                raise ResponseParseError(
                    f"the answer ends inside the JSON value starting at {_where(text, start)} "
                    f"(truncated answer?): {_describe(exc)}",
                    raw=text,
                ) from exc
            if worst is None or span_end - start > worst[0]:
                worst = (span_end - start, f"the JSON starting at {_where(text, start)} is invalid: {_describe(exc)}")
            position = span_end
            continue
        if _starts_line(text, start):
            return value
        if first_anywhere is None:
            first_anywhere = (value,)
        position = end
    if first_anywhere is not None:
        return first_anywhere[0]
    if worst is not None:
        raise ResponseParseError(worst[1], raw=text)
    raise ResponseParseError("no JSON object or array found in the answer", raw=text)


def _next_opener(text: str, position: int) -> int:
    starts = [index for index in (text.find("{", position), text.find("[", position)) if index >= 0]
    return min(starts) if starts else -1


def _starts_line(text: str, index: int) -> bool:
    line_start = text.rfind("\n", 0, index) + 1
    return not text[line_start:index].strip()


def _span_end(text: str, start: int) -> int | None:
    """Where the bracketed span opened at ``start`` ends (after its closer or a mismatched closer), None if
    the text ends inside it. Brackets inside double-quoted strings are ignored."""
    stack: list[str] = []
    in_string = escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in _OPENERS:
            stack.append(_OPENERS[char])
        elif char in "]})":
            if char != stack[-1]:
                return index + 1  # a mismatched closer: not JSON, the span ends here
            stack.pop()
            if not stack:
                return index + 1
    return None


def _where(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line} column {column}"


def _describe(exc: json.JSONDecodeError) -> str:
    excerpt = exc.doc[max(0, exc.pos - 20) : exc.pos + 20]
    return f"{exc.msg} at line {exc.lineno} column {exc.colno} (near {excerpt!r})"


# ---------------------------------------------------------------------------------------------- validation
@overload
def parse_json_as(text: str, model: type[T]) -> T: ...


@overload
def parse_json_as(text: str, model: Any) -> Any: ...


def parse_json_as(text: str, model: Any) -> Any:
    """The JSON in ``text`` (found by :func:`extract_json`) validated as ``model``.

    ``model`` is a pydantic model class, or anything :class:`pydantic.TypeAdapter` accepts (``list[str]``, a
    dataclass, a ``TypedDict``). A validation failure raises :class:`ResponseParseError` whose message lists
    the field errors compactly (see :func:`format_validation_errors`), chained to the ``ValidationError``.
    """
    data = extract_json(text)
    try:
        if _is_model(model):
            return model.model_validate(data)
        return TypeAdapter(model).validate_python(data)
    except ValidationError as exc:
        name = repr(model) if getattr(model, "__args__", None) else getattr(model, "__name__", repr(model))
        raise ResponseParseError(f"the JSON does not match {name}: {format_validation_errors(exc)}", raw=text) from exc


def _is_model(model: Any) -> bool:
    try:
        return isinstance(model, type) and issubclass(model, BaseModel)
    except TypeError:  # list[int] passes isinstance(..., type) on some Pythons but is no class
        return False


def format_validation_errors(exc: ValidationError, *, limit: int = _MAX_ERRORS) -> str:
    """A pydantic ``ValidationError`` on one line: ``"name: Field required; age: Input should be ... (got 'x')"``.

    Locations use dots and ``[index]``; at most ``limit`` errors are listed, then ``(+N more)``.
    """
    parts: list[str] = []
    errors = exc.errors(include_url=False)
    for error in errors[:limit]:
        location = ""
        for key in error["loc"]:
            location += f"[{key}]" if isinstance(key, int) else (f".{key}" if location else str(key))
        message = error["msg"]
        if error["type"] != "missing":
            shown = repr(error.get("input"))
            message += f" (got {shown if len(shown) <= 40 else shown[:37] + '...'})"
        parts.append(f"{location or '(root)'}: {message}")
    if len(errors) > limit:
        parts.append(f"(+{len(errors) - limit} more)")
    return "; ".join(parts)
