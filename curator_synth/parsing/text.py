"""Small text helpers for model answers: code fences, first line, yes/no, lead-in removal, item clean-up."""

from __future__ import annotations

import re
from collections.abc import Sequence

from curator_synth.parsing._markdown import fenced_blocks, unwrap

__all__ = [
    "clean_item",
    "code_blocks",
    "first_line",
    "remove_prefix",
    "starts_with_yes_no",
    "strip_code_fences",
]

# What may precede a leading Yes/No: whitespace, punctuation and markdown (``**Yes**``, ``> No``, ``"Yes"``).
_LEAD = re.compile(r"^[\s*_#>`\"'\u201c\u2018(\[{:.,;!?-]*")
_YES_NO = re.compile(r"(yes|no)(?![\w'\u2019-])", re.IGNORECASE)


def code_blocks(text: str, *, language: str | None = None) -> list[str]:
    """The bodies of the fenced code blocks (```` ``` ```` or ``~~~``) in ``text``, in order.

    ``language`` keeps only blocks whose info string is that language (case-insensitive; ``"yml"`` and
    ``"yaml"`` are different names). A fence left open by a truncated answer runs to the end of the text.
    """
    wanted = language.lower() if language is not None else None
    return [block.body for block in fenced_blocks(text) if wanted is None or block.language == wanted]


def strip_code_fences(text: str) -> str:
    """The body of the first fenced code block, stripped; the stripped text itself when there is none.

    >>> strip_code_fences('Sure!\\n```json\\n{"a": 1}\\n```\\nAnything else?')
    '{"a": 1}'
    """
    blocks = fenced_blocks(text)
    return blocks[0].body.strip() if blocks else text.strip()


def first_line(text: str) -> str:
    """The first line that is not blank, stripped ("" for a blank text)."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def starts_with_yes_no(text: str) -> bool | None:
    """True if the answer starts with "yes", False if with "no", None if with neither.

    Case-insensitive; leading whitespace, punctuation, quotes and markdown (``**No**``, ``> Yes``) are
    skipped. The word must end there: "Not sure", "Nope", "Yesterday" and "No-one" give None.
    """
    rest = _LEAD.sub("", text, count=1)
    match = _YES_NO.match(rest)
    if match is None:
        return None
    return match.group(1).lower() == "yes"


def remove_prefix(text: str, prefixes: Sequence[str]) -> str:
    """``text`` without a lead-in such as "Here is the paraphrased text:", stripped of surrounding whitespace.

    The longest of ``prefixes`` that starts the text is removed, once. Matching ignores case, treats any run
    of whitespace as equal to any other, and also accepts the prefix wrapped in bold/italics markers
    (``**Paraphrase:**``). A text that starts with none of them is returned stripped.
    """
    if isinstance(prefixes, str):
        prefixes = [prefixes]
    stripped = text.strip()
    best = 0
    for prefix in prefixes:
        words = prefix.split()
        if not words:
            continue
        body = r"\s+".join(re.escape(word) for word in words)
        if words[-1][-1].isalnum():
            body += r"(?!\w)"  # "Paraphrase" must not eat the start of "Paraphrased"
        pattern = r"(?:\*{1,3})?" + body + r"(?:\*{1,3})?"
        match = re.match(pattern, stripped, re.IGNORECASE)
        if match and match.end() > best:
            best = match.end()
    return stripped[best:].strip() if best else stripped


def clean_item(text: str) -> str:
    """An item without surrounding whitespace, quotes, or bold/italics markers around the whole of it.

    ``**"Quantum computing"**`` → ``Quantum computing``; ``**Quantum**: computers`` is left alone (the
    markers do not wrap the whole item).
    """
    return unwrap(text)
