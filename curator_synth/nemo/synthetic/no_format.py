"""NeMo's ``NoFormat``: a one-turn conversation sent as its user message, unchanged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from curator_synth.nemo.services.conversation_formatter import ConversationFormatter
from curator_synth.nemo.synthetic._formats import render

__all__ = ["NoFormat"]


class NoFormat(ConversationFormatter):
    @staticmethod
    def format_conversation(conv: Sequence[Mapping[str, Any]]) -> str:
        if len(conv) != 1:
            raise ValueError("There must be exactly one turn in the conversation to use NoFormat")
        return render(conv, "", "", "")
