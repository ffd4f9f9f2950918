"""The single-step Nemotron-4 340B synthetic-data methods, with NeMo Curator 0.9's ``NemotronGenerator`` method
names (:class:`NemotronSteps`; the public :class:`~curator_synth.generators.nemotron.AsyncNemotronGenerator` adds
the pipelines to them).

Every single-step method fills one template (a :class:`~curator_synth.prompts.PromptTemplate` from
:mod:`curator_synth.prompts.nemotron`, or a plain format string as in NeMo), sends it under the template's
journal namespace and returns the raw answers: a list of ``n`` strings, ``n`` taken from
``model_kwargs["n"]`` (default 1), exactly like NeMo. Parse them with :func:`curator_synth.parsing.parse_list`
or :meth:`NemotronSteps.convert_response_to_yaml_list`. The multi-step pipelines (``run_*``) live in
:mod:`curator_synth.generators.nemotron_pipelines`; they parse, check counts and keep provenance.

Differences from NeMo: ``model`` may be omitted when the generator was created with one; ``prompt_kwargs`` and
``model_kwargs`` are never mutated; a template need not use every value a method offers (a custom template
without ``{language}`` works), but ``prompt_kwargs`` naming a placeholder the template lacks is a
:class:`~curator_synth.errors.ConfigError` (a typo is caught before anything is sent).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from curator_synth.errors import ConfigError
from curator_synth.generators.base import BaseGenerator, template_of
from curator_synth.parsing import parse_yaml_conversion, remove_prefix
from curator_synth.prompts import nemotron as prompts
from curator_synth.prompts.base import PromptTemplate, transcript

__all__ = ["ASSISTANT_TURN_NAMESPACE", "NemotronSteps"]

Template = PromptTemplate | str
Count = int | str  # NeMo accepts "five" as well as 5
Kwargs = Mapping[str, Any] | None

#: Journal namespace of the assistant turns of dialogues (they are the conversation itself, not a template).
ASSISTANT_TURN_NAMESPACE = "nemotron.assistant_turn@1"


class NemotronSteps(BaseGenerator):
    """The single steps of Nemotron-4 340B style synthetic prompts: topics, open/closed Q&A, writing, math,
    coding, dialogues.

    ``prompt_template`` is a :class:`PromptTemplate` or a format string; ``prompt_kwargs`` fills extra
    placeholders of a custom template; ``model_kwargs`` goes to ``query_model`` (``n``, ``temperature``, ...)
    over the generator's ``params``. Methods return the raw answers (``n`` of them), unparsed.
    """

    family = "nemotron"

    async def _prompt(
        self, prompt_template: Template, model: str | None, prompt_kwargs: Kwargs, model_kwargs: Kwargs, **offered: Any
    ) -> list[str]:
        """Fill the template with ``offered`` (the values it uses) and ``prompt_kwargs``; send; the answers."""
        template = template_of(prompt_template, self.family)
        fill = dict(prompt_kwargs or {})
        fill.update({name: value for name, value in offered.items() if name in template.fields})
        params = dict(model_kwargs or {})
        n = int(params.pop("n", 1))
        return await self.ask(template, fill, model=model, model_kwargs=params, n=n)

    # ------------------------------------------------------------------------------------- list conversion
    async def convert_response_to_yaml_list(
        self,
        llm_response: str,
        model: str | None = None,
        prompt_template: Template = prompts.DEFAULT_YAML_CONVERSION_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """Ask a model to copy the items of a list-like answer into a YAML list, then check the result.

        Raises :class:`~curator_synth.errors.YamlConversionError` (the conversion answer in ``.raw``) when the
        answer is not a YAML list of strings, or when an item does not occur verbatim in ``llm_response``.
        """
        params = {**(model_kwargs or {}), "n": 1}
        answers = await self._prompt(prompt_template, model, prompt_kwargs, params, llm_response=llm_response)
        return parse_yaml_conversion(answers[0], llm_response)

    # ------------------------------------------------------------------------------------ open Q&A (world)
    async def generate_macro_topics(
        self,
        n_macro_topics: Count,
        model: str | None = None,
        prompt_template: Template = prompts.DEFAULT_MACRO_TOPICS_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """Broad topics about everyday life, the world and science (a list-shaped answer)."""
        return await self._prompt(prompt_template, model, prompt_kwargs, model_kwargs, n_macro_topics=n_macro_topics)

    async def generate_subtopics(
        self,
        macro_topic: str,
        n_subtopics: Count,
        model: str | None = None,
        prompt_template: Template = prompts.DEFAULT_SUBTOPICS_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """Subtopics covering different aspects of ``macro_topic``."""
        return await self._prompt(
            prompt_template, model, prompt_kwargs, model_kwargs, macro_topic=macro_topic, n_subtopics=n_subtopics
        )

    async def generate_open_qa_from_topic(
        self,
        topic: str,
        n_openlines: Count,
        model: str | None = None,
        prompt_template: Template = prompts.DEFAULT_OPEN_QA_FROM_TOPICS_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """Open questions or requests (openlines) about ``topic``."""
        return await self._prompt(
            prompt_template, model, prompt_kwargs, model_kwargs, topic=topic, n_openlines=n_openlines
        )

    async def revise_open_qa(
        self,
        openline: str,
        n_revisions: Count,
        model: str | None = None,
        prompt_template: Template = prompts.DEFAULT_REVISE_OPEN_QA_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """``n_revisions`` rewrites of a question with more context or detail."""
        return await self._prompt(
            prompt_template, model, prompt_kwargs, model_kwargs, openline=openline, n_revisions=n_revisions
        )

    # ------------------------------------------------------------------------------------------ writing
    async def generate_writing_tasks(
        self,
        topic: str,
        text_material_type: str,
        n_openlines: Count,
        model: str | None = None,
        prompt_template: Template = prompts.DEFAULT_WRITING_TASK_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """Tasks asking for a ``text_material_type`` ("Essay", "Poem", ...) about ``topic``.

        The count fills ``{n_tasks}`` (the default template) or ``{n_openlines}`` (NeMo's name).
        """
        return await self._prompt(
            prompt_template,
            model,
            prompt_kwargs,
            model_kwargs,
            topic=topic,
            text_material_type=text_material_type,
            n_tasks=n_openlines,
            n_openlines=n_openlines,
        )

    async def revise_writing_tasks(
        self,
        openline: str,
        n_revisions: Count,
        model: str | None = None,
        prompt_template: Template = prompts.DEFAULT_REVISE_WRITING_TASK_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """``n_revisions`` rewrites of a writing task with more specific requirements."""
        return await self._prompt(
            prompt_template, model, prompt_kwargs, model_kwargs, openline=openline, n_revisions=n_revisions
        )

    # --------------------------------------------------------------------------------------- closed Q&A
    async def generate_closed_qa_instructions(
        self,
        document: str,
        n_openlines: Count,
        model: str | None = None,
        prompt_template: Template = prompts.DEFAULT_CLOSED_QA_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """Questions or instructions about ``document`` (answerable only with it)."""
        return await self._prompt(
            prompt_template, model, prompt_kwargs, model_kwargs, document=document, n_openlines=n_openlines
        )

    # --------------------------------------------------------------------------------------------- math
    async def generate_math_macro_topics(
        self,
        n_macro_topics: Count,
        school_level: str,
        model: str | None = None,
        prompt_template: Template = prompts.DEFAULT_MATH_MACRO_TOPICS_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """Broad mathematics topics taught at ``school_level`` ("middle school", "university", ...)."""
        return await self._prompt(
            prompt_template,
            model,
            prompt_kwargs,
            model_kwargs,
            n_macro_topics=n_macro_topics,
            school_level=school_level,
        )

    async def generate_math_subtopics(
        self,
        macro_topic: str,
        n_subtopics: Count,
        model: str | None = None,
        prompt_template: Template = prompts.DEFAULT_MATH_SUBTOPICS_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """Mathematics subtopics of ``macro_topic``."""
        return await self._prompt(
            prompt_template, model, prompt_kwargs, model_kwargs, macro_topic=macro_topic, n_subtopics=n_subtopics
        )

    async def classify_math_entity(
        self,
        entity: str,
        model: str | None = None,
        prompt_template: Template = prompts.DEFAULT_MATH_CLASSIFICATION_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """Whether ``entity`` is a math concept; the answers start with Yes or No
        (read them with :func:`curator_synth.parsing.starts_with_yes_no`)."""
        return await self._prompt(prompt_template, model, prompt_kwargs, model_kwargs, entity=entity)

    async def generate_math_problem(
        self,
        topic: str,
        n_openlines: Count,
        model: str | None = None,
        prompt_template: Template = prompts.MATH_PROBLEM_GENERAL_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """Math problems about ``topic`` (``MATH_PROBLEM_BEGINNER_PROMPT_TEMPLATE`` for beginners)."""
        return await self._prompt(
            prompt_template, model, prompt_kwargs, model_kwargs, topic=topic, n_openlines=n_openlines
        )

    # ------------------------------------------------------------------------------------------- python
    async def generate_python_macro_topics(
        self,
        n_macro_topics: Count,
        model: str | None = None,
        prompt_template: Template = prompts.DEFAULT_PYTHON_MACRO_TOPICS_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """Key concepts of the Python language."""
        return await self._prompt(prompt_template, model, prompt_kwargs, model_kwargs, n_macro_topics=n_macro_topics)

    async def generate_python_subtopics(
        self,
        macro_topic: str,
        n_subtopics: Count,
        model: str | None = None,
        prompt_template: Template = prompts.DEFAULT_PYTHON_SUBTOPICS_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """Python concepts related to ``macro_topic``."""
        return await self._prompt(
            prompt_template, model, prompt_kwargs, model_kwargs, macro_topic=macro_topic, n_subtopics=n_subtopics
        )

    async def classify_python_entity(
        self,
        entity: str,
        model: str | None = None,
        prompt_template: Template = prompts.DEFAULT_PYTHON_CLASSIFICATION_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """Whether ``entity`` is a programming concept; the answers start with Yes or No."""
        return await self._prompt(prompt_template, model, prompt_kwargs, model_kwargs, entity=entity)

    async def generate_python_problem(
        self,
        topic: str,
        n_openlines: Count,
        model: str | None = None,
        language: str = "Python",
        prompt_template: Template = prompts.PYTHON_PROBLEM_BEGINNER_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """Coding problems about ``topic`` in ``language``; the level is the template's
        (``PYTHON_PROBLEM_{BEGINNER,INTERMEDIATE,ADVANCED}_PROMPT_TEMPLATE``)."""
        return await self._prompt(
            prompt_template, model, prompt_kwargs, model_kwargs, topic=topic, n_openlines=n_openlines, language=language
        )

    # ----------------------------------------------------------------------------------------- dialogue
    async def generate_dialogue(
        self,
        openline: str,
        user_model: str | None = None,
        assistant_model: str | None = None,
        n_user_turns: int = 3,
        prompt_template: Template = prompts.DIALOGUE_NORMAL_USER_TURN_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        user_model_kwargs: Kwargs = None,
        assistant_model_kwargs: Kwargs = None,
    ) -> list[dict[str, str]]:
        """A conversation of ``n_user_turns`` user turns, each answered by ``assistant_model``.

        ``openline`` is the first user turn; the later ones are written by ``user_model`` playing the user
        with ``prompt_template`` (its ``{conversation_history}`` gets :func:`~curator_synth.prompts.transcript` of the
        turns so far; a leading "User:" in its answer is removed). Both models default to the generator's
        model. Returns ``[{"role", "content"}, ...]`` alternating user/assistant, ending with the assistant.
        """
        if n_user_turns < 1:
            raise ConfigError(f"n_user_turns must be at least 1, got {n_user_turns}")
        conversation = [{"role": "user", "content": openline}]
        for number in range(n_user_turns):
            if number:
                turn = await self._user_turn(
                    conversation, user_model, prompt_template, prompt_kwargs, user_model_kwargs
                )
                conversation.append({"role": "user", "content": turn})
            answer = await self._answer(conversation, assistant_model, assistant_model_kwargs)
            conversation.append({"role": "assistant", "content": answer})
        return conversation

    async def generate_two_turn_prompt(
        self,
        openline: str,
        user_model: str | None = None,
        assistant_model: str | None = None,
        prompt_template: Template = prompts.DEFAULT_TWO_TURN_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        user_model_kwargs: Kwargs = None,
        assistant_model_kwargs: Kwargs = None,
    ) -> list[dict[str, str]]:
        """A two-turn prompt: ``openline``, the assistant's answer, and a second user turn written by
        ``user_model`` (user → assistant → user; the final answer is left to the model being trained)."""
        conversation = [{"role": "user", "content": openline}]
        answer = await self._answer(conversation, assistant_model, assistant_model_kwargs)
        conversation.append({"role": "assistant", "content": answer})
        turn = await self._user_turn(conversation, user_model, prompt_template, prompt_kwargs, user_model_kwargs)
        conversation.append({"role": "user", "content": turn})
        return conversation

    async def _answer(self, conversation: list[dict[str, str]], model: str | None, model_kwargs: Kwargs) -> str:
        answers = await self.ask_messages(
            list(conversation), namespace=ASSISTANT_TURN_NAMESPACE, model=model, model_kwargs=model_kwargs, n=1
        )
        return answers[0]

    async def _user_turn(
        self,
        conversation: list[dict[str, str]],
        model: str | None,
        prompt_template: Template,
        prompt_kwargs: Kwargs,
        model_kwargs: Kwargs,
    ) -> str:
        history = transcript(conversation)
        params = {**(model_kwargs or {}), "n": 1}
        answers = await self._prompt(prompt_template, model, prompt_kwargs, params, conversation_history=history)
        return remove_prefix(answers[0], ["User:", "User's next message:"])
