"""Blocking facades over the async clients: one implementation, run on a background event-loop thread.

All sync clients of a process share one daemon thread with its own event loop (created on first use, created
again in a forked child). A blocking call submits the coroutine there and waits; Ctrl-C cancels it. Calling a
sync client from inside that loop thread (e.g. from a coroutine the engine runs) would deadlock and is refused.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import threading
import weakref
from collections.abc import Coroutine, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from curator_synth.clients.base import AsyncLLMClient, LLMClient
from curator_synth.clients.formatters import FormatsConversations
from curator_synth.clients.stats import ClientStats
from curator_synth.errors import ConfigError

__all__ = ["SyncClient", "run_sync"]

T = TypeVar("T")


class _LoopThread:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="curator-synth-loop", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self.thread:
            coro.close()
            raise ConfigError("a sync client was called from its own event-loop thread; use the async client there")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise


_lock = threading.Lock()
_loop_thread: _LoopThread | None = None
_open_clients: weakref.WeakSet[SyncClient] = weakref.WeakSet()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the shared loop thread and return its result (raising its exception)."""
    global _loop_thread
    with _lock:
        if _loop_thread is None or _loop_thread.pid != os.getpid():
            _loop_thread = _LoopThread()
        runner = _loop_thread
    return runner.run(coro)


@atexit.register
def _close_all() -> None:
    if _loop_thread is None or _loop_thread.pid != os.getpid():
        return
    for client in list(_open_clients):
        with contextlib.suppress(Exception):  # best effort at interpreter exit
            client.close()


class SyncClient(LLMClient):
    """An :class:`LLMClient` whose every call runs the wrapped :class:`AsyncLLMClient` to completion."""

    def __init__(self, core: AsyncLLMClient) -> None:
        self._core: Any = core
        _open_clients.add(self)

    @property
    def async_client(self) -> AsyncLLMClient:
        """The async client doing the work (share it with async code to share limits and accounting)."""
        return self._core

    def query_model(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        stop: str | list[str] | None = None,
        n: int = 1,
        conversation_formatter: FormatsConversations | str | None = None,
        **extra: Any,
    ) -> list[str]:
        return run_sync(
            self._core.query_model(
                messages=messages,
                model=model,
                max_tokens=max_tokens,
                temperature=temperature,
                top_p=top_p,
                seed=seed,
                stop=stop,
                n=n,
                conversation_formatter=conversation_formatter,
                **extra,
            )
        )

    def query_reward_model(self, *, messages: Iterable[Mapping[str, Any]], model: str) -> dict[str, float]:
        return run_sync(self._core.query_reward_model(messages=messages, model=model))

    def query_many(
        self, requests: Iterable[Any], *, ordered: bool = True, max_pending: int | None = None
    ) -> Iterator[Any]:
        """Blocking iterator over the async client's ``query_many`` results (same arguments)."""
        stream = self._core.query_many(requests, ordered=ordered, max_pending=max_pending)
        try:
            while True:
                try:
                    yield run_sync(stream.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            run_sync(stream.aclose())

    def flush_journal(self) -> None:
        self._core.flush_journal()

    def close(self) -> None:
        _open_clients.discard(self)
        run_sync(self._core.aclose())

    @property
    def stats(self) -> ClientStats | None:
        """The core's :class:`~curator_synth.clients.stats.ClientStats`."""
        return self._core.stats

    @property
    def base_url(self) -> str | None:
        return getattr(self._core, "base_url", None)

    def __repr__(self) -> str:
        return repr(self._core).replace(type(self._core).__name__, type(self).__name__, 1)
