"""Reasoning models: the reasoning is split off an answer before anything parses it, and kept beside it.

Reasoning models answer in one of two forms: a ``reasoning_content`` field beside ``content`` in the message
(vLLM's reasoning parsers, NIM, DeepSeek's API; newer vLLM also names it ``reasoning``), or the reasoning inside
the content, between ``<think>`` and ``</think>`` before the answer (a server without a reasoning parser, llama.cpp
with ``--reasoning-format none``). When the chat template opens ``<think>`` in the prompt itself (DeepSeek-R1's),
the content starts inside the reasoning and only ``</think>`` is there.

:func:`split_reasoning` gives the answer alone as an :class:`Answer`: a ``str`` (every parser takes it as it is)
whose ``reasoning`` attribute holds the reasoning. The journal keeps the raw answer, both parts.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["Answer", "reasoning_of", "split_reasoning", "with_trace"]

_OPEN, _CLOSE = "<think>", "</think>"
_LEADING = re.compile(r"\A\s*<think>(.*?)</think>\s*", re.DOTALL)


class Answer(str):
    """A generated text without its reasoning; ``reasoning`` holds the reasoning (None: there was none)."""

    __slots__ = ("reasoning",)
    reasoning: str | None

    def __new__(cls, text: str, reasoning: str | None = None) -> Answer:
        answer = super().__new__(cls, text)
        answer.reasoning = reasoning
        return answer

    def __reduce__(self) -> tuple[Any, ...]:
        return (Answer, (str(self), self.reasoning))


def reasoning_of(text: object) -> str | None:
    """The reasoning split off ``text`` (None for a plain string or an answer without reasoning)."""
    return getattr(text, "reasoning", None)


def split_reasoning(content: str, reasoning: object = None) -> str:
    """``content`` without a leading ``<think>…</think>`` block (or, with no ``<think>``, everything up to a
    ``</think>``), as an :class:`Answer` carrying the reasoning: the ``reasoning`` field's text if given, then
    the block's. Content with no reasoning anywhere is returned unchanged (a plain ``str``). Content that opens
    ``<think>`` and never closes it is reasoning only: the answer is empty (the model stopped while reasoning)."""
    parts = [reasoning.strip()] if isinstance(reasoning, str) and reasoning.strip() else []
    found = _LEADING.match(content)
    if found is not None:
        parts.append(found.group(1).strip())
        content = content[found.end() :]
    elif content.lstrip().startswith(_OPEN):
        parts.append(content.lstrip()[len(_OPEN) :].strip())
        content = ""
    elif _CLOSE in content and _OPEN not in content:
        before, _, content = content.partition(_CLOSE)
        parts.append(before.strip())
        content = content.lstrip()
    if not parts:
        return content
    return Answer(content, "\n\n".join(part for part in parts if part) or None)


def with_trace(reasoning: str, answer: str) -> str:
    """The answer with its reasoning before it, as a server without a reasoning parser sends it and as training
    traces keep it: ``<think>\n…\n</think>\n\n`` then the answer (:func:`split_reasoning` undoes it)."""
    return f"{_OPEN}\n{reasoning}\n{_CLOSE}\n\n{answer}"
