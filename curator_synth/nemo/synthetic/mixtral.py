"""NeMo's ``Mixtral8x7BFormatter``: the Mixtral-8x7B-Instruct template as NeMo Curator renders it (its prefix ends
with a newline: ``"<s> [INST] \\nHello [/INST]"``; curator_synth's native ``MixtralFormatter`` follows the model
card instead, see docs/nemo_migration.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from curator_synth.nemo.services.conversation_formatter import ConversationFormatter
from curator_synth.nemo.synthetic._formats import render

__all__ = ["Mixtral8x7BFormatter"]


class Mixtral8x7BFormatter(ConversationFormatter):
    PROMPT_PREFIX = "<s> [INST] \n"

    @staticmethod
    def format_conversation(conv: Sequence[Mapping[str, Any]]) -> str:
        return render(conv, Mixtral8x7BFormatter.PROMPT_PREFIX, " [/INST]", "</s>[INST] ")
