"""Conversation formatters: turn a chat conversation into one prompt string for ``/v1/completions``.

Base models and raw completion endpoints have no chat template on the server side; a formatter applies the
model family's template on the client side. Every formatter checks the conversation first: an optional
leading system message, then turns that alternate user / assistant, starting and ending with a user turn
(the model answers the last user turn). Anything else raises :class:`ConversationFormatError` naming the
first offending turn.

Formatters are registered by name (``FORMATTERS.get("chatml")``) so recipes and ``query_model`` can name them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import ClassVar, Protocol

from curator_synth.errors import ConversationFormatError
from curator_synth.registry import Registry

__all__ = [
    "FORMATTERS",
    "ChatMLFormatter",
    "ConversationFormatter",
    "FormatsConversations",
    "Llama3Formatter",
    "MixtralFormatter",
    "NemotronFormatter",
    "SingleTurnFormatter",
    "resolve_formatter",
    "split_conversation",
]

Message = Mapping[str, object]

FORMATTERS: Registry[type[ConversationFormatter]] = Registry("formatters")


def split_conversation(conversation: Sequence[Message]) -> tuple[str | None, list[tuple[str, str]]]:
    """Check the shape and return ``(system_prompt_or_None, [(role, content), ...])``.

    The turns alternate user, assistant, user, ... and end with a user turn.
    """
    if isinstance(conversation, (str, bytes)) or not isinstance(conversation, Sequence):
        raise ConversationFormatError(
            f"a conversation must be a list of {{'role': ..., 'content': ...}} dicts, got {type(conversation).__name__}"
        )
    system: str | None = None
    turns: list[tuple[str, str]] = []
    for index, message in enumerate(conversation):
        if not isinstance(message, Mapping) or "role" not in message or "content" not in message:
            raise ConversationFormatError(
                f"turn {index}: expected a dict with 'role' and 'content', got {message!r:.80}"
            )
        role, content = message["role"], message["content"]
        if not isinstance(content, str):
            raise ConversationFormatError(f"turn {index}: content must be a string, got {type(content).__name__}")
        if role == "system":
            if index != 0:
                raise ConversationFormatError(f"turn {index}: a system message may only come first")
            system = content
            continue
        expected = "user" if len(turns) % 2 == 0 else "assistant"
        if role != expected:
            raise ConversationFormatError(
                f"turn {index}: expected role {expected!r}, got {role!r}; "
                "turns must alternate user/assistant, starting with user"
            )
        turns.append((role, content))
    if not turns:
        raise ConversationFormatError("the conversation has no user turn")
    if turns[-1][0] != "user":
        raise ConversationFormatError(
            f"turn {len(conversation) - 1}: the conversation must end with a user turn for the model to answer"
        )
    return system, turns


class ConversationFormatter(ABC):
    """Formats a checked conversation into a prompt that ends where the assistant's answer starts."""

    name: ClassVar[str]
    #: Stop strings that end the assistant's turn in this template, sent when the caller gives none.
    stop: ClassVar[tuple[str, ...]] = ()

    def format_conversation(self, conversation: Sequence[Message]) -> str:
        system, turns = split_conversation(conversation)
        return self._format(system, turns)

    @abstractmethod
    def _format(self, system: str | None, turns: list[tuple[str, str]]) -> str: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@FORMATTERS.register("nemotron")
class NemotronFormatter(ConversationFormatter):
    """Nemotron-4 instruct: ``<extra_id_0>System`` header, then ``<extra_id_1>User`` / ``Assistant`` turns."""

    name = "nemotron"
    stop = ("<extra_id_1>",)

    def _format(self, system: str | None, turns: list[tuple[str, str]]) -> str:
        parts = [f"<extra_id_0>System\n{system or ''}\n"]
        for role, content in turns:
            parts.append(f"<extra_id_1>{role.capitalize()}\n{content}\n")
        parts.append("<extra_id_1>Assistant\n")
        return "".join(parts)


@FORMATTERS.register("mixtral")
class MixtralFormatter(ConversationFormatter):
    """Mistral/Mixtral instruct: ``<s> [INST] user [/INST] answer</s>``; a system prompt joins the first turn."""

    name = "mixtral"
    stop = ("</s>",)

    def _format(self, system: str | None, turns: list[tuple[str, str]]) -> str:
        parts = ["<s>"]
        for index, (role, content) in enumerate(turns):
            if role == "user":
                if index == 0 and system:
                    content = f"{system}\n\n{content}"
                parts.append(f" [INST] {content} [/INST]")
            else:
                parts.append(f" {content}</s>")
        return "".join(parts)


@FORMATTERS.register("llama3")
class Llama3Formatter(ConversationFormatter):
    """Llama-3 instruct: ``<|start_header_id|>role<|end_header_id|>`` blocks closed by ``<|eot_id|>``."""

    name = "llama3"
    stop = ("<|eot_id|>",)

    def _format(self, system: str | None, turns: list[tuple[str, str]]) -> str:
        blocks = [("system", system)] if system is not None else []
        blocks += turns
        body = "".join(f"<|start_header_id|>{role}<|end_header_id|>\n\n{text}<|eot_id|>" for role, text in blocks)
        return f"<|begin_of_text|>{body}<|start_header_id|>assistant<|end_header_id|>\n\n"


@FORMATTERS.register("chatml")
class ChatMLFormatter(ConversationFormatter):
    """ChatML (Qwen, Hermes, Yi, ...): ``<|im_start|>role\\n...<|im_end|>`` blocks."""

    name = "chatml"
    stop = ("<|im_end|>",)

    def _format(self, system: str | None, turns: list[tuple[str, str]]) -> str:
        blocks = [("system", system)] if system is not None else []
        blocks += turns
        body = "".join(f"<|im_start|>{role}\n{text}<|im_end|>\n" for role, text in blocks)
        return f"{body}<|im_start|>assistant\n"


@FORMATTERS.register("single_turn")
class SingleTurnFormatter(ConversationFormatter):
    """No template: the one user message as is (a system prompt, if any, precedes it after a blank line)."""

    name = "single_turn"

    def _format(self, system: str | None, turns: list[tuple[str, str]]) -> str:
        if len(turns) != 1:
            raise ConversationFormatError(
                f"the single-turn formatter takes exactly one user turn, got {len(turns)} turns; "
                "use a chat template formatter (nemotron, mixtral, llama3, chatml) for multi-turn conversations"
            )
        text = turns[0][1]
        return f"{system}\n\n{text}" if system else text


class FormatsConversations(Protocol):
    """Anything with ``format_conversation(conversation) -> str``: a formatter written for NeMo Curator (an
    instance, or a class whose method is static, as NeMo's ``NemotronFormatter``) is used as it is."""

    def format_conversation(self, conversation: Sequence[Message]) -> str: ...


def resolve_formatter(formatter: FormatsConversations | str | None) -> FormatsConversations | None:
    """Accept a formatter (this module's, or any object with a callable ``format_conversation``), a registered
    name, or None."""
    if formatter is None:
        return None
    if isinstance(formatter, str):
        return FORMATTERS.get(formatter)()
    if callable(getattr(formatter, "format_conversation", None)):
        return formatter
    raise ConversationFormatError(
        "conversation_formatter must be a ConversationFormatter (or any object with format_conversation) or one of"
        f" {FORMATTERS.names()}, got {type(formatter).__name__}"
    )
