"""NeMo Curator 0.9's ``AsyncNemotronGenerator``: the native single steps
(:class:`~curator_synth.generators.nemotron_steps.NemotronSteps`: curator_synth's templates, the raw answers) with
NeMo's pipelines (:class:`~curator_synth.nemo.synthetic._pipelines.NemoPipelines`), constructor and errors.

What is NeMo's here: ``generator.client`` is the object given (anything with an async ``query_model``); a prompt
keyword the template does not use is ignored, as ``str.format`` ignores it; a YAML conversion that fails raises
:class:`~curator_synth.errors.YamlConversionError` with NeMo's leading words ("Error parsing yaml response",
"Conversion introduced hallucinations"); the user turns of a dialogue are written by ``_impersonate_user``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from curator_synth.errors import ResponseParseError, YamlConversionError
from curator_synth.generators.nemotron_steps import NemotronSteps
from curator_synth.nemo.synthetic._base import Logger, NemoGenerator, nemo_logger
from curator_synth.nemo.synthetic._pipelines import NemoPipelines
from curator_synth.prompts import nemotron as prompts
from curator_synth.prompts.base import PromptTemplate

__all__ = ["AsyncNemotronGenerator"]

T = TypeVar("T")
Template = PromptTemplate | str
Kwargs = Mapping[str, Any] | None
#: The arguments of ``_impersonate_user``, in the order of the native ``_user_turn``.
_USER_TURN = ("conversation_history", "model", "prompt_template", "prompt_kwargs", "model_kwargs")


class AsyncNemotronGenerator(NemoPipelines, NemoGenerator, NemotronSteps):
    """Nemotron-4 340B synthetic prompts (open/closed Q&A, writing, math, Python, dialogues) with NeMo's API.

    ``llm_client`` is any object with an async ``query_model`` (a NeMo or curator_synth async client); it is
    ``self.client``. ``max_concurrent_requests`` bounds the items of a pipeline stage in flight (None: all at once).
    """

    def __init__(
        self, llm_client: Any, logger: Logger | str = "./", max_concurrent_requests: int | None = None
    ) -> None:
        super().__init__(llm_client)
        self.logger = nemo_logger(logger)
        self.max_concurrent_requests = max_concurrent_requests

    async def convert_response_to_yaml_list(
        self,
        llm_response: str,
        model: str | None = None,
        prompt_template: Template = prompts.DEFAULT_YAML_CONVERSION_PROMPT_TEMPLATE,
        prompt_kwargs: Kwargs = None,
        model_kwargs: Kwargs = None,
    ) -> list[str]:
        """The items of ``llm_response``, as a model copies them into a YAML list (checked: a list of strings,
        each found in ``llm_response``). Raises :class:`YamlConversionError`, its message starting as NeMo's."""
        try:
            return await super().convert_response_to_yaml_list(
                llm_response, model, prompt_template, prompt_kwargs, model_kwargs
            )
        except YamlConversionError as error:
            if isinstance(error.__cause__, ResponseParseError):  # the answer is not a YAML list of strings
                message = (
                    f"Error parsing yaml response: {error} (a YAML list of strings is needed: invalid YAML, not a "
                    "list, or a non-string element, is refused)"
                )
            else:  # a list of strings, one of which is not in the response
                message = f"Conversion introduced hallucinations: {error}"
            raise YamlConversionError(message, raw=error.raw) from error

    async def _impersonate_user(
        self,
        conversation_history: list[dict[str, str]],
        model: str | None,
        prompt_template: Template,
        prompt_kwargs: Kwargs,
        model_kwargs: Kwargs,
    ) -> str:
        """The next user turn of ``conversation_history``, written by ``model`` playing the user."""
        return await super()._user_turn(conversation_history, model, prompt_template, prompt_kwargs, model_kwargs)

    async def _user_turn(self, *arguments: Any) -> str:
        return await self._impersonate_user(**dict(zip(_USER_TURN, arguments, strict=True)))

    async def _gather(self, requests: list[Coroutine[Any, Any, T]]) -> list[T]:
        """The results of ``requests`` in order, at most ``max_concurrent_requests`` running at a time; the first
        error cancels the others and is raised."""
        semaphore = asyncio.Semaphore(self.max_concurrent_requests or max(1, len(requests)))

        async def bounded(request: Coroutine[Any, Any, T]) -> T:
            async with semaphore:
                return await request

        tasks = [asyncio.ensure_future(bounded(request)) for request in requests]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for request in requests:
                request.close()  # the ones never started
            raise
