"""Lists in model answers: numbered, bulleted, consistently labelled ("Step 1:"), JSON arrays and YAML lists.

The parser reads an answer the way a person would: a lead-in line ("Here are 5 topics:") and a closing remark
are not items, an item may run over several lines, and an item's own sub-bullets stay inside it. It never
guesses a list out of a plain paragraph: no list markers means :class:`ResponseParseError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

import yaml

from curator_synth.errors import ConfigError, ResponseParseError
from curator_synth.parsing._markdown import Line, fenced_blocks, indent_width, is_rule, scan_lines, unwrap

__all__ = ["CountPolicy", "apply_count_policy", "parse_list"]

CountPolicy = Literal["error", "trim", "accept"]
"""What to do when a list does not have the expected length: raise, keep the first ``expected``, or accept it."""

_POLICIES = ("error", "trim", "accept")

_NUMBERED = re.compile(
    r"^(?P<indent>[ \t]*)(?:#{1,6}[ \t]+)?(?P<em>\*\*)?"
    r"(?:\((?P<n1>\d{1,3})\)|(?P<n2>\d{1,3})(?:[.):]|[ \t]+[-\u2013\u2014]))"
    r"(?:\*\*)?[ \t]+(?P<body>\S.*)$"
)
_BULLET = re.compile(r"^(?P<indent>[ \t]*)(?P<char>[-*+\u2022\u25cf\u25aa\u2013])[ \t]+(?P<body>\S.*)$")
# Letter and roman sub-items ("a.", "b)", "iv.") never start a top-level item, but keep their own line.
_SUB_ITEM = re.compile(r"^[ \t]*\(?(?:[a-z]|[ivx]{1,4})[.)][ \t]+\S")
_LABELED = re.compile(
    r"^(?P<indent>[ \t]*)(?:#{1,6}[ \t]+)?(?P<em>\*\*)?"
    r"(?P<label>[A-Za-z]+(?:[ \t][A-Za-z]+)?)[ \t]+#?(?P<n>\d{1,3})"
    r"[ \t]*(?:\*\*)?[ \t]*[:.)\-\u2013\u2014](?:\*\*)?(?:[ \t]+(?P<body>\S.*?))?[ \t]*$"
)


@dataclass(frozen=True, slots=True)
class _Marker:
    family: str  # "num", "bullet:<char>" or "label:<word>"
    indent: int
    number: int | None
    body: str


@dataclass(slots=True)
class _Item:
    pieces: list[str] = field(default_factory=list)

    def add(self, joiner: str, text: str) -> None:
        self.pieces.append(joiner if self.pieces else "")
        self.pieces.append(text)

    def text(self) -> str:
        return unwrap("".join(self.pieces))


# ------------------------------------------------------------------------------------------- count policy
def apply_count_policy(
    items: Sequence[str],
    expected: int | None,
    policy: CountPolicy = "error",
    *,
    raw: str | None = None,
) -> list[str]:
    """Check the number of items against ``expected`` (None: any number).

    ``"error"`` raises :class:`ResponseParseError` unless there are exactly ``expected`` items; ``"trim"``
    keeps the first ``expected`` when there are more (too few still raises); ``"accept"`` returns the items
    as found. ``raw`` is the answer text, kept on the error.
    """
    _check_policy(expected, policy)
    found = list(items)
    if expected is None or len(found) == expected or policy == "accept":
        return found
    if policy == "trim" and len(found) > expected:
        return found[:expected]
    hint = " (policy 'trim' keeps the first ones when there are more)" if policy == "error" else ""
    raise ResponseParseError(f"expected {expected} items, found {len(found)}{hint}", raw=raw)


def _check_policy(expected: int | None, policy: str) -> None:
    if policy not in _POLICIES:
        raise ConfigError(f"policy must be one of {_POLICIES}, got {policy!r}")
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool) or expected < 1):
        raise ConfigError(f"expected must be a positive integer or None, got {expected!r}")


# -------------------------------------------------------------------------------------------------- parse
def parse_list(text: str, *, expected: int | None = None, policy: CountPolicy = "error") -> list[str]:
    """The items of the list in a model answer.

    Recognised: numbered items (``1.``, ``1)``, ``(1)``, ``1 -``, ``1:``, also in bold or as headings),
    bullets (``-``, ``*``, ``•``, ``+``), labelled items (``Step 1:``, ``Topic 2 -``) when every label is the
    same word and the numbers count up by one, a JSON array of strings, and a YAML list; each also inside a
    code fence. Items are stripped of quotes and of bold/italics markers around the whole item.

    Layout rules: lines before the first item are a lead-in and ignored. A line right under an item continues
    it (joined with a space); an item's sub-items (another marker, or deeper indentation) are kept on their
    own lines; indented paragraphs after a blank line belong to the item (joined with a blank line). A
    paragraph that is not indented, after a blank line, is a closing remark when it follows the last item
    and is dropped, unless earlier items also had such paragraphs (heading-style lists).

    The count is then checked with :func:`apply_count_policy`. Raises :class:`ResponseParseError` (with the
    answer in ``.raw``) for an empty answer, an answer without a list, or a wrong count.
    """
    _check_policy(expected, policy)
    if not text.strip():
        raise ResponseParseError("the answer is empty, expected a list", raw=text)
    items = _from_lines(scan_lines(text))
    problem = ""
    if items is None:
        items, problem = _from_array(text)
    if items is None:
        for block in fenced_blocks(text):
            items = _from_lines(scan_lines(block.body))
            if items is not None:
                break
    if not items:
        detail = f"; {problem}" if problem else ""
        raise ResponseParseError(
            "no list found in the answer (expected numbered items, bullets, a JSON array or a YAML list)" + detail,
            raw=text,
        )
    return apply_count_policy(items, expected, policy, raw=text)


def _match(line: str) -> _Marker | None:
    if is_rule(line):
        return None
    numbered = _NUMBERED.match(line)
    if numbered:
        body = numbered["body"].rstrip()
        if numbered["em"] and body.endswith("**") and "**" not in body[:-2]:
            body = body[:-2]  # "**1. Topic**"
        number = int(numbered["n1"] or numbered["n2"])
        return _Marker("num", indent_width(numbered["indent"]), number, body)
    bullet = _BULLET.match(line)
    if bullet:
        return _Marker(f"bullet:{bullet['char']}", indent_width(bullet["indent"]), None, bullet["body"].rstrip())
    labeled = _LABELED.match(line)
    if labeled:
        family = "label:" + " ".join(labeled["label"].lower().split())
        return _Marker(family, indent_width(labeled["indent"]), int(labeled["n"]), labeled["body"] or "")
    return None


def _markers(lines: list[Line]) -> list[_Marker | None]:
    """A marker per line (None for non-marker lines); labels count only when used consistently."""
    found = [_match(line.text) if line.kind == "text" else None for line in lines]
    numbers: dict[str, list[int]] = {}
    for marker in found:
        if marker is not None and marker.family.startswith("label:") and marker.number is not None:
            numbers.setdefault(marker.family, []).append(marker.number)
    consistent = {
        family
        for family, values in numbers.items()
        if len(values) >= 2 and all(b == a + 1 for a, b in pairwise(values))
    }
    return [m if m is None or not m.family.startswith("label:") or m.family in consistent else None for m in found]


def _from_lines(lines: list[Line]) -> list[str] | None:
    markers = _markers(lines)
    items: list[_Item] = []
    top_family, top_indent = "", 0
    pending: list[tuple[str, str]] = []  # lines after a blank line, not yet known to belong to an item
    absorbed = False  # did an earlier item take unindented paragraphs (a heading-style list)?
    after_blank = False
    for line, marker in zip(lines, markers, strict=True):
        if not items:
            if marker is None:
                continue  # lead-in
            top_family, top_indent = marker.family, marker.indent
            items.append(_Item())
            items[-1].add("", marker.body)
            continue
        if marker is not None and marker.family == top_family and marker.indent <= top_indent + 1:
            if pending:
                absorbed = True
                for joiner, piece in pending:
                    items[-1].add(joiner, piece)
                pending = []
            items.append(_Item())
            items[-1].add("", marker.body)
            after_blank = False
            continue
        if line.kind == "text" and not line.text.strip():
            after_blank = True
            continue
        if line.kind != "text":
            joiner, piece = "\n", line.text.rstrip()
        elif marker is not None or _SUB_ITEM.match(line.text):
            joiner, piece = "\n", line.text.strip()
        else:
            joiner, piece = ("\n\n" if after_blank else " "), line.text.strip()
        if pending or (after_blank and indent_width(line.text) <= top_indent and line.kind == "text"):
            pending.append((joiner, piece))
        else:
            items[-1].add(joiner, piece)
        after_blank = False
    if not items:
        return None
    if pending and absorbed:
        for joiner, piece in pending:
            items[-1].add(joiner, piece)
    texts = [item.text() for item in items]
    return [text for text in texts if text] or None


# ----------------------------------------------------------------------------------------- JSON / YAML arrays
def _from_array(text: str) -> tuple[list[str] | None, str]:
    """A JSON array (or YAML flow sequence) of strings, fenced or starting a line; else (None, why not)."""
    candidates = [block.body.strip() for block in fenced_blocks(text) if block.body.strip().startswith("[")]
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.lstrip().startswith("["):
            candidates.append("\n".join(lines[index:]).lstrip())
            break
    problem = ""
    for candidate in candidates:
        try:
            value, _ = json.JSONDecoder().raw_decode(candidate)
        except json.JSONDecodeError as exc:
            value = _yaml_flow(candidate)
            if value is None:
                problem = f"the text starting with '[' is not a valid JSON array: {exc}"
                continue
        if isinstance(value, list):
            return _strings(value, text), ""
    return None, problem


def _yaml_flow(candidate: str) -> list[object] | None:
    lines = candidate.splitlines()
    for end, line in enumerate(lines):
        if line.rstrip().endswith("]"):
            try:
                value = yaml.safe_load("\n".join(lines[: end + 1]))
            except yaml.YAMLError:
                return None
            return value if isinstance(value, list) else None
    return None


def _strings(values: list[object], raw: str) -> list[str]:
    for position, value in enumerate(values, start=1):
        if not isinstance(value, str):
            kind = "null" if value is None else type(value).__name__
            raise ResponseParseError(f"item {position} of the array is {kind} ({value!r}), not a string", raw=raw)
    items = [value.strip() for value in values if isinstance(value, str)]
    if not all(items):
        raise ResponseParseError(f"item {items.index('') + 1} of the array is an empty string", raw=raw)
    return items
