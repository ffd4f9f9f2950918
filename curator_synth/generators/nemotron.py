"""The Nemotron-4 340B synthetic-data generator, with NeMo Curator 0.9's ``NemotronGenerator`` API.

:class:`AsyncNemotronGenerator` is the single steps (:class:`~curator_synth.generators.nemotron_steps.
NemotronSteps`: one template, the raw answers) and the multi-step pipelines (``run_*_pipeline``, run by
:class:`~curator_synth.generators.nemotron_pipelines.NemotronPipelines` over this generator, so an overridden
step is the one a pipeline uses). :class:`NemotronGenerator` is its blocking twin.
"""

from __future__ import annotations

from typing import TypeVar

from curator_synth.generators.blocking import BlockingGenerator, blocking
from curator_synth.generators.nemotron_pipelines import NemotronPipelines, pipeline_method
from curator_synth.generators.nemotron_steps import ASSISTANT_TURN_NAMESPACE, NemotronSteps

__all__ = ["ASSISTANT_TURN_NAMESPACE", "AsyncNemotronGenerator", "BlockingNemotronSteps", "NemotronGenerator"]

S = TypeVar("S", bound=NemotronSteps)


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


class BlockingNemotronSteps(BlockingGenerator[S]):
    """The single steps of a Nemotron generator, blocking: what :class:`NemotronGenerator` and NeMo's blocking
    generator (:class:`curator_synth.nemo.synthetic.NemotronGenerator`) share."""

    classify_math_entity = blocking(NemotronSteps.classify_math_entity)
    classify_python_entity = blocking(NemotronSteps.classify_python_entity)
    convert_response_to_yaml_list = blocking(NemotronSteps.convert_response_to_yaml_list)
    generate_closed_qa_instructions = blocking(NemotronSteps.generate_closed_qa_instructions)
    generate_dialogue = blocking(NemotronSteps.generate_dialogue)
    generate_macro_topics = blocking(NemotronSteps.generate_macro_topics)
    generate_math_macro_topics = blocking(NemotronSteps.generate_math_macro_topics)
    generate_math_problem = blocking(NemotronSteps.generate_math_problem)
    generate_math_subtopics = blocking(NemotronSteps.generate_math_subtopics)
    generate_open_qa_from_topic = blocking(NemotronSteps.generate_open_qa_from_topic)
    generate_python_macro_topics = blocking(NemotronSteps.generate_python_macro_topics)
    generate_python_problem = blocking(NemotronSteps.generate_python_problem)
    generate_python_subtopics = blocking(NemotronSteps.generate_python_subtopics)
    generate_subtopics = blocking(NemotronSteps.generate_subtopics)
    generate_two_turn_prompt = blocking(NemotronSteps.generate_two_turn_prompt)
    generate_writing_tasks = blocking(NemotronSteps.generate_writing_tasks)
    revise_open_qa = blocking(NemotronSteps.revise_open_qa)
    revise_writing_tasks = blocking(NemotronSteps.revise_writing_tasks)


class NemotronGenerator(BlockingNemotronSteps[AsyncNemotronGenerator]):
    """Blocking version of :class:`AsyncNemotronGenerator` (same arguments and methods, no ``await``)."""

    async_class = AsyncNemotronGenerator

    run_closed_qa_pipeline = blocking(AsyncNemotronGenerator.run_closed_qa_pipeline)
    run_math_pipeline = blocking(AsyncNemotronGenerator.run_math_pipeline)
    run_open_qa_pipeline = blocking(AsyncNemotronGenerator.run_open_qa_pipeline)
    run_python_pipeline = blocking(AsyncNemotronGenerator.run_python_pipeline)
    run_writing_pipeline = blocking(AsyncNemotronGenerator.run_writing_pipeline)
