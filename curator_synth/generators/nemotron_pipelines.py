"""The multi-step Nemotron pipelines (NeMo Curator 0.9's ``run_*_pipeline``): :class:`NemotronPipelines` runs
them over a :class:`~curator_synth.generators.nemotron_steps.NemotronSteps` generator it is given (composition:
the pipelines call the generator's single steps, so a step patched or overridden on the generator is the one
they use). :class:`~curator_synth.generators.nemotron.AsyncNemotronGenerator` exposes them as its own methods
through :func:`pipeline_method`.

How each step runs, and the result: :mod:`curator_synth.generators.nemotron_run`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from curator_synth.errors import ConfigError
from curator_synth.generators.nemotron_run import (
    Count,
    Kwargs,
    NemotronPipelineResult,
    PipelineFailure,
    PipelineRun,
    StepInput,
    Template,
    seed_records,
)
from curator_synth.generators.nemotron_steps import NemotronSteps
from curator_synth.parsing import CountPolicy
from curator_synth.prompts import nemotron as prompts

__all__ = ["NemotronPipelineResult", "NemotronPipelines", "PipelineFailure", "StepInput", "pipeline_method"]

P = ParamSpec("P")
R = TypeVar("R")

CountPolicies = CountPolicy | Mapping[str, CountPolicy]
_POLICIES = ("error", "trim", "accept")


class NemotronPipelines:
    """The ``run_*_pipeline`` methods over ``steps``, the generator whose single steps they call (its client,
    model, parameters and provenance are the ones used)."""

    def __init__(self, steps: NemotronSteps) -> None:
        self.steps = steps

    def _start(
        self,
        stages: Sequence[str],
        model: str | None,
        base_model_kwargs: Kwargs,
        conversion: tuple[Template, Kwargs, bool],
        count_policy: CountPolicies,
        ignore_conversion_failure: bool,
    ) -> PipelineRun:
        """The shared options of a run; ``conversion`` is (template, model kwargs, enabled) of the YAML fallback."""
        self.steps.model_for(model)  # no model anywhere: fail before sending anything
        wanted = {stage: count_policy for stage in stages} if isinstance(count_policy, str) else dict(count_policy)
        if wanted.keys() - set(stages) or any(policy not in _POLICIES for policy in wanted.values()):
            raise ConfigError(f"count_policy: stages are {list(stages)}, policies {_POLICIES}; got {count_policy!r}")
        policies: dict[str, CountPolicy] = {stage: wanted.get(stage, "error") for stage in stages}
        return PipelineRun(
            self.steps, model, base_model_kwargs, *conversion, policies, raise_on_failure=not ignore_conversion_failure
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
        steps = self.steps
        openlines = await run.topic_chain(
            (steps.generate_macro_topics, steps.generate_subtopics, steps.generate_open_qa_from_topic),
            (macro_topic_prompt_template, subtopic_prompt_template, open_qa_from_topics_prompt_template),
            (n_macro_topics, n_subtopics, n_openlines),
            (additional_macro_topics, additional_subtopics),
            combine_topics,
            final_stage="openlines",
        )
        jobs = [StepInput(line, {"openline": line["text"]}) for line in openlines]
        run.result.items = await run.list_step(
            "revisions", jobs, steps.revise_open_qa, revise_open_qa_prompt_template, "n_revisions", n_revisions
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
            StepInput(seed, pair, pair)
            for seed in seed_records("topics", topics)
            for pair in ({"topic": seed["text"], "text_material_type": kind} for kind in text_material_types)
        ]
        tasks = await run.list_step(
            "writing_tasks",
            jobs,
            self.steps.generate_writing_tasks,
            writing_task_prompt_template,
            "n_openlines",
            n_openlines,
        )
        jobs = [StepInput(task, {"openline": task["text"]}) for task in tasks]
        run.result.items = await run.list_step(
            "revisions",
            jobs,
            self.steps.revise_writing_tasks,
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
        seeds = seed_records("documents", documents)
        jobs = [StepInput(seed, {"document": seed["text"]}, {"document_index": i}) for i, seed in enumerate(seeds)]
        run.result.items = await run.list_step(
            "instructions",
            jobs,
            self.steps.generate_closed_qa_instructions,
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
        steps = self.steps
        run.result.items = await run.topic_chain(
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
        steps = self.steps
        run.result.items = await run.topic_chain(
            (steps.generate_python_macro_topics, steps.generate_python_subtopics, steps.generate_python_problem),
            (macro_topic_prompt_template, subtopic_prompt_template, python_problem_prompt_template),
            (n_macro_topics, n_subtopics, n_openlines),
            (additional_macro_topics, additional_subtopics),
            combine_topics,
            (steps.classify_python_entity, classification_prompt_template) if classify_topics else None,
            final_options={"language": language},
        )
        return run.result


def pipeline_method(
    method: Callable[Concatenate[NemotronPipelines, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[NemotronSteps, P], Coroutine[Any, Any, R]]:
    """``method`` as a method of the generator: ``generator.run_x(...)`` runs ``NemotronPipelines(generator)
    .run_x(...)`` (same signature and docstring, typed for mypy and IDEs)."""

    @functools.wraps(method)
    async def run(generator: NemotronSteps, *args: P.args, **kwargs: P.kwargs) -> R:
        return await method(NemotronPipelines(generator), *args, **kwargs)

    return run
