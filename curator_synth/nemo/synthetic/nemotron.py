"""NeMo Curator 0.9's ``NemotronGenerator`` (blocking) and ``NemotronFormatter``.

The single steps are the async generator's (:class:`~curator_synth.nemo.synthetic.async_nemotron.
AsyncNemotronGenerator`), run to completion (:func:`~curator_synth.generators.blocking.blocking`). The pipelines
are NeMo's (:class:`~curator_synth.nemo.synthetic._pipelines.NemoPipelines`) run over this object's own methods, one
item at a time as NeMo's blocking generator does: a step patched or overridden on it is the one they call. They run
on an event loop of their own in a worker thread, so they work in a notebook as well.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, ParamSpec, TypeVar

from curator_synth.generators.blocking import blocking
from curator_synth.generators.nemotron import BlockingNemotronSteps
from curator_synth.nemo.synthetic._base import GivenClient, blocking_core
from curator_synth.nemo.synthetic._formats import NemotronFormatter
from curator_synth.nemo.synthetic._pipelines import NemoPipelines
from curator_synth.nemo.synthetic._stages import NemoStages
from curator_synth.nemo.synthetic.async_nemotron import AsyncNemotronGenerator

__all__ = ["NemotronFormatter", "NemotronGenerator"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


def run_in_own_loop(coroutine: Coroutine[Any, Any, R]) -> R:
    """Run ``coroutine`` to completion on a new event loop in a worker thread (its blocking steps may then wait on
    the shared loop of the sync clients, and a caller inside a running loop is not in the way)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="curator-synth-nemo") as worker:
        return worker.submit(asyncio.run, coroutine).result()


def blocking_pipeline(
    body: Callable[Concatenate[Any, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[Any, P], R]:
    """A pipeline of :class:`NemoPipelines` as a blocking method of a class with its stages (:class:`NemoStages`);
    ``trim_topics_list`` is False unless given (NeMo's blocking pipelines never trim)."""

    @functools.wraps(body)
    def run(self: Any, *args: P.args, **kwargs: P.kwargs) -> R:
        options: dict[str, Any] = {"trim_topics_list": False, **kwargs}
        return run_in_own_loop(body(self, *args, **options))

    signature = inspect.signature(body)
    trim = signature.parameters["trim_topics_list"].replace(default=False)
    run.__signature__ = signature.replace(  # type: ignore[attr-defined]  # help() shows the default used
        parameters=[trim if name == trim.name else value for name, value in signature.parameters.items()]
    )
    return run


class NemotronGenerator(NemoStages, GivenClient, BlockingNemotronSteps[AsyncNemotronGenerator]):
    """Blocking version of :class:`AsyncNemotronGenerator`: ``llm_client`` is any object with a ``query_model``
    method (``self.client``); the same methods without ``await`` (the single steps are the native twin's,
    :class:`~curator_synth.generators.nemotron.BlockingNemotronSteps`)."""

    async_class = blocking_core(AsyncNemotronGenerator, "NemotronGenerator")

    async def _gather(self, requests: list[Coroutine[Any, Any, T]]) -> list[T]:
        """The results of ``requests``, one after the other (NeMo's order)."""
        results: list[T] = []
        try:
            for request in requests:
                results.append(await request)
        finally:
            for request in requests:
                request.close()  # the ones not reached after an error
        return results

    _impersonate_user = blocking(AsyncNemotronGenerator._impersonate_user)
    _prompt = blocking(AsyncNemotronGenerator._prompt)
    run_closed_qa_pipeline = blocking_pipeline(NemoPipelines.run_closed_qa_pipeline)
    run_math_pipeline = blocking_pipeline(NemoPipelines.run_math_pipeline)
    run_open_qa_pipeline = blocking_pipeline(NemoPipelines.run_open_qa_pipeline)
    run_python_pipeline = blocking_pipeline(NemoPipelines.run_python_pipeline)
    run_writing_pipeline = blocking_pipeline(NemoPipelines.run_writing_pipeline)
