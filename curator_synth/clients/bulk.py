"""Bulk requests with bounded memory: stream a million requests through a client without a million tasks.

:func:`bounded_map` pulls inputs lazily, keeps at most ``max_pending`` calls alive (at least the client's window,
with room for calls waiting out a backoff), and yields :class:`QueryResult` objects as they complete, or in
input order. In ordered mode a slow head of the line stops intake once ``reorder_limit`` finished results wait
behind it, so memory stays bounded either way.

A failure of one request is its result (``.error``, a typed :class:`~curator_synth.errors.CuratorSynthError`);
it does not abort the stream, unless the error is *fatal* (``error.fatal``: the journal cannot be written, the
error budget is spent): then no further input is started, the calls already running are let finish (a request
in flight is paid for: its answer is still journaled), their results are yielded, and the fatal error is
raised. Exceptions outside that tree (bugs) propagate at once, cancelling the pending calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from curator_synth.clients.formatters import FormatsConversations
from curator_synth.errors import ConfigError, CuratorSynthError

__all__ = ["QueryRequest", "QueryResult", "bounded_map"]

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class QueryRequest:
    """One request of a bulk run: the arguments of ``query_model`` (or ``query_reward_model`` if ``reward``)."""

    messages: Sequence[Mapping[str, Any]]
    model: str
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int = 1
    conversation_formatter: FormatsConversations | str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    namespace: str | None = None
    reward: bool = False


@dataclass(frozen=True, slots=True)
class QueryResult(Generic[R]):
    """The outcome of input number ``index``: ``value`` on success, else ``error``."""

    index: int
    value: R | None = None
    error: CuratorSynthError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


async def _aiter(items: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


async def bounded_map(
    func: Callable[[T], Awaitable[R]],
    items: Iterable[T] | AsyncIterable[T],
    *,
    max_pending: int,
    ordered: bool = False,
    reorder_limit: int | None = None,
) -> AsyncGenerator[QueryResult[R], None]:
    """Run ``func`` over ``items`` with at most ``max_pending`` calls alive; yield results as they finish."""
    if max_pending < 1:
        raise ConfigError(f"max_pending must be >= 1, got {max_pending}")
    reorder_limit = reorder_limit if reorder_limit is not None else 4 * max_pending
    source = _aiter(items).__aiter__()
    pending: dict[asyncio.Future[R], int] = {}
    # Finished tasks report here: O(1) per completion (asyncio.wait over all pending tasks is O(pending)).
    completed: asyncio.Queue[asyncio.Future[R]] = asyncio.Queue()
    finished: dict[int, QueryResult[R]] = {}  # ordered mode: results waiting for their turn
    next_out = 0
    next_in = 0
    exhausted = False
    fatal: CuratorSynthError | None = None  # the first fatal error: raised once the running calls finished
    try:
        while True:
            while not exhausted and len(pending) < max_pending and len(finished) < reorder_limit:
                try:
                    item = await source.__anext__()
                except StopAsyncIteration:
                    exhausted = True
                    break
                task: asyncio.Future[R] = asyncio.ensure_future(func(item))
                task.add_done_callback(completed.put_nowait)
                pending[task] = next_in
                next_in += 1
            if not pending:
                if fatal is not None:
                    raise fatal
                break
            done = [await completed.get()]
            while not completed.empty():
                done.append(completed.get_nowait())
            for task in done:
                index = pending.pop(task)
                error = task.exception()
                if error is not None and not isinstance(error, CuratorSynthError):
                    raise error
                if error is not None and error.fatal:
                    exhausted = True  # start nothing more; drain what runs
                    fatal = fatal or error
                result: QueryResult[R] = (
                    QueryResult(index, error=error) if error is not None else QueryResult(index, task.result())
                )
                if not ordered:
                    yield result
                else:
                    finished[index] = result
            while ordered and next_out in finished:
                yield finished.pop(next_out)
                next_out += 1
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()
