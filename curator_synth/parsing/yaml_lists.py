"""YAML lists in model answers, and NeMo Curator's checks on an LLM-assisted YAML conversion.

NeMo Curator's Nemotron pipelines ask a model to rewrite a free-form list answer as a YAML list, then check
the conversion: it must be a list, of strings, each found verbatim in the original answer (so the
conversion cannot invent items). :func:`parse_yaml_conversion` does both steps; the check alone is
:func:`check_yaml_conversion`.
"""

from __future__ import annotations

import re

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from curator_synth.errors import ResponseParseError, YamlConversionError
from curator_synth.parsing._markdown import fenced_blocks, indent_width, normalize_space, scan_lines
from curator_synth.redact import redact

__all__ = ["check_yaml_conversion", "parse_yaml_conversion", "parse_yaml_list"]

_SEQUENCE_START = re.compile(r"^[ \t]*(?:-(?:[ \t]|$)|\[)")
_YAML_LANGUAGES = ("yaml", "yml", "")


def parse_yaml_list(text: str, *, coerce: bool = False) -> list[str]:
    """The YAML list of strings in a model answer, in or outside a ```` ```yaml ```` fence.

    A lead-in sentence before the list and a remark after it are tolerated. Every item must be a string:
    with ``coerce=True`` numbers, booleans and dates are accepted and returned *as written* (``- 1.50``
    gives ``"1.50"``, ``- yes`` gives ``"yes"``); empty items, mappings (``- Topic: text``, an item with an
    unquoted ``": "``) and nested lists are always errors. Raises :class:`ResponseParseError` (answer in
    ``.raw``) naming the first offending item.
    """
    if not text.strip():
        raise ResponseParseError("the answer is empty, expected a YAML list", raw=text)
    node: Node | None = None
    problem = ""
    for candidate in _candidates(text):
        try:
            node = yaml.compose(candidate, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            problem = problem or f"invalid YAML: {_describe(exc)}"
            continue
        if isinstance(node, SequenceNode):
            return _items(node, coerce, text)
        problem = problem or f"the YAML is {_kind(node)}, not a list"
    raise ResponseParseError(f"no YAML list found in the answer ({problem or 'no YAML'})", raw=text)


def _candidates(text: str) -> list[str]:
    """Texts that may hold the list: a fenced YAML block, the whole answer, the part that starts a list."""
    blocks = [block.body for block in fenced_blocks(text) if block.language in _YAML_LANGUAGES]
    source = blocks[0] if blocks else text
    candidates = [source]
    lines = [line.text if line.kind == "text" else "" for line in scan_lines(source)]
    for start, line in enumerate(lines):
        if _SEQUENCE_START.match(line):
            candidates.append(_sequence_slice(lines, start))
            break
    return candidates


def _sequence_slice(lines: list[str], start: int) -> str:
    """The lines of the list starting at ``lines[start]``, without what follows it."""
    first = lines[start]
    if first.lstrip().startswith("["):
        for end in range(start, len(lines)):
            if lines[end].rstrip().endswith("]"):
                return "\n".join(lines[start : end + 1])
        return "\n".join(lines[start:])
    indent = indent_width(first)
    end = start + 1
    while end < len(lines):
        line = lines[end]
        if line.strip() and indent_width(line) <= indent and not _SEQUENCE_START.match(line):
            break
        end += 1
    return "\n".join(lines[start:end])


def _items(node: SequenceNode, coerce: bool, raw: str) -> list[str]:
    items: list[str] = []
    for position, child in enumerate(node.value, start=1):
        if isinstance(child, ScalarNode):
            kind = _kind(child)
            if kind == "null":
                raise ResponseParseError(f"item {position} of the YAML list is empty", raw=raw)
            if kind != "a string" and not coerce:
                raise ResponseParseError(
                    f"item {position} of the YAML list is {kind} ({child.value!r}), not a string "
                    "(pass coerce=True to accept it as written)",
                    raw=raw,
                )
            if not child.value.strip():
                raise ResponseParseError(f"item {position} of the YAML list is an empty string", raw=raw)
            items.append(child.value)
        elif isinstance(child, MappingNode):
            raise ResponseParseError(
                f"item {position} of the YAML list is a mapping, not a string "
                f"(starting {_source(child)!r}; quote items that contain ': ')",
                raw=raw,
            )
        else:
            raise ResponseParseError(f"item {position} of the YAML list is a nested list, not a string", raw=raw)
    if not items:
        raise ResponseParseError("the YAML list is empty", raw=raw)
    return items


def _kind(node: Node) -> str:
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping"
    tag = node.tag.rsplit(":", 1)[-1]
    return {"str": "a string", "int": "an integer", "float": "a number", "bool": "a boolean", "null": "null"}.get(
        tag, f"a {tag}"
    )


def _source(node: Node) -> str:
    mark = node.start_mark
    buffer = (mark.buffer or "").rstrip("\0")
    return buffer[mark.index : mark.index + 40].split("\n")[0]


def _describe(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"{exc.problem} at line {mark.line + 1} column {mark.column + 1}"
    return str(exc).replace("\n", " ")


# -------------------------------------------------------------------------------------- YAML conversion
def check_yaml_conversion(items: object, original: str, *, raw: str | None = None) -> list[str]:
    """NeMo Curator's checks on a YAML conversion of ``original`` (a model's free-form list answer).

    ``items`` is the parsed conversion. It must be a non-empty list of non-empty strings, each of which
    occurs in ``original`` (compared with runs of whitespace collapsed, case-sensitive): an item that does not
    was changed or invented by the conversion. Raises :class:`YamlConversionError` naming the first offending
    item and why; its ``.raw`` is ``raw`` if given, else ``original``.
    """
    keep = original if raw is None else raw
    if not isinstance(items, list):
        raise YamlConversionError(
            f"the conversion is {type(items).__name__} ({redact(repr(items))[:80]}), not a list", raw=keep
        )
    if not items:
        raise YamlConversionError("the conversion is an empty list", raw=keep)
    haystack = normalize_space(original)
    for position, item in enumerate(items, start=1):
        if not isinstance(item, str):
            raise YamlConversionError(
                f"item {position} ({redact(repr(item))[:80]}) is {type(item).__name__}, not a string", raw=keep
            )
        needle = normalize_space(item)
        if not needle:
            raise YamlConversionError(f"item {position} is an empty string", raw=keep)
        if needle not in haystack:
            raise YamlConversionError(
                f"item {position} ({redact(repr(item))[:80]}) does not occur in the original response "
                "(the conversion changed or invented it)",
                raw=keep,
            )
    return list(items)


def parse_yaml_conversion(yaml_text: str, original: str) -> list[str]:
    """Parse a model's YAML conversion of ``original`` (:func:`parse_yaml_list`) and check it
    (:func:`check_yaml_conversion`). Every failure is a :class:`YamlConversionError` whose ``.raw`` is
    ``yaml_text`` (the caller already holds ``original``)."""
    try:
        items = parse_yaml_list(yaml_text)
    except ResponseParseError as exc:
        raise YamlConversionError(str(exc), raw=yaml_text) from exc
    return check_yaml_conversion(items, original, raw=yaml_text)
