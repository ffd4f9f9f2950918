"""Persona-driven generation after Persona Hub (Ge et al., 2024): texts → personas → tasks.

:meth:`AsyncPersonaGenerator.text_to_persona` infers, for each text, one specific person who would write,
read or care about it (``persona.text_to_persona``); :meth:`AsyncPersonaGenerator.persona_to_task` turns
each persona into a task of one kind: a math problem, a knowledge question or a writing request
(``persona.math_problem``, ``persona.knowledge_question``, ``persona.writing_task``). A persona record can
be passed on as is: its id becomes the task's parent. Answers are cleaned of lead-ins ("Persona:",
"Problem:", ...) and wrapping quotes; an empty result is a :class:`ResponseParseError` for that item only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from curator_synth.errors import ConfigError, ResponseParseError
from curator_synth.generators.base import BaseGenerator, template_of
from curator_synth.generators.blocking import BlockingGenerator, blocking
from curator_synth.generators.responses import Sampling, sample_answers
from curator_synth.outcome import Outcome
from curator_synth.parsing import clean_item, first_line, remove_prefix
from curator_synth.prompts.base import PromptTemplate
from curator_synth.prompts.persona import PERSONA_TASKS, TEXT_TO_PERSONA
from curator_synth.records import record_id

__all__ = [
    "AsyncPersonaGenerator",
    "PersonaGenerator",
    "PersonaRecord",
    "PersonaTaskRecord",
    "TaskKind",
    "parse_persona",
    "parse_task",
]

TaskKind = Literal["math", "knowledge", "writing"]

_PERSONA_LEADS = ("Persona:", "Persona description:", "Description:", "The persona:", "Here is the persona:")
_TASK_LEADS = (
    "Math problem:",
    "Problem:",
    "Question:",
    "Knowledge question:",
    "Task:",
    "Writing task:",
    "Request:",
    "Writing request:",
    "Here is the problem:",
    "Here is the question:",
    "Here is the request:",
)


def parse_persona(answer: str) -> str:
    """The persona sentence: lead-in removed, first non-blank line, unwrapped; ResponseParseError if empty."""
    persona = clean_item(first_line(remove_prefix(answer, _PERSONA_LEADS)))
    if not persona:
        raise ResponseParseError("the model gave no persona", raw=answer)
    return persona


def parse_task(answer: str) -> str:
    """The task text (all of it: a problem may span lines), lead-in removed, unwrapped; ResponseParseError if
    empty."""
    task = clean_item(remove_prefix(answer, _TASK_LEADS))
    if not task:
        raise ResponseParseError("the model gave no task", raw=answer)
    return task


@dataclass(frozen=True)
class PersonaRecord:
    """A persona inferred from ``text``."""

    id: str
    persona: str
    text: str
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "persona": self.persona, "text": self.text, "provenance": dict(self.provenance)}


@dataclass(frozen=True)
class PersonaTaskRecord:
    """A task of ``kind`` written for ``persona`` (``persona_id`` links back to a :class:`PersonaRecord`)."""

    id: str
    persona: str
    kind: str
    task: str
    persona_id: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "persona": self.persona,
            "kind": self.kind,
            "task": self.task,
            "persona_id": self.persona_id,
            "provenance": dict(self.provenance),
        }


class AsyncPersonaGenerator(BaseGenerator):
    """Personas from texts, and tasks from personas (each step fans out; failures are reported per item)."""

    family = "persona"

    async def text_to_persona(
        self,
        texts: Iterable[str],
        *,
        max_chars: int | None = 4000,
        model: str | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
        template: PromptTemplate | str = TEXT_TO_PERSONA,
    ) -> Outcome[PersonaRecord]:
        """One persona per text. A text longer than ``max_chars`` is cut to that many characters in the
        prompt (the record keeps the whole text); ``template`` needs a ``{text}`` placeholder."""
        prompt = _with_fields(template_of(template, self.family), {"text"})
        self.model_for(model)

        async def one(text: str) -> PersonaRecord:
            if not isinstance(text, str) or not text.strip():
                raise ConfigError(f"a text must be a non-empty string, got {text!r:.80}")
            shown = text if max_chars is None else text[:max_chars]
            persona = parse_persona(
                await self.ask_one(prompt, {"text": shown}, model=model, model_kwargs=model_kwargs, n=1)
            )
            provenance = self.provenance(
                prompt,
                method="text_to_persona",
                model=model,
                model_kwargs=model_kwargs,
                parents=[record_id("text", text)],
                max_chars=max_chars,
            )
            return PersonaRecord(record_id("persona", text, persona), persona, text, provenance)

        return await self.fan_out(one, texts)

    async def persona_to_task(
        self,
        personas: Iterable[str | PersonaRecord],
        kind: TaskKind = "math",
        *,
        n: int = 1,
        sampling: Sampling = "n",
        seed: int | None = None,
        model: str | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
        template: PromptTemplate | str | None = None,
    ) -> Outcome[PersonaTaskRecord]:
        """``n`` tasks of ``kind`` per persona (a string or a :class:`PersonaRecord`), all in one flat list.

        ``n``, ``sampling`` and ``seed`` work as in
        :meth:`~curator_synth.generators.responses.AsyncResponseGenerator.generate_responses`. ``template``
        (with a ``{persona}`` placeholder) replaces the kind's template; ``kind`` still labels the records.
        """
        if template is None:
            if kind not in PERSONA_TASKS:
                raise ConfigError(f"kind must be one of {sorted(PERSONA_TASKS)}, got {kind!r}")
            template = PERSONA_TASKS[kind]
        prompt = _with_fields(template_of(template, self.family), {"persona"})
        self.model_for(model)

        async def one(item: str | PersonaRecord) -> list[PersonaTaskRecord]:
            persona, parent = (item.persona, item.id) if isinstance(item, PersonaRecord) else (item, None)
            if not isinstance(persona, str) or not persona.strip():
                raise ConfigError(f"a persona must be a non-empty string or a PersonaRecord, got {item!r:.80}")
            answers, seeds = await sample_answers(
                self,
                prompt,
                {"persona": persona},
                n=n,
                sampling=sampling,
                seed=seed,
                model=model,
                model_kwargs=model_kwargs,
            )
            tasks = [parse_task(answer) for answer in answers]
            records = []
            for k, task in enumerate(tasks):
                provenance = self.provenance(
                    prompt,
                    method="persona_to_task",
                    model=model,
                    model_kwargs=model_kwargs,
                    parents=[parent] if parent else [],
                    kind=kind,
                    sampling=sampling,
                    sample=k,
                    seed=seeds[k] if seeds else None,
                )
                records.append(
                    PersonaTaskRecord(
                        record_id("persona_task", persona, kind, task), persona, kind, task, parent, provenance
                    )
                )
            return records

        nested = await self.fan_out(one, personas)
        return Outcome([record for group in nested.items for record in group], nested.failures)


def _with_fields(template: PromptTemplate, expected: set[str]) -> PromptTemplate:
    if template.fields != expected:
        raise ConfigError(
            f"template {template.id!r} must have exactly the placeholders {sorted(expected)}, "
            f"has {sorted(template.fields)}"
        )
    return template


class PersonaGenerator(BlockingGenerator[AsyncPersonaGenerator]):
    """Blocking version of :class:`AsyncPersonaGenerator` (same arguments and methods, no ``await``)."""

    async_class = AsyncPersonaGenerator

    persona_to_task = blocking(AsyncPersonaGenerator.persona_to_task)
    text_to_persona = blocking(AsyncPersonaGenerator.text_to_persona)
