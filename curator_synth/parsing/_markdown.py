"""Markdown mechanics shared by the parsers: fenced code blocks, indentation, wrapping quotes and emphasis.

Internal: the public helpers built on these live in :mod:`curator_synth.parsing.text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_FENCE_OPEN = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\s`]*)[^`]*$")
_HRULE = re.compile(r"^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$")

# Pairs that may wrap a whole item: markdown bold/italics (asterisks only: ``__init__`` is an identifier
# far more often than bold text) and straight or typographic quotes. Longer markers first.
_WRAPPERS: tuple[tuple[str, str], ...] = (
    ("***", "***"),
    ("**", "**"),
    ("*", "*"),
    ('"', '"'),
    ("'", "'"),
    ("\u201c", "\u201d"),
    ("\u2018", "\u2019"),
    ("\u00ab", "\u00bb"),
)


@dataclass(frozen=True, slots=True)
class Line:
    """One line of an answer and where it sits: ``fence`` (a fence line), ``code`` (inside a fence) or ``text``."""

    text: str
    kind: Literal["text", "fence", "code"]


@dataclass(frozen=True, slots=True)
class Block:
    """A fenced code block. ``closed`` is False when the answer ends inside it (a truncated answer)."""

    language: str
    body: str
    closed: bool


def scan_lines(text: str) -> list[Line]:
    """The lines of ``text``, each marked as fence line, code inside a fence, or ordinary text."""
    lines: list[Line] = []
    fence: str | None = None
    for raw in text.splitlines():
        if fence is None:
            match = _FENCE_OPEN.match(raw)
            if match:
                fence = match["fence"]
                lines.append(Line(raw, "fence"))
            else:
                lines.append(Line(raw, "text"))
        elif _closes(raw, fence):
            fence = None
            lines.append(Line(raw, "fence"))
        else:
            lines.append(Line(raw, "code"))
    return lines


def _closes(raw: str, fence: str) -> bool:
    stripped = raw.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def fenced_blocks(text: str) -> list[Block]:
    """Every fenced code block, in order; an unclosed last fence runs to the end of the text."""
    blocks: list[Block] = []
    language = ""
    body: list[str] | None = None
    for line in scan_lines(text):
        if line.kind == "fence":
            if body is None:
                match = _FENCE_OPEN.match(line.text)
                language = match["info"].lower() if match else ""
                body = []
            else:
                blocks.append(Block(language, "\n".join(body), closed=True))
                body = None
        elif line.kind == "code" and body is not None:
            body.append(line.text)
    if body is not None:
        blocks.append(Block(language, "\n".join(body), closed=False))
    return blocks


def indent_width(line: str) -> int:
    """Leading whitespace width, a tab counting as four spaces."""
    width = 0
    for char in line:
        if char == " ":
            width += 1
        elif char == "\t":
            width += 4
        else:
            break
    return width


def is_rule(line: str) -> bool:
    """A markdown horizontal rule (``---``, ``***``, ``___``)."""
    return _HRULE.match(line) is not None


def unwrap(text: str) -> str:
    """``text`` stripped of whitespace, then of quotes and bold/italics markers around the *whole* text.

    Repeated, so ``**"Topic"**`` becomes ``Topic``. A pair is removed only when the marker does not also occur
    inside (``"a" and "b"`` and ``*one* or *two*`` stay as they are).
    """
    result = text.strip()
    changed = True
    while changed:
        changed = False
        for opening, closing in _WRAPPERS:
            if len(result) <= len(opening) + len(closing):
                continue
            if not (result.startswith(opening) and result.endswith(closing)):
                continue
            inner = result[len(opening) : len(result) - len(closing)]
            if opening in inner or closing in inner or not inner.strip():
                continue
            result = inner.strip()
            changed = True
            break
    return result


def normalize_space(text: str) -> str:
    """Runs of whitespace (newlines included) collapsed to one space, ends stripped."""
    return " ".join(text.split())
