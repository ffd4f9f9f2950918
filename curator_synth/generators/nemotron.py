"""The Nemotron-4 340B synthetic-data generator, with NeMo Curator 0.9's ``NemotronGenerator`` API.

:class:`AsyncNemotronGenerator` is the single steps (:class:`~curator_synth.generators.nemotron_steps.
NemotronSteps`: one template, the raw answers) and the multi-step pipelines (``run_*_pipeline``, run by
:class:`~curator_synth.generators.nemotron_pipelines.NemotronPipelines` over this generator, so an overridden
step is the one a pipeline uses). :class:`NemotronGenerator` is its blocking twin.
"""

from __future__ import annotations

from curator_synth.generators.blocking import BlockingGenerator, blocking
from curator_synth.generators.nemotron_pipelines import NemotronPipelines, pipeline_method
from curator_synth.generators.nemotron_steps import ASSISTANT_TURN_NAMESPACE, NemotronSteps

__all__ = ["ASSISTANT_TURN_NAMESPACE", "AsyncNemotronGenerator", "NemotronGenerator"]


class AsyncNemotronGenerator(NemotronSteps):
    """Nemotron-4 340B style synthetic prompts: topics, open/closed Q&A, writing, math, coding, dialogues.

    ``prompt_template`` is a :class:`PromptTemplate` or a format string; ``prompt_kwargs`` fills extra
    placeholders of a custom template; ``model_kwargs`` goes to ``query_model`` (``n``, ``temperature``, ...)
    over the generator's ``params``. Single-step methods return the raw answers (``n`` of them), unparsed; the
    ``run_*_pipeline`` methods parse, check counts and return a ``NemotronPipelineResult``.
    """

    run_open_qa_pipeline = pipeline_method(NemotronPipelines.run_open_qa_pipeline)
    run_writing_pipeline = pipeline_method(NemotronPipelines.run_writing_pipeline)
    run_closed_qa_pipeline = pipeline_method(NemotronPipelines.run_closed_qa_pipeline)
    run_math_pipeline = pipeline_method(NemotronPipelines.run_math_pipeline)
    run_python_pipeline = pipeline_method(NemotronPipelines.run_python_pipeline)


class NemotronGenerator(BlockingGenerator[AsyncNemotronGenerator]):
    """Blocking version of :class:`AsyncNemotronGenerator` (same arguments and methods, no ``await``)."""

    async_class = AsyncNemotronGenerator

    classify_math_entity = blocking(AsyncNemotronGenerator.classify_math_entity)
    classify_python_entity = blocking(AsyncNemotronGenerator.classify_python_entity)
    convert_response_to_yaml_list = blocking(AsyncNemotronGenerator.convert_response_to_yaml_list)
    generate_closed_qa_instructions = blocking(AsyncNemotronGenerator.generate_closed_qa_instructions)
    generate_dialogue = blocking(AsyncNemotronGenerator.generate_dialogue)
    generate_macro_topics = blocking(AsyncNemotronGenerator.generate_macro_topics)
    generate_math_macro_topics = blocking(AsyncNemotronGenerator.generate_math_macro_topics)
    generate_math_problem = blocking(AsyncNemotronGenerator.generate_math_problem)
    generate_math_subtopics = blocking(AsyncNemotronGenerator.generate_math_subtopics)
    generate_open_qa_from_topic = blocking(AsyncNemotronGenerator.generate_open_qa_from_topic)
    generate_python_macro_topics = blocking(AsyncNemotronGenerator.generate_python_macro_topics)
    generate_python_problem = blocking(AsyncNemotronGenerator.generate_python_problem)
    generate_python_subtopics = blocking(AsyncNemotronGenerator.generate_python_subtopics)
    generate_subtopics = blocking(AsyncNemotronGenerator.generate_subtopics)
    generate_two_turn_prompt = blocking(AsyncNemotronGenerator.generate_two_turn_prompt)
    generate_writing_tasks = blocking(AsyncNemotronGenerator.generate_writing_tasks)
    revise_open_qa = blocking(AsyncNemotronGenerator.revise_open_qa)
    revise_writing_tasks = blocking(AsyncNemotronGenerator.revise_writing_tasks)
    run_closed_qa_pipeline = blocking(AsyncNemotronGenerator.run_closed_qa_pipeline)
    run_math_pipeline = blocking(AsyncNemotronGenerator.run_math_pipeline)
    run_open_qa_pipeline = blocking(AsyncNemotronGenerator.run_open_qa_pipeline)
    run_python_pipeline = blocking(AsyncNemotronGenerator.run_python_pipeline)
    run_writing_pipeline = blocking(AsyncNemotronGenerator.run_writing_pipeline)
