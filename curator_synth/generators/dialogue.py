"""Multi-turn dialogues with a simulated user: opening → answer → follow-up → answer → ...

The assistant model answers the whole conversation so far (sent as chat messages, under the journal
namespace :data:`~curator_synth.prompts.responses.ASSISTANT_TURN_NAMESPACE`). The user model plays the user
with :data:`~curator_synth.prompts.responses.USER_TURN`: it reads a transcript of the conversation and
writes the next user message, which is cleaned (a leading "User:" label, wrapping quotes, and anything
from an "Assistant:" line on are removed). A dialogue of ``n_user_turns`` user turns has ``2 * n_user_turns``
messages alternating user / assistant (after the system message, if any).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from curator_synth.errors import ConfigError, ResponseParseError
from curator_synth.generators.base import BaseGenerator, template_of
from curator_synth.generators.blocking import BlockingGenerator, blocking
from curator_synth.outcome import Outcome
from curator_synth.parsing import clean_item, remove_prefix
from curator_synth.prompts.base import PromptTemplate
from curator_synth.prompts.responses import ASSISTANT_TURN_NAMESPACE, USER_TURN, transcript
from curator_synth.records import record_id

__all__ = ["AsyncDialogueGenerator", "DialogueGenerator", "DialogueRecord", "clean_user_turn"]

_USER_LABELS = ("User:", "User's next message:", "Next message:", "Next user message:", "Message:")
_ASSISTANT_LINE = re.compile(r"^\s*\**assistant\**\s*:", re.IGNORECASE | re.MULTILINE)


def clean_user_turn(answer: str) -> str:
    """The simulated user's message without a role label, wrapping quotes or a made-up assistant reply.

    An empty result raises :class:`ResponseParseError` (with the answer in ``.raw``).
    """
    text = remove_prefix(answer, _USER_LABELS)
    cut = _ASSISTANT_LINE.search(text)
    if cut is not None:
        text = text[: cut.start()]
    text = clean_item(text.strip())
    if not text:
        raise ResponseParseError("the simulated user wrote an empty message", raw=answer)
    return text


@dataclass(frozen=True)
class DialogueRecord:
    """A generated conversation: ``messages`` as ``{"role", "content"}`` dicts, and where it came from."""

    id: str
    messages: tuple[dict[str, str], ...]
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def n_user_turns(self) -> int:
        return sum(message["role"] == "user" for message in self.messages)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "messages": [dict(message) for message in self.messages],
            "provenance": dict(self.provenance),
        }


class AsyncDialogueGenerator(BaseGenerator):
    """Dialogues between an assistant model and a simulated user (by default the same model)."""

    family = "dialogue"

    async def generate_dialogue(
        self,
        opening: str,
        n_user_turns: int = 3,
        *,
        system_prompt: str | None = None,
        model: str | None = None,
        user_model: str | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
        user_model_kwargs: Mapping[str, Any] | None = None,
        user_template: PromptTemplate | str = USER_TURN,
    ) -> DialogueRecord:
        """A dialogue that starts with ``opening`` and has ``n_user_turns`` user turns, each answered.

        ``model`` / ``model_kwargs`` are for the assistant, ``user_model`` / ``user_model_kwargs`` for the
        simulated user (both default to the generator's model and params). ``system_prompt`` is the first
        message, seen by the assistant only. ``user_template`` must have a ``{conversation}`` placeholder.
        """
        if not isinstance(opening, str) or not opening.strip():
            raise ConfigError(f"a dialogue opening must be a non-empty string, got {opening!r:.80}")
        template = self._check(n_user_turns, user_template)
        messages: list[dict[str, str]] = []
        if system_prompt is not None:
            messages.append({"role": "system", "content": system_prompt})
        messages.append({"role": "user", "content": opening})
        for turn in range(n_user_turns):
            if turn:
                answer = await self.ask_one(
                    template,
                    {"conversation": transcript(messages)},
                    model=user_model or model,
                    model_kwargs=user_model_kwargs,
                    n=1,
                )
                messages.append({"role": "user", "content": clean_user_turn(answer)})
            messages.append({"role": "assistant", "content": await self._reply(messages, model, model_kwargs)})
        provenance = self.provenance(
            template,
            method="generate_dialogue",
            model=model,
            model_kwargs=model_kwargs,
            user_model=self.model_for(user_model or model),
            user_params={**self.params, **(user_model_kwargs or {})},
            assistant_namespace=ASSISTANT_TURN_NAMESPACE,
            system_prompt=system_prompt,
            n_user_turns=n_user_turns,
        )
        return DialogueRecord(id=record_id("dialogue", messages), messages=tuple(messages), provenance=provenance)

    async def generate_dialogues(
        self,
        openings: Iterable[str],
        n_user_turns: int = 3,
        *,
        system_prompt: str | None = None,
        model: str | None = None,
        user_model: str | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
        user_model_kwargs: Mapping[str, Any] | None = None,
        user_template: PromptTemplate | str = USER_TURN,
    ) -> Outcome[DialogueRecord]:
        """:meth:`generate_dialogue` for every opening, concurrently (the turns of one dialogue are sequential);
        a dialogue with a failed request or an empty turn is reported in ``.failures`` with its opening."""
        self._check(n_user_turns, user_template)  # wrong arguments are the caller's error, raised once
        self.model_for(model)

        async def one(opening: str) -> DialogueRecord:
            return await self.generate_dialogue(
                opening,
                n_user_turns,
                system_prompt=system_prompt,
                model=model,
                user_model=user_model,
                model_kwargs=model_kwargs,
                user_model_kwargs=user_model_kwargs,
                user_template=user_template,
            )

        return await self.fan_out(one, openings)

    def _check(self, n_user_turns: int, user_template: PromptTemplate | str) -> PromptTemplate:
        if not isinstance(n_user_turns, int) or isinstance(n_user_turns, bool) or n_user_turns < 1:
            raise ConfigError(f"n_user_turns must be a positive integer, got {n_user_turns!r}")
        template = template_of(user_template, self.family)
        if template.fields != {"conversation"}:
            raise ConfigError(
                f"user_template {template.id!r} must have exactly the placeholder {{conversation}}, "
                f"has {sorted(template.fields)}"
            )
        return template

    async def _reply(
        self, messages: list[dict[str, str]], model: str | None, model_kwargs: Mapping[str, Any] | None
    ) -> str:
        """The assistant's answer to the conversation so far (not empty)."""
        if "n" in self.params or "n" in (model_kwargs or {}):
            raise ConfigError("a dialogue turn is one answer: do not pass n in model_kwargs or params")
        answers = await self.ask_messages(
            messages, namespace=ASSISTANT_TURN_NAMESPACE, model=model, model_kwargs=model_kwargs, n=1
        )
        answer = answers[0].strip()
        if not answer:
            raise ResponseParseError("the assistant answered with an empty message", raw=answers[0])
        return answer


class DialogueGenerator(BlockingGenerator[AsyncDialogueGenerator]):
    """Blocking version of :class:`AsyncDialogueGenerator` (same arguments and methods, no ``await``)."""

    async_class = AsyncDialogueGenerator

    generate_dialogue = blocking(AsyncDialogueGenerator.generate_dialogue)
    generate_dialogues = blocking(AsyncDialogueGenerator.generate_dialogues)
