"""The turn-by-turn rendering NeMo's formatters share: a prefix, then each turn's content followed by the text
that opens the next turn. Turns must alternate user, assistant, user...; a turn out of place is a ``ValueError``
naming it, in NeMo's words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from curator_synth.nemo.services.conversation_formatter import ConversationFormatter

__all__ = ["NemotronFormatter", "render"]


def render(conv: Sequence[Mapping[str, Any]], prefix: str, after_user: str, after_assistant: str) -> str:
    """``prefix`` + each turn's content + ``after_user`` or ``after_assistant``."""
    parts = [prefix]
    for number, turn in enumerate(conv):
        expected, parity, after = (
            ("user", "even", after_user) if number % 2 == 0 else ("assistant", "odd", after_assistant)
        )
        if turn["role"] != expected:
            raise ValueError(f"Conversation turn {number} is not '{expected}'. All {parity} number turns should be.")
        parts.append(f"{turn['content']}{after}")
    return "".join(parts)


class NemotronFormatter(ConversationFormatter):
    """Nemotron-4-340B-Instruct's template (``format_conversation`` works on the class, as in NeMo)."""

    PROMPT_PREFIX = "<extra_id_0>System\n\n<extra_id_1>User\n"

    @staticmethod
    def format_conversation(conv: Sequence[Mapping[str, Any]]) -> str:
        return render(conv, NemotronFormatter.PROMPT_PREFIX, "\n<extra_id_1>Assistant\n", "\n<extra_id_1>User\n")
