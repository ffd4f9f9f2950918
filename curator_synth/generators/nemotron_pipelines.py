"""The multi-stage Nemotron pipelines (NeMo Curator 0.9's ``run_*_pipeline``), mixed into
:class:`~curator_synth.generators.nemotron.AsyncNemotronGenerator`.

Each stage fans its requests out concurrently through the client's engine (:meth:`BaseGenerator.fan_out`).
A list answer is parsed with :func:`~curator_synth.parsing.parse_list`; only when that fails does the stage
pay for an LLM YAML conversion (checked: every item must occur verbatim in the answer). The count is then
checked with the stage's count policy. An item that fails (HTTP error, unparseable answer, failed conversion,
wrong count) is left out and reported in ``result.failures`` with its stage and reason; the other items go on.
``ignore_conversion_failure=False`` restores NeMo's all-or-nothing behaviour (the first failure is raised).

Every record is a dict ``{"id", "stage", "text", ..., "provenance"}``; ``provenance["parents"]`` holds the ids
of the records it was generated from, so a final question can be traced back to its topic and macro topic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from curator_synth.errors import ConfigError, ResponseParseError
from curator_synth.generators.base import BaseGenerator, StageResult, record_id, template_of
from curator_synth.generators.stages import NemotronPipelineResult, PipelineFailure, Record, StageInput
from curator_synth.parsing import CountPolicy, apply_count_policy, parse_list, starts_with_yes_no
from curator_synth.prompts import nemotron as prompts
from curator_synth.prompts.base import PromptTemplate

if TYPE_CHECKING:
    from curator_synth.generators.nemotron import AsyncNemotronGenerator

__all__ = ["NemotronPipelineResult", "NemotronPipelines", "PipelineFailure", "StageInput"]

Template = PromptTemplate | str
Count = int | str
Kwargs = Mapping[str, Any] | None
CountPolicies = CountPolicy | Mapping[str, CountPolicy]
Step = Callable[..., Awaitable[list[str]]]
_POLICIES = ("error", "trim", "accept")


@dataclass
class _Run:
    """The options every stage of one pipeline run shares, and the result it fills."""

    model: str | None
    model_kwargs: Kwargs
    conversion_template: Template
    conversion_model_kwargs: Kwargs
    yaml_fallback: bool
    policies: dict[str, CountPolicy]
    raise_on_failure: bool
    result: NemotronPipelineResult = field(default_factory=NemotronPipelineResult)


def _expected(count: Count) -> int | None:
    """The count to check, when there is one ("five" cannot be checked)."""
    if isinstance(count, int) and not isinstance(count, bool):
        return count
    return int(count) if isinstance(count, str) and count.strip().isdigit() else None


def _seeds(stage: str, texts: Sequence[str]) -> list[Record]:
    """Records given by the caller (extra topics): no template, no parents."""
    return [{"id": record_id(stage, t), "stage": stage, "text": t, "provenance": {"source": "input"}} for t in texts]


class NemotronPipelines(BaseGenerator):
    """The ``run_*_pipeline`` methods; the single steps they call are AsyncNemotronGenerator's."""

    def _start(
        self,
        stages: Sequence[str],
        model: str | None,
        base_model_kwargs: Kwargs,
        conversion: tuple[Template, Kwargs, bool],
        count_policy: CountPolicies,
        ignore_conversion_failure: bool,
    ) -> _Run:
        """The shared options of a run; ``conversion`` is (template, model kwargs, enabled) of the YAML fallback."""
        self._model(model)  # no model anywhere: fail before sending anything
        wanted = {stage: count_policy for stage in stages} if isinstance(count_policy, str) else dict(count_policy)
        if wanted.keys() - set(stages) or any(policy not in _POLICIES for policy in wanted.values()):
            raise ConfigError(f"count_policy: stages are {list(stages)}, policies {_POLICIES}; got {count_policy!r}")
        policies: dict[str, CountPolicy] = {stage: wanted.get(stage, "error") for stage in stages}
        return _Run(model, base_model_kwargs, *conversion, policies, raise_on_failure=not ignore_conversion_failure)

    @property
    def _steps(self) -> AsyncNemotronGenerator:
        return cast("AsyncNemotronGenerator", self)

    def _record(
        self, run: _Run, stage: str, text: str, template: Template, method: str, job: StageInput, **extra: Any
    ) -> Record:
        parents = [job.parent["id"]] if job.parent else []
        provenance = self.provenance(
            template_of(template, self.family),
            method=method,
            model=run.model,
            model_kwargs=run.model_kwargs,
            parents=parents,
            **extra,
        )
        record = {"id": record_id(stage, text, parents), "stage": stage, "text": text}
        return {**record, **job.fields, "provenance": provenance}

    async def _list_items(
        self, run: _Run, raw: str, expected: int | None, policy: CountPolicy
    ) -> tuple[list[str], str]:
        """The items of a list answer and how they were read (deterministic parse, else the LLM conversion)."""
        try:
            items, parsed_by = parse_list(raw), "parse_list"
        except ResponseParseError:
            if not run.yaml_fallback:
                raise
            items = await self._steps.convert_response_to_yaml_list(
                raw, run.model, run.conversion_template, model_kwargs=run.conversion_model_kwargs
            )
            parsed_by = template_of(run.conversion_template, self.family).namespace
        return apply_count_policy(items, expected, policy, raw=raw), parsed_by

    def _finish(self, run: _Run, stage: str, outcome: StageResult[Any], records: list[Record]) -> list[Record]:
        run.result.stages[stage] = records
        run.result.failures.extend(PipelineFailure(f.index, f.input, f.error, stage) for f in outcome.failures)
        if outcome.failures and run.raise_on_failure:
            raise outcome.failures[0].error
        return records

    async def _list_stage(
        self,
        run: _Run,
        stage: str,
        jobs: Sequence[StageInput],
        method: Step,
        template: Template,
        count_name: str,
        count: Count,
        **options: Any,
    ) -> list[Record]:
        """Call ``method`` for every job, concurrently; each list answer becomes one record per item."""
        expected = _expected(count)

        async def one(job: StageInput) -> list[Record]:
            answers = await method(
                **job.values,
                **options,
                **{count_name: count},
                model=run.model,
                prompt_template=template,
                model_kwargs=run.model_kwargs,
            )
            items, parsed_by = await self._list_items(run, answers[0], expected, run.policies[stage])
            return [
                self._record(run, stage, text, template, method.__name__, job, parsed_by=parsed_by) for text in items
            ]

        outcome = await self.fan_out(one, jobs)
        return self._finish(run, stage, outcome, [record for group in outcome.items for record in group])

    async def _classify_stage(self, run: _Run, topics: list[Record], method: Step, template: Template) -> list[Record]:
        """Keep the topics the model classifies as in scope ("Yes ..."); an answer with neither Yes nor No fails."""

        async def one(job: StageInput) -> Record:
            answer = (
                await method(**job.values, model=run.model, prompt_template=template, model_kwargs=run.model_kwargs)
            )[0]
            verdict = starts_with_yes_no(answer)
            if verdict is None:
                raise ResponseParseError("the classification answer starts with neither Yes nor No", raw=answer)
            record = self._record(run, "classification", answer, template, method.__name__, job)
            return {**record, "accepted": verdict}

        jobs = [StageInput(topic, {"entity": topic["text"]}, {"entity": topic["text"]}) for topic in topics]
        outcome = await self.fan_out(one, jobs)
        self._finish(run, "classification", outcome, outcome.items)
        kept = {record["provenance"]["parents"][0] for record in outcome.items if record["accepted"]}
        return [topic for topic in topics if topic["id"] in kept]

    async def _topic_pipeline(
        self,
        run: _Run,
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
        first = [StageInput(None, {})]
        macro_step, sub_step, final_step = steps
        macros = await self._list_stage(
            run, "macro_topics", first, macro_step, templates[0], "n_macro_topics", counts[0], **(macro_options or {})
        )
        macros = run.result.stages["macro_topics"] = macros + _seeds("macro_topics", additional[0])
        jobs = [StageInput(topic, {"macro_topic": topic["text"]}) for topic in macros]
        topics = await self._list_stage(run, "subtopics", jobs, sub_step, templates[1], "n_subtopics", counts[1])
        topics = run.result.stages["subtopics"] = topics + _seeds("subtopics", additional[1])
        if combine_topics:
            topics = topics + macros
        if classify is not None:
            topics = await self._classify_stage(run, topics, *classify)
        jobs = [StageInput(topic, {"topic": topic["text"]}, {"topic": topic["text"]}) for topic in topics]
        return await self._list_stage(
            run, final_stage, jobs, final_step, templates[2], "n_openlines", counts[2], **(final_options or {})
        )

    # ------------------------------------------------------------------------------------------ pipelines
    async def run_open_qa_pipeline(
        self,
        n_macro_topics: Count,
        n_subtopics: Count,
        n_openlines: Count,
        n_revisions: Count,
        model: str | None = None,
        macro_topic_prompt_template: Template = prompts.DEFAULT_MACRO_TOPICS_PROMPT_TEMPLATE,
        subtopic_prompt_template: Template = prompts.DEFAULT_SUBTOPICS_PROMPT_TEMPLATE,
        open_qa_from_topics_prompt_template: Template = prompts.DEFAULT_OPEN_QA_FROM_TOPICS_PROMPT_TEMPLATE,
        revise_open_qa_prompt_template: Template = prompts.DEFAULT_REVISE_OPEN_QA_PROMPT_TEMPLATE,
        yaml_conversion_prompt_template: Template = prompts.DEFAULT_YAML_CONVERSION_PROMPT_TEMPLATE,
        base_model_kwargs: Kwargs = None,
        conversion_model_kwargs: Kwargs = None,
        additional_macro_topics: Sequence[str] = (),
        additional_subtopics: Sequence[str] = (),
        ignore_conversion_failure: bool = True,
        combine_topics: bool = True,
        *,
        count_policy: CountPolicies = "error",
        yaml_fallback: bool = True,
    ) -> NemotronPipelineResult:
        """Open Q&A prompts: macro topics → subtopics → questions per topic → revised questions (the items).

        Stages (keys of ``count_policy`` and ``result.stages``): macro_topics, subtopics, openlines,
        revisions. ``combine_topics`` also asks questions about the macro topics themselves.
        """
        stages = ["macro_topics", "subtopics", "openlines", "revisions"]
        conversion = (yaml_conversion_prompt_template, conversion_model_kwargs, yaml_fallback)
        run = self._start(stages, model, base_model_kwargs, conversion, count_policy, ignore_conversion_failure)
        steps = self._steps
        openlines = await self._topic_pipeline(
            run,
            (steps.generate_macro_topics, steps.generate_subtopics, steps.generate_open_qa_from_topic),
            (macro_topic_prompt_template, subtopic_prompt_template, open_qa_from_topics_prompt_template),
            (n_macro_topics, n_subtopics, n_openlines),
            (additional_macro_topics, additional_subtopics),
            combine_topics,
            final_stage="openlines",
        )
        jobs = [StageInput(line, {"openline": line["text"]}) for line in openlines]
        run.result.items = await self._list_stage(
            run, "revisions", jobs, steps.revise_open_qa, revise_open_qa_prompt_template, "n_revisions", n_revisions
        )
        return run.result

    async def run_writing_pipeline(
        self,
        topics: Sequence[str],
        text_material_types: Sequence[str],
        n_openlines: Count,
        n_revisions: Count,
        model: str | None = None,
        writing_task_prompt_template: Template = prompts.DEFAULT_WRITING_TASK_PROMPT_TEMPLATE,
        revise_writing_task_prompt_template: Template = prompts.DEFAULT_REVISE_WRITING_TASK_PROMPT_TEMPLATE,
        yaml_conversion_prompt_template: Template = prompts.DEFAULT_YAML_CONVERSION_PROMPT_TEMPLATE,
        base_model_kwargs: Kwargs = None,
        conversion_model_kwargs: Kwargs = None,
        ignore_conversion_failure: bool = True,
        *,
        count_policy: CountPolicies = "error",
        yaml_fallback: bool = True,
    ) -> NemotronPipelineResult:
        """Writing prompts: tasks per (topic, text material type) → revised tasks (the items).

        Stages: writing_tasks, revisions. Task records carry ``topic`` and ``text_material_type``.
        """
        stages = ["writing_tasks", "revisions"]
        conversion = (yaml_conversion_prompt_template, conversion_model_kwargs, yaml_fallback)
        run = self._start(stages, model, base_model_kwargs, conversion, count_policy, ignore_conversion_failure)
        jobs = [
            StageInput(seed, pair, pair)
            for seed in _seeds("topics", topics)
            for pair in ({"topic": seed["text"], "text_material_type": kind} for kind in text_material_types)
        ]
        tasks = await self._list_stage(
            run,
            "writing_tasks",
            jobs,
            self._steps.generate_writing_tasks,
            writing_task_prompt_template,
            "n_openlines",
            n_openlines,
        )
        jobs = [StageInput(task, {"openline": task["text"]}) for task in tasks]
        run.result.items = await self._list_stage(
            run,
            "revisions",
            jobs,
            self._steps.revise_writing_tasks,
            revise_writing_task_prompt_template,
            "n_revisions",
            n_revisions,
        )
        return run.result

    async def run_closed_qa_pipeline(
        self,
        documents: Sequence[str],
        n_openlines: Count,
        model: str | None = None,
        closed_qa_prompt_template: Template = prompts.DEFAULT_CLOSED_QA_PROMPT_TEMPLATE,
        yaml_conversion_prompt_template: Template = prompts.DEFAULT_YAML_CONVERSION_PROMPT_TEMPLATE,
        base_model_kwargs: Kwargs = None,
        conversion_model_kwargs: Kwargs = None,
        ignore_conversion_failure: bool = True,
        *,
        count_policy: CountPolicies = "error",
        yaml_fallback: bool = True,
    ) -> NemotronPipelineResult:
        """Closed Q&A prompts: questions or instructions about each document (one stage: instructions).

        Each record has ``document_index`` (NeMo returns ``(index, text)`` pairs); its parent is the document.
        """
        stages = ["instructions"]
        conversion = (yaml_conversion_prompt_template, conversion_model_kwargs, yaml_fallback)
        run = self._start(stages, model, base_model_kwargs, conversion, count_policy, ignore_conversion_failure)
        seeds = _seeds("documents", documents)
        jobs = [StageInput(seed, {"document": seed["text"]}, {"document_index": i}) for i, seed in enumerate(seeds)]
        run.result.items = await self._list_stage(
            run,
            "instructions",
            jobs,
            self._steps.generate_closed_qa_instructions,
            closed_qa_prompt_template,
            "n_openlines",
            n_openlines,
        )
        return run.result

    async def run_math_pipeline(
        self,
        n_macro_topics: Count,
        school_level: str,
        n_subtopics: Count,
        n_openlines: Count,
        model: str | None = None,
        macro_topic_prompt_template: Template = prompts.DEFAULT_MATH_MACRO_TOPICS_PROMPT_TEMPLATE,
        subtopic_prompt_template: Template = prompts.DEFAULT_MATH_SUBTOPICS_PROMPT_TEMPLATE,
        math_problem_prompt_template: Template = prompts.MATH_PROBLEM_GENERAL_PROMPT_TEMPLATE,
        yaml_conversion_prompt_template: Template = prompts.DEFAULT_YAML_CONVERSION_PROMPT_TEMPLATE,
        base_model_kwargs: Kwargs = None,
        conversion_model_kwargs: Kwargs = None,
        additional_macro_topics: Sequence[str] = (),
        additional_subtopics: Sequence[str] = (),
        ignore_conversion_failure: bool = True,
        combine_topics: bool = True,
        *,
        count_policy: CountPolicies = "error",
        yaml_fallback: bool = True,
        classify_topics: bool = False,
        classification_prompt_template: Template = prompts.DEFAULT_MATH_CLASSIFICATION_PROMPT_TEMPLATE,
    ) -> NemotronPipelineResult:
        """Math problems: macro topics for ``school_level`` → subtopics → problems per topic (the items).

        Stages: macro_topics, subtopics, [classification,] problems. ``classify_topics`` (not in NeMo's
        pipeline; the Nemotron report's filter) keeps only the topics the model calls math ("Yes ...").
        """
        stages = ["macro_topics", "subtopics", "problems"]
        conversion = (yaml_conversion_prompt_template, conversion_model_kwargs, yaml_fallback)
        run = self._start(stages, model, base_model_kwargs, conversion, count_policy, ignore_conversion_failure)
        steps = self._steps
        run.result.items = await self._topic_pipeline(
            run,
            (steps.generate_math_macro_topics, steps.generate_math_subtopics, steps.generate_math_problem),
            (macro_topic_prompt_template, subtopic_prompt_template, math_problem_prompt_template),
            (n_macro_topics, n_subtopics, n_openlines),
            (additional_macro_topics, additional_subtopics),
            combine_topics,
            (steps.classify_math_entity, classification_prompt_template) if classify_topics else None,
            macro_options={"school_level": school_level},
        )
        return run.result

    async def run_python_pipeline(
        self,
        n_macro_topics: Count,
        n_subtopics: Count,
        n_openlines: Count,
        model: str | None = None,
        macro_topic_prompt_template: Template = prompts.DEFAULT_PYTHON_MACRO_TOPICS_PROMPT_TEMPLATE,
        subtopic_prompt_template: Template = prompts.DEFAULT_PYTHON_SUBTOPICS_PROMPT_TEMPLATE,
        python_problem_prompt_template: Template = prompts.PYTHON_PROBLEM_BEGINNER_PROMPT_TEMPLATE,
        yaml_conversion_prompt_template: Template = prompts.DEFAULT_YAML_CONVERSION_PROMPT_TEMPLATE,
        base_model_kwargs: Kwargs = None,
        conversion_model_kwargs: Kwargs = None,
        additional_macro_topics: Sequence[str] = (),
        additional_subtopics: Sequence[str] = (),
        ignore_conversion_failure: bool = True,
        combine_topics: bool = True,
        *,
        language: str = "Python",
        count_policy: CountPolicies = "error",
        yaml_fallback: bool = True,
        classify_topics: bool = False,
        classification_prompt_template: Template = prompts.DEFAULT_PYTHON_CLASSIFICATION_PROMPT_TEMPLATE,
    ) -> NemotronPipelineResult:
        """Coding problems: Python macro topics → subtopics → problems per topic in ``language`` (the items).

        Stages: macro_topics, subtopics, [classification,] problems; ``classify_topics`` as in the math one.
        """
        stages = ["macro_topics", "subtopics", "problems"]
        conversion = (yaml_conversion_prompt_template, conversion_model_kwargs, yaml_fallback)
        run = self._start(stages, model, base_model_kwargs, conversion, count_policy, ignore_conversion_failure)
        steps = self._steps
        run.result.items = await self._topic_pipeline(
            run,
            (steps.generate_python_macro_topics, steps.generate_python_subtopics, steps.generate_python_problem),
            (macro_topic_prompt_template, subtopic_prompt_template, python_problem_prompt_template),
            (n_macro_topics, n_subtopics, n_openlines),
            (additional_macro_topics, additional_subtopics),
            combine_topics,
            (steps.classify_python_entity, classification_prompt_template) if classify_topics else None,
            final_options={"language": language},
        )
        return run.result
