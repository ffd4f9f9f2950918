"""Magpie pre-query templates (Xu et al., 2024, "Magpie: Alignment Data Synthesis from Scratch by Prompting
Aligned LLMs with Nothing").

An aligned chat model that is shown only the opening of its own chat template, up to the point where a user
message would begin, writes a plausible user message by itself. Sent raw to a ``/completions`` endpoint (no
server-side chat template) at a high temperature, the *pre-query* yields a different user query on every
draw; the query ends where the model would close the user turn, so the template's end-of-turn strings are
sent as ``stop``.

These are not chat prompts, so they are not :class:`~curator_synth.prompts.PromptTemplate` objects: a
:class:`MagpieTemplate` holds the raw prefix and its stop strings, keyed by the chat format names of
:data:`curator_synth.clients.FORMATTERS` (``nemotron``, ``mixtral``, ``llama3``, ``chatml``) in
:data:`MAGPIE_TEMPLATES`. A prefix equals what the format's conversation formatter renders before the first
user message's text (a test checks it), and :meth:`MagpieTemplate.render` adds a system prompt the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from curator_synth.clients.formatters import FORMATTERS
from curator_synth.errors import ConfigError
from curator_synth.registry import Registry

__all__ = [
    "CHATML",
    "LLAMA3",
    "MAGPIE_TEMPLATES",
    "MIXTRAL",
    "NEMOTRON",
    "MagpieTemplate",
    "formatter_prefix",
    "magpie_template",
]

_SENTINEL = "\x00MAGPIE-USER-QUERY\x00"


def formatter_prefix(chat_format: str, system: str | None = None) -> str:
    """What the registered formatter ``chat_format`` renders before the text of the first user message."""
    conversation = [{"role": "system", "content": system}] if system is not None else []
    conversation.append({"role": "user", "content": _SENTINEL})
    rendered = FORMATTERS.get(chat_format)().format_conversation(conversation)
    return rendered.split(_SENTINEL, 1)[0]


@dataclass(frozen=True)
class MagpieTemplate:
    """A raw pre-query for one chat format and the stop strings that end the user turn the model writes."""

    chat_format: str
    pre_query: str
    stop: tuple[str, ...]
    version: int = 1
    description: str = ""

    def __post_init__(self) -> None:
        if not self.pre_query:
            raise ConfigError(f"magpie template {self.chat_format!r}: the pre-query is empty")
        if not self.stop or not all(isinstance(s, str) and s for s in self.stop):
            raise ConfigError(f"magpie template {self.chat_format!r}: stop must be non-empty strings")

    @property
    def id(self) -> str:
        return f"magpie.{self.chat_format}"

    @property
    def namespace(self) -> str:
        """The journal namespace of the draws (bump ``version`` when the prefix or the stops change)."""
        return f"{self.id}@{self.version}"

    def render(self, system: str | None = None) -> str:
        """The prompt to send: the pre-query, or with ``system`` the formatter's prefix with that system prompt
        (a system prompt steers the queries towards a domain, e.g. "You are a chemistry tutor.")."""
        if system is None:
            return self.pre_query
        return formatter_prefix(self.chat_format, system)


#: Magpie pre-queries by chat format name (the names of ``curator_synth.clients.FORMATTERS``).
MAGPIE_TEMPLATES: Registry[MagpieTemplate] = Registry("magpie_templates")


def _add(template: MagpieTemplate) -> MagpieTemplate:
    MAGPIE_TEMPLATES.add(template.chat_format, template)
    return template


LLAMA3 = _add(
    MagpieTemplate(
        chat_format="llama3",
        pre_query="<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n",
        stop=("<|eot_id|>", "<|start_header_id|>", "<|end_of_text|>"),
        description="Llama-3 instruct: an open user header block.",
    )
)
CHATML = _add(
    MagpieTemplate(
        chat_format="chatml",
        pre_query="<|im_start|>user\n",
        stop=("<|im_end|>", "<|im_start|>", "<|endoftext|>"),
        description="ChatML (Qwen, Hermes, Yi, ...): an open user block.",
    )
)
NEMOTRON = _add(
    MagpieTemplate(
        chat_format="nemotron",
        pre_query="<extra_id_0>System\n\n<extra_id_1>User\n",
        stop=("<extra_id_1>", "<extra_id_0>"),
        description="Nemotron-4 instruct: an empty system header, then an open user turn.",
    )
)
MIXTRAL = _add(
    MagpieTemplate(
        chat_format="mixtral",
        pre_query="<s> [INST] ",
        stop=("[/INST]", "</s>", "[INST]"),
        description="Mistral/Mixtral instruct: an open [INST] block.",
    )
)


def magpie_template(chat_format: MagpieTemplate | str) -> MagpieTemplate:
    """A registered template by chat format name, or ``chat_format`` itself if it is a template already."""
    if isinstance(chat_format, MagpieTemplate):
        return chat_format
    if isinstance(chat_format, str):
        return MAGPIE_TEMPLATES.get(chat_format)
    raise ConfigError(f"chat_format must be a MagpieTemplate or a name, got {type(chat_format).__name__}")
