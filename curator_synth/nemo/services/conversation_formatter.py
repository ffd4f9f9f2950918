"""NeMo's conversation-formatter contract: one abstract method, ``format_conversation(conversation) -> str``.

curator_synth's own :class:`~curator_synth.clients.formatters.ConversationFormatter` implements
``format_conversation`` over an abstract ``_format(system, turns)`` (the conversation is checked and split once,
for every template); a formatter written for NeMo implements ``format_conversation`` itself, which this class
allows. Both kinds are accepted wherever a formatter is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ConversationFormatter"]


class ConversationFormatter(ABC):
    """Renders a conversation (a list of ``{"role", "content"}``) into one prompt string."""

    @abstractmethod
    def format_conversation(self, conv: Sequence[Mapping[str, Any]]) -> str: ...
