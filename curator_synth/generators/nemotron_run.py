"""One run of a Nemotron pipeline (:class:`PipelineRun`): how its steps fan out, read list answers, check counts
and keep provenance, and what it returns (:class:`NemotronPipelineResult`, :class:`PipelineFailure`).

Each step fans its requests out concurrently through the client's engine (:meth:`BaseGenerator.fan_out`).
A list answer is parsed with :func:`~curator_synth.parsing.parse_list`; only when that fails does the step
pay for an LLM YAML conversion (checked: every item must occur verbatim in the answer). The count is then
checked with the step's count policy. An item that fails (HTTP error, unparseable answer, failed conversion,
wrong count) is left out and reported in ``result.failures`` with its step (``stage``) and reason; the other
items go on. ``ignore_conversion_failure=False`` restores NeMo's all-or-nothing behaviour (the first failure is
raised).

Every record is a dict ``{"id", "stage", "text", ..., "provenance"}``; ``provenance["parents"]`` holds the ids
of the records it was generated from, so a final question can be traced back to its topic and macro topic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from curator_synth.errors import ResponseParseError
from curator_synth.generators.base import template_of
from curator_synth.generators.nemotron_steps import NemotronSteps
from curator_synth.outcome import Failure, Outcome
from curator_synth.parsing import CountPolicy, apply_count_policy, parse_list, starts_with_yes_no
from curator_synth.prompts.base import PromptTemplate
from curator_synth.records import record_id

__all__ = [
    "NemotronPipelineResult",
    "PipelineFailure",
    "PipelineRun",
    "Record",
    "StepInput",
    "expected_count",
    "seed_records",
]

Template = PromptTemplate | str
Count = int | str
Kwargs = Mapping[str, Any] | None
Step = Callable[..., Awaitable[list[str]]]

Record = dict[str, Any]


@dataclass(frozen=True)
class StepInput:
    """One request of a stage: the record it derives from (None in a first stage), the method's arguments
    (``values``) and fields copied into the records it yields (``fields``)."""

    parent: Record | None
    values: dict[str, Any]
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PipelineFailure(Failure):
    """A failed item of a pipeline: :class:`Failure` plus its stage (``input`` is a :class:`StepInput`)."""

    stage: str = ""

    @property
    def reason(self) -> str:
        return f"{self.stage}: {type(self.error).__name__}: {self.error}"


@dataclass
class NemotronPipelineResult(Outcome[Record]):
    """The final records (``items``), what failed (``failures``) and every stage's records (``stages``)."""

    stages: dict[str, list[Record]] = field(default_factory=dict)

    @property
    def texts(self) -> list[str]:
        """The final texts alone: what NeMo's pipelines return."""
        return [record["text"] for record in self.items]


def expected_count(count: Count) -> int | None:
    """The count to check, when there is one ("five" cannot be checked)."""
    if isinstance(count, int) and not isinstance(count, bool):
        return count
    return int(count) if isinstance(count, str) and count.strip().isdigit() else None


def seed_records(stage: str, texts: Sequence[str]) -> list[Record]:
    """Records given by the caller (extra topics): no template, no parents."""
    return [{"id": record_id(stage, t), "stage": stage, "text": t, "provenance": {"source": "input"}} for t in texts]


@dataclass
class PipelineRun:
    """One run of a Nemotron pipeline: the generator whose steps it calls (``steps``), the options all its
    steps share, and the result they fill. :meth:`list_step` runs one list-producing step over many inputs;
    :meth:`topic_chain` the macro topics → subtopics → [classification] → items chain."""

    steps: NemotronSteps
    model: str | None
    model_kwargs: Kwargs
    conversion_template: Template
    conversion_model_kwargs: Kwargs
    yaml_fallback: bool
    policies: dict[str, CountPolicy]
    raise_on_failure: bool
    result: NemotronPipelineResult = field(default_factory=NemotronPipelineResult)

    def _record(self, stage: str, text: str, template: Template, method: str, job: StepInput, **extra: Any) -> Record:
        parents = [job.parent["id"]] if job.parent else []
        provenance = self.steps.provenance(
            template_of(template, self.steps.family),
            method=method,
            model=self.model,
            model_kwargs=self.model_kwargs,
            parents=parents,
            **extra,
        )
        record = {"id": record_id(stage, text, parents), "stage": stage, "text": text}
        return {**record, **job.fields, "provenance": provenance}

    async def _list_items(self, raw: str, expected: int | None, policy: CountPolicy) -> tuple[list[str], str]:
        """The items of a list answer and how they were read (deterministic parse, else the LLM conversion)."""
        try:
            items, parsed_by = parse_list(raw), "parse_list"
        except ResponseParseError:
            if not self.yaml_fallback:
                raise
            items = await self.steps.convert_response_to_yaml_list(
                raw, self.model, self.conversion_template, model_kwargs=self.conversion_model_kwargs
            )
            parsed_by = template_of(self.conversion_template, self.steps.family).namespace
        return apply_count_policy(items, expected, policy, raw=raw), parsed_by

    def _finish(self, stage: str, outcome: Outcome[Any], records: list[Record]) -> list[Record]:
        self.result.stages[stage] = records
        self.result.failures.extend(PipelineFailure(f.index, f.input, f.error, stage) for f in outcome.failures)
        if outcome.failures and self.raise_on_failure:
            raise outcome.failures[0].error
        return records

    async def list_step(
        self,
        stage: str,
        jobs: Sequence[StepInput],
        method: Step,
        template: Template,
        count_name: str,
        count: Count,
        **options: Any,
    ) -> list[Record]:
        """Call ``method`` for every job, concurrently; each list answer becomes one record per item."""
        expected = expected_count(count)

        async def one(job: StepInput) -> list[Record]:
            answers = await method(
                **job.values,
                **options,
                **{count_name: count},
                model=self.model,
                prompt_template=template,
                model_kwargs=self.model_kwargs,
            )
            items, parsed_by = await self._list_items(answers[0], expected, self.policies[stage])
            return [self._record(stage, text, template, method.__name__, job, parsed_by=parsed_by) for text in items]

        outcome = await self.steps.fan_out(one, jobs)
        return self._finish(stage, outcome, [record for group in outcome.items for record in group])

    async def _classify_step(self, topics: list[Record], method: Step, template: Template) -> list[Record]:
        """Keep the topics the model classifies as in scope ("Yes ..."); an answer with neither Yes nor No fails."""

        async def one(job: StepInput) -> Record:
            answer = (
                await method(**job.values, model=self.model, prompt_template=template, model_kwargs=self.model_kwargs)
            )[0]
            verdict = starts_with_yes_no(answer)
            if verdict is None:
                raise ResponseParseError("the classification answer starts with neither Yes nor No", raw=answer)
            record = self._record("classification", answer, template, method.__name__, job)
            return {**record, "accepted": verdict}

        jobs = [StepInput(topic, {"entity": topic["text"]}, {"entity": topic["text"]}) for topic in topics]
        outcome = await self.steps.fan_out(one, jobs)
        self._finish("classification", outcome, outcome.items)
        kept = {record["provenance"]["parents"][0] for record in outcome.items if record["accepted"]}
        return [topic for topic in topics if topic["id"] in kept]

    async def topic_chain(
        self,
        steps: tuple[Step, Step, Step],
        templates: tuple[Template, Template, Template],
        counts: tuple[Count, Count, Count],
        additional: tuple[Sequence[str], Sequence[str]],
        combine_topics: bool,
        classify: tuple[Step, Template] | None = None,
        macro_options: Mapping[str, Any] | None = None,
        final_options: Mapping[str, Any] | None = None,
        final_stage: str = "problems",
    ) -> list[Record]:
        """Macro topics → subtopics of each (+ the macro topics if ``combine_topics``) → [classification] →
        a list of questions or problems per topic (``final_stage``, counted by ``n_openlines``).

        The caller's additional topics are part of their stage's records (``provenance == {"source": "input"}``).
        """
        first = [StepInput(None, {})]
        macro_step, sub_step, final_step = steps
        macros = await self.list_step(
            "macro_topics", first, macro_step, templates[0], "n_macro_topics", counts[0], **(macro_options or {})
        )
        macros = self.result.stages["macro_topics"] = macros + seed_records("macro_topics", additional[0])
        jobs = [StepInput(topic, {"macro_topic": topic["text"]}) for topic in macros]
        topics = await self.list_step("subtopics", jobs, sub_step, templates[1], "n_subtopics", counts[1])
        topics = self.result.stages["subtopics"] = topics + seed_records("subtopics", additional[1])
        if combine_topics:
            topics = topics + macros
        if classify is not None:
            topics = await self._classify_step(topics, *classify)
        jobs = [StepInput(topic, {"topic": topic["text"]}, {"topic": topic["text"]}) for topic in topics]
        return await self.list_step(
            final_stage, jobs, final_step, templates[2], "n_openlines", counts[2], **(final_options or {})
        )
