"""The stages of NeMo Curator 0.9's Nemotron pipelines, written once for the async and the blocking generator.

:class:`NemoStages` runs every stage as NeMo does: for each item, one of the generator's steps
(``generate_subtopics``, ...) and then the LLM YAML conversion of its first answer (``convert_response_to_yaml_list``),
through NeMo's per-item helpers (``_generate_parse_subtopic``, ...) and ``_gather``. All are looked up on the
generator, so a step patched or overridden there is the one a pipeline uses. A step of the async generator is
awaited; a step of the blocking one is a plain call (:func:`call` takes both).

Counts and failures, NeMo's rules: a list whose length differs from the count asked for is a
:class:`~curator_synth.errors.YamlConversionError`; ``trim_topics_list`` keeps its first items instead (a shorter
list as it is); ``ignore_conversion_failure`` leaves out an item whose list did not convert, logging why (a warning
on the generator's ``logger``). Any other error (HTTP, timeout) is raised: the run stops.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from curator_synth.errors import YamlConversionError
from curator_synth.generators.nemotron_run import expected_count
from curator_synth.prompts.base import PromptTemplate

__all__ = ["NemoStages", "call"]

T = TypeVar("T")
Template = PromptTemplate | str
Count = int | str
Kwargs = Mapping[str, Any] | None
Helper = Callable[..., Coroutine[Any, Any, list[Any]]]

#: The arguments of NeMo's per-item helpers that configure the list conversion (besides ``model``).
_CONVERSION = (
    "yaml_conversion_prompt_template",
    "conversion_model_kwargs",
    "ignore_conversion_failure",
    "trim_topics_list",
)


async def call(method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``method(*args, **kwargs)``, awaited when it returns an awaitable."""
    result = method(*args, **kwargs)
    return await result if inspect.isawaitable(result) else result


def _item_helper(step: str, template: str, count: str, rename: Mapping[str, str] | None = None) -> Helper:
    """One of NeMo's per-item helpers: ``step`` on one item (NeMo's keyword names, ``rename``\\d to the step's),
    then :meth:`NemoPipelines._try_convert_yaml_list` of its first answer, expecting ``count`` items."""
    names = dict(rename or {})

    async def helper(self: NemoStages, *, model: str, base_model_kwargs: Kwargs, **kwargs: Any) -> list[str]:
        prompt_template = kwargs.pop(template)
        conversion = {name: kwargs.pop(name) for name in _CONVERSION}
        arguments = {names.get(name, name): value for name, value in kwargs.items()}
        answers = await call(
            self._method(step),
            **arguments,
            model=model,
            prompt_template=prompt_template,
            model_kwargs=base_model_kwargs,
        )
        expected = arguments[count]
        return await self._try_convert_yaml_list(answers[0], model=model, expected_length=expected, **conversion)

    helper.__name__ = helper.__qualname__ = f"_{step}_item"
    helper.__doc__ = f"``{step}`` on one item, its answer converted to a list of ``{count}`` items."
    return helper


_closed_qa_items = _item_helper("generate_closed_qa_instructions", "closed_qa_prompt_template", "n_openlines")


class NemoStages:
    """NeMo's per-item helpers and the stages of its pipelines; the class using it provides the steps,
    ``convert_response_to_yaml_list``, ``logger`` and ``_gather`` (all requests of a stage, results in order)."""

    logger: logging.Logger | logging.LoggerAdapter[Any]

    def _method(self, name: str) -> Callable[..., Any]:
        """The generator's step ``name`` (an override or a patch included)."""
        found: Callable[..., Any] = getattr(self, name)
        return found

    async def _gather(self, requests: list[Coroutine[Any, Any, T]]) -> list[T]:
        raise NotImplementedError

    async def _try_convert_yaml_list(
        self,
        response: str,
        model: str,
        yaml_conversion_prompt_template: Template,
        conversion_model_kwargs: Kwargs,
        expected_length: Count,
        ignore_conversion_failure: bool,
        trim_topics_list: bool,
    ) -> list[str]:
        """The list in ``response`` (LLM YAML conversion) with ``expected_length`` items; see the module for the
        rules on counts and failures."""
        expected = expected_count(expected_length)
        items: list[str] | None = None
        try:
            items = list(
                await call(
                    self._method("convert_response_to_yaml_list"),
                    response,
                    model=model,
                    prompt_template=yaml_conversion_prompt_template,
                    model_kwargs=conversion_model_kwargs,
                )
            )
            if expected is not None and len(items) != expected:
                raise YamlConversionError(
                    f"Error: Length of parsed list {len(items)} does not match expected length {expected}: {items}",
                    raw=response,
                )
        except YamlConversionError as error:
            if trim_topics_list and items is not None:
                self.logger.warning("kept the first %s of %s items: %s", expected, len(items), error)
                return items[:expected]
            if not ignore_conversion_failure:
                raise
            self.logger.warning("left out a list that did not convert: %s", error)
            return []
        return items

    _generate_parse_subtopic = _item_helper("generate_subtopics", "subtopic_prompt_template", "n_subtopics")
    _generate_parse_openline = _item_helper(
        "generate_open_qa_from_topic", "open_qa_from_topics_prompt_template", "n_openlines", {"subtopic": "topic"}
    )
    _revise_parse_openline = _item_helper("revise_open_qa", "revise_open_qa_prompt_template", "n_revisions")
    _generate_parse_writing_task = _item_helper(
        "generate_writing_tasks", "writing_task_prompt_template", "n_openlines", {"material": "text_material_type"}
    )
    _revise_parse_writing_task = _item_helper(
        "revise_writing_tasks", "revise_writing_task_prompt_template", "n_revisions", {"task": "openline"}
    )
    _generate_parse_math_subtopic = _item_helper("generate_math_subtopics", "subtopic_prompt_template", "n_subtopics")
    _generate_parse_math_openline = _item_helper(
        "generate_math_problem", "math_problem_prompt_template", "n_openlines", {"subtopic": "topic"}
    )
    _generate_parse_python_subtopic = _item_helper(
        "generate_python_subtopics", "subtopic_prompt_template", "n_subtopics"
    )
    _generate_parse_python_openline = _item_helper(
        "generate_python_problem", "python_problem_prompt_template", "n_openlines", {"subtopic": "topic"}
    )

    async def _generate_parse_closed_qa(self, *, document_id: int, **kwargs: Any) -> list[tuple[int, str]]:
        """Questions about one document, each paired with the document's index."""
        return [(document_id, item) for item in await _closed_qa_items(self, **kwargs)]

    # ------------------------------------------------------------------------------------------- stages
    async def _each(self, helper: str, jobs: Iterable[Mapping[str, Any]], options: Mapping[str, Any]) -> list[Any]:
        """``helper`` for every job (its own arguments plus ``options``), gathered; the lists joined in order."""
        lists = await self._gather([self._method(helper)(**job, **options) for job in jobs])
        return [item for found in lists for item in found]

    async def _macro_topics(
        self, step: str, arguments: Mapping[str, Any], template: Template, options: Mapping[str, Any]
    ) -> list[str]:
        """NeMo's first stage: ``step``'s list of macro topics. A wrong count raises unless the failure is
        ignored (then ``trim_topics_list`` trims a longer list); a list that does not convert is then left out."""
        model = options["model"]
        answers = await call(
            self._method(step),
            **arguments,
            model=model,
            model_kwargs=options["base_model_kwargs"],
            prompt_template=template,
        )
        expected = expected_count(arguments["n_macro_topics"])
        try:
            topics = list(
                await call(
                    self._method("convert_response_to_yaml_list"),
                    answers[0],
                    model=model,
                    prompt_template=options["yaml_conversion_prompt_template"],
                    model_kwargs=options["conversion_model_kwargs"],
                )
            )
            if expected is not None and len(topics) != expected:
                message = f"Error: Length of macro topics {len(topics)} does not match desired {expected}: {topics}"
                if not options["ignore_conversion_failure"]:
                    raise YamlConversionError(message, raw=answers[0])
                if options["trim_topics_list"]:
                    self.logger.warning("%s; kept the first %s", message, expected)
                    topics = topics[:expected]
        except YamlConversionError as error:
            if not options["ignore_conversion_failure"]:
                raise
            self.logger.warning("left out the macro topics, which did not convert: %s", error)
            topics = []
        return topics

    async def _topic_chain(
        self,
        kind: str,
        macro: tuple[str, Mapping[str, Any], Template],
        subtopics: tuple[Count, Template],
        lines: tuple[Count, Template],
        additional: tuple[Sequence[str] | None, Sequence[str] | None],
        combine_topics: bool,
        options: Mapping[str, Any],
    ) -> list[str]:
        """Macro topics (+ the additional ones) → subtopics of each (+ the additional ones, + the macro topics
        when ``combine_topics``) → a list of openlines or problems per topic. ``kind`` names the helpers
        (``_generate_parse_{kind}subtopic``, ``_generate_parse_{kind}openline``) and their template arguments."""
        topics = await self._macro_topics(*macro, options)
        topics.extend(additional[0] or ())
        self.logger.info("%d macro topics", len(topics))
        template_name = "subtopic_prompt_template"
        jobs = [{"macro_topic": topic, "n_subtopics": subtopics[0], template_name: subtopics[1]} for topic in topics]
        found = await self._each(f"_generate_parse_{kind}subtopic", jobs, options)
        found.extend(additional[1] or ())
        if combine_topics:
            found.extend(topics)
        self.logger.info("%d topics", len(found))
        template_name = {"": "open_qa_from_topics", "math_": "math_problem", "python_": "python_problem"}[kind]
        jobs = [{"subtopic": t, "n_openlines": lines[0], f"{template_name}_prompt_template": lines[1]} for t in found]
        return await self._each(f"_generate_parse_{kind}openline", jobs, options)
