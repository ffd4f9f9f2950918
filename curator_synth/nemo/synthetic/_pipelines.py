"""NeMo Curator 0.9's Nemotron pipelines (``run_*_pipeline``) over the stages of
:class:`~curator_synth.nemo.synthetic._stages.NemoStages` (counts, failures and the generator's own steps: see
there). The async generator has them as its methods; the blocking one runs them as plain methods
(:func:`~curator_synth.nemo.synthetic.nemotron.blocking_pipeline`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from curator_synth.nemo.synthetic._stages import NemoStages
from curator_synth.prompts import nemotron as prompts
from curator_synth.prompts.base import PromptTemplate

__all__ = ["NemoPipelines"]

Template = PromptTemplate | str
Count = int | str
Kwargs = Mapping[str, Any] | None


class NemoPipelines(NemoStages):
    """NeMo's ``run_*_pipeline`` methods, over the stages of :class:`NemoStages` (the blocking generator runs
    them as plain methods: :func:`~curator_synth.nemo.synthetic.nemotron.blocking_pipeline`)."""

    async def run_open_qa_pipeline(
        self,
        n_macro_topics: Count,
        n_subtopics: Count,
        n_openlines: Count,
        n_revisions: Count,
        model: str,
        macro_topic_prompt_template: Template = prompts.DEFAULT_MACRO_TOPICS_PROMPT_TEMPLATE,
        subtopic_prompt_template: Template = prompts.DEFAULT_SUBTOPICS_PROMPT_TEMPLATE,
        open_qa_from_topics_prompt_template: Template = prompts.DEFAULT_OPEN_QA_FROM_TOPICS_PROMPT_TEMPLATE,
        revise_open_qa_prompt_template: Template = prompts.DEFAULT_REVISE_OPEN_QA_PROMPT_TEMPLATE,
        yaml_conversion_prompt_template: Template = prompts.DEFAULT_YAML_CONVERSION_PROMPT_TEMPLATE,
        base_model_kwargs: Kwargs = None,
        conversion_model_kwargs: Kwargs = None,
        additional_macro_topics: Sequence[str] | None = None,
        additional_subtopics: Sequence[str] | None = None,
        ignore_conversion_failure: bool = False,
        trim_topics_list: bool = True,
        combine_topics: bool = True,
    ) -> list[str]:
        """Open Q&A openlines: macro topics → subtopics → questions per topic → revised questions (returned)."""
        options = _options(model, yaml_conversion_prompt_template, base_model_kwargs, conversion_model_kwargs,
                           ignore_conversion_failure, trim_topics_list)  # fmt: skip
        openlines = await self._topic_chain(
            "",
            ("generate_macro_topics", {"n_macro_topics": n_macro_topics}, macro_topic_prompt_template),
            (n_subtopics, subtopic_prompt_template),
            (n_openlines, open_qa_from_topics_prompt_template),
            (additional_macro_topics, additional_subtopics),
            combine_topics,
            options,
        )
        template = {"revise_open_qa_prompt_template": revise_open_qa_prompt_template}
        jobs = [{"openline": line, "n_revisions": n_revisions, **template} for line in openlines]
        return await self._each("_revise_parse_openline", jobs, options)

    async def run_writing_pipeline(
        self,
        topics: Sequence[str],
        text_material_types: Sequence[str],
        n_openlines: Count,
        n_revisions: Count,
        model: str,
        writing_task_prompt_template: Template = prompts.DEFAULT_WRITING_TASK_PROMPT_TEMPLATE,
        revise_writing_task_prompt_template: Template = prompts.DEFAULT_REVISE_WRITING_TASK_PROMPT_TEMPLATE,
        yaml_conversion_prompt_template: Template = prompts.DEFAULT_YAML_CONVERSION_PROMPT_TEMPLATE,
        base_model_kwargs: Kwargs = None,
        conversion_model_kwargs: Kwargs = None,
        ignore_conversion_failure: bool = False,
        trim_topics_list: bool = True,
    ) -> list[str]:
        """Writing tasks for every (topic, text material type) → revised tasks (returned)."""
        options = _options(model, yaml_conversion_prompt_template, base_model_kwargs, conversion_model_kwargs,
                           ignore_conversion_failure, trim_topics_list)  # fmt: skip
        template = {"writing_task_prompt_template": writing_task_prompt_template}
        jobs = [
            {"topic": topic, "material": material, "n_openlines": n_openlines, **template}
            for topic in topics
            for material in text_material_types
        ]
        tasks = await self._each("_generate_parse_writing_task", jobs, options)
        template = {"revise_writing_task_prompt_template": revise_writing_task_prompt_template}
        jobs = [{"task": task, "n_revisions": n_revisions, **template} for task in tasks]
        return await self._each("_revise_parse_writing_task", jobs, options)

    async def run_closed_qa_pipeline(
        self,
        documents: Sequence[str],
        n_openlines: Count,
        model: str,
        closed_qa_prompt_template: Template = prompts.DEFAULT_CLOSED_QA_PROMPT_TEMPLATE,
        yaml_conversion_prompt_template: Template = prompts.DEFAULT_YAML_CONVERSION_PROMPT_TEMPLATE,
        base_model_kwargs: Kwargs = None,
        conversion_model_kwargs: Kwargs = None,
        ignore_conversion_failure: bool = False,
        trim_topics_list: bool = True,
    ) -> list[tuple[int, str]]:
        """Closed Q&A: questions about each document, as ``(document index, question)`` pairs."""
        options = _options(model, yaml_conversion_prompt_template, base_model_kwargs, conversion_model_kwargs,
                           ignore_conversion_failure, trim_topics_list)  # fmt: skip
        template = {"closed_qa_prompt_template": closed_qa_prompt_template}
        jobs = [
            {"document_id": index, "document": document, "n_openlines": n_openlines, **template}
            for index, document in enumerate(documents)
        ]
        return await self._each("_generate_parse_closed_qa", jobs, options)

    async def run_math_pipeline(
        self,
        n_macro_topics: Count,
        school_level: str,
        n_subtopics: Count,
        n_openlines: Count,
        model: str,
        macro_topic_prompt_template: Template = prompts.DEFAULT_MATH_MACRO_TOPICS_PROMPT_TEMPLATE,
        subtopic_prompt_template: Template = prompts.DEFAULT_MATH_SUBTOPICS_PROMPT_TEMPLATE,
        math_problem_prompt_template: Template = prompts.MATH_PROBLEM_GENERAL_PROMPT_TEMPLATE,
        yaml_conversion_prompt_template: Template = prompts.DEFAULT_YAML_CONVERSION_PROMPT_TEMPLATE,
        base_model_kwargs: Kwargs = None,
        conversion_model_kwargs: Kwargs = None,
        additional_macro_topics: Sequence[str] | None = None,
        additional_subtopics: Sequence[str] | None = None,
        ignore_conversion_failure: bool = False,
        trim_topics_list: bool = True,
        combine_topics: bool = True,
    ) -> list[str]:
        """Math problems: macro topics for ``school_level`` → subtopics → problems per topic (returned)."""
        options = _options(model, yaml_conversion_prompt_template, base_model_kwargs, conversion_model_kwargs,
                           ignore_conversion_failure, trim_topics_list)  # fmt: skip
        return await self._topic_chain(
            "math_",
            (
                "generate_math_macro_topics",
                {"n_macro_topics": n_macro_topics, "school_level": school_level},
                macro_topic_prompt_template,
            ),
            (n_subtopics, subtopic_prompt_template),
            (n_openlines, math_problem_prompt_template),
            (additional_macro_topics, additional_subtopics),
            combine_topics,
            options,
        )

    async def run_python_pipeline(
        self,
        n_macro_topics: Count,
        n_subtopics: Count,
        n_openlines: Count,
        model: str,
        macro_topic_prompt_template: Template = prompts.DEFAULT_PYTHON_MACRO_TOPICS_PROMPT_TEMPLATE,
        subtopic_prompt_template: Template = prompts.DEFAULT_PYTHON_SUBTOPICS_PROMPT_TEMPLATE,
        python_problem_prompt_template: Template = prompts.PYTHON_PROBLEM_BEGINNER_PROMPT_TEMPLATE,
        yaml_conversion_prompt_template: Template = prompts.DEFAULT_YAML_CONVERSION_PROMPT_TEMPLATE,
        base_model_kwargs: Kwargs = None,
        conversion_model_kwargs: Kwargs = None,
        additional_macro_topics: Sequence[str] | None = None,
        additional_subtopics: Sequence[str] | None = None,
        ignore_conversion_failure: bool = False,
        trim_topics_list: bool = True,
        combine_topics: bool = True,
    ) -> list[str]:
        """Python problems: macro topics → subtopics → problems per topic (returned)."""
        options = _options(model, yaml_conversion_prompt_template, base_model_kwargs, conversion_model_kwargs,
                           ignore_conversion_failure, trim_topics_list)  # fmt: skip
        return await self._topic_chain(
            "python_",
            ("generate_python_macro_topics", {"n_macro_topics": n_macro_topics}, macro_topic_prompt_template),
            (n_subtopics, subtopic_prompt_template),
            (n_openlines, python_problem_prompt_template),
            (additional_macro_topics, additional_subtopics),
            combine_topics,
            options,
        )


def _options(
    model: str,
    yaml_conversion_prompt_template: Template,
    base_model_kwargs: Kwargs,
    conversion_model_kwargs: Kwargs,
    ignore_conversion_failure: bool,
    trim_topics_list: bool,
) -> dict[str, Any]:
    """The arguments every per-item helper of a run takes (model kwargs ``{}`` when not given, as NeMo)."""
    return {
        "model": model,
        "yaml_conversion_prompt_template": yaml_conversion_prompt_template,
        "base_model_kwargs": dict(base_model_kwargs or {}),
        "conversion_model_kwargs": dict(conversion_model_kwargs or {}),
        "ignore_conversion_failure": ignore_conversion_failure,
        "trim_topics_list": trim_topics_list,
    }
