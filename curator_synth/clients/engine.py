"""The request engine: policy around a transport, shared by every client (sync facades included).

For each request: answer it from the journal if it was answered before; else wait for the rate limits, take a
slot of the adaptive concurrency window (a slow request holds only its own slot), send, journal the raw answer
on receipt (the slot is held until it is committed, so a killed process re-pays at most the requests in
flight), classify and interpret it. On a retryable failure the slot is released *before* backing off (at
least ``Retry-After``), so waiting requests never starve the window; after ``max_retries`` the typed error is
raised. Everything is counted in :class:`ClientStats`.

The retry loop is hand-written rather than tenacity: tenacity costs ~40 µs of CPU per call here, about 5 % of
the whole per-request budget at full speed, against < 1 µs for this loop (``benchmarks/retry_overhead.py``).

Transports, windows and limiters are bound to an event loop; the engine keeps one set per loop, so an async
client can be used from successive ``asyncio.run`` calls and a sync facade runs it on its own loop thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from curator_synth.clients import protocol
from curator_synth.clients.config import ConnectionConfig, RateLimits, RetryPolicy
from curator_synth.clients.journal import Journal
from curator_synth.clients.limits import AdaptiveWindow, RateLimiter, parse_duration
from curator_synth.clients.stats import ClientStats
from curator_synth.clients.transport import HTTPRequest, Transport, TransportFactory
from curator_synth.errors import CuratorSynthError, RateLimitError, ResponseParseError

__all__ = ["RequestEngine", "journal_namespace"]

T = TypeVar("T")
logger = logging.getLogger("curator_synth.clients")

#: The journal namespace of requests made in this context (e.g. "open_qa@1"); see :func:`journal_namespace`.
current_namespace: contextvars.ContextVar[str] = contextvars.ContextVar("curator_synth_namespace", default="")


class journal_namespace:
    """Context manager: requests made inside are journaled under ``name`` (part of the journal key)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._token: contextvars.Token[str] | None = None

    def __enter__(self) -> str:
        self._token = current_namespace.set(self.name)
        return self.name

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            current_namespace.reset(self._token)


@dataclass
class _LoopState:
    transport: Transport
    window: AdaptiveWindow
    limiter: RateLimiter


class RequestEngine:
    def __init__(
        self,
        connection: ConnectionConfig,
        transport_factory: TransportFactory,
        *,
        max_concurrency: int,
        retry: RetryPolicy,
        limits: RateLimits,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.connection = connection
        self.transport_factory = transport_factory
        self.max_concurrency = max_concurrency
        self.retry = retry
        self.limits = limits
        self.stats = ClientStats()
        self.cache_dir = cache_dir
        self._journal: Journal | None = None
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = weakref.WeakKeyDictionary()
        key = connection.api_key.reveal() if connection.api_key else None
        self._redact: Callable[[str], str] = (lambda text: text.replace(key, "***")) if key else (lambda text: text)

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = _LoopState(
                transport=self.transport_factory(self.connection),
                window=AdaptiveWindow(self.max_concurrency),
                limiter=RateLimiter(self.limits),
            )
            self._states[loop] = state
        return state

    @property
    def journal(self) -> Journal | None:
        """The journal of ``cache_dir`` (opened on first use, again after :meth:`aclose`), or None."""
        if self._journal is None and self.cache_dir is not None:
            self._journal = Journal.open(self.cache_dir)
        return self._journal

    @property
    def window(self) -> AdaptiveWindow | None:
        """The window of the most recently used event loop (for inspection)."""
        states = list(self._states.values())
        return states[-1].window if states else None

    async def execute(
        self, request: HTTPRequest, interpret: Callable[[dict[str, Any]], T], namespace: str | None = None
    ) -> T:
        """Send ``request`` until it is answered and ``interpret`` accepts the payload, or fail typed."""
        journal = self.journal
        key = b""
        if journal is not None:
            namespace = current_namespace.get() if namespace is None else namespace
            key = journal.key(namespace, request.path, request.body)
            raw = journal.lookup(key)
            if raw is not None:
                try:
                    result = self._interpret(json.loads(raw), raw, request, interpret)
                except CuratorSynthError as error:
                    if not self.retry.should_retry(error, 0):
                        self.stats.failures[type(error).__name__] += 1
                        raise
                    # e.g. a journaled truncated answer and on_truncated="retry": ask again
                else:
                    self.stats.from_journal += 1
                    return result
        state = self._state()
        limiter, window = state.limiter, state.window
        estimate = protocol.estimate_tokens(request) if limiter.active else 0
        attempt = 0
        while True:
            try:
                if limiter.active:
                    await limiter.acquire(estimate)
                await window.acquire(retry=attempt > 0)
                try:
                    self.stats.requests_sent += 1
                    response = await state.transport.send(request)
                    self._observe_limits(response.headers, window)
                    try:
                        payload = protocol.decode_response(
                            response, lambda: state.transport.summary(request), self._redact
                        )
                    except RateLimitError:
                        window.record(True)
                        raise
                    window.record(False)
                    if journal is not None:  # the slot is held until the answer is on disk (see Journal)
                        await _journaled(journal, key, namespace or "", request, response.body)
                finally:
                    window.release()
                self._account(payload.get("usage"), limiter, estimate)
                result = self._interpret(payload, response.body, request, interpret)
                self.stats.responses_ok += 1
                return result
            except CuratorSynthError as error:
                if not self.retry.should_retry(error, attempt):
                    self.stats.failures[type(error).__name__] += 1
                    raise
                self.stats.retries[type(error).__name__] += 1
                delay = self.retry.backoff(attempt, error)
                logger.debug("retrying %s in %.2fs after %s", request.path, delay, type(error).__name__)
                await asyncio.sleep(delay)
                attempt += 1

    @staticmethod
    def _interpret(
        payload: dict[str, Any], raw: bytes, request: HTTPRequest, interpret: Callable[[dict[str, Any]], T]
    ) -> T:
        try:
            return interpret(payload)
        except ResponseParseError as error:
            if error.raw is None:
                error.raw = raw.decode("utf-8", "replace")
            raise

    def _observe_limits(self, headers: Mapping[str, str], window: AdaptiveWindow) -> None:
        """Pause new requests when the endpoint says a budget is spent (``x-ratelimit-remaining-* == 0``)."""
        for kind in ("requests", "tokens"):
            remaining = headers.get(f"x-ratelimit-remaining-{kind}")
            if remaining is None or remaining.strip() not in ("0", "0.0"):
                continue
            reset = parse_duration(headers.get(f"x-ratelimit-reset-{kind}", ""))
            if reset:
                window.pause(reset)
                self.stats.pauses += 1

    def _account(self, usage: Any, limiter: RateLimiter, estimate: int) -> None:
        if not isinstance(usage, dict):
            return
        prompt = usage.get("prompt_tokens") or 0
        completion = usage.get("completion_tokens") or 0
        self.stats.prompt_tokens += prompt
        self.stats.completion_tokens += completion
        if limiter.active:
            limiter.reconcile(estimate, usage.get("total_tokens") or prompt + completion)

    def flush(self) -> None:
        """Block until every journaled response so far is committed to disk."""
        if self._journal is not None:
            self._journal.flush()

    async def aclose(self) -> None:
        """Close the transport of the current event loop and release the journal; log the run's stats."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover - called outside a loop
            return
        state = self._states.pop(loop, None)
        if state is not None:
            await state.transport.aclose()
        if self._journal is not None and not self._states:
            journal, self._journal = self._journal, None
            await asyncio.to_thread(journal.release)
        if self.stats.requests_sent or self.stats.from_journal:
            self.stats.log()


async def _journaled(journal: Journal, key: bytes, namespace: str, request: HTTPRequest, body: bytes) -> None:
    """Record ``body`` and wait until the writer thread has committed it (raises :class:`JournalError` if not)."""
    loop = asyncio.get_running_loop()
    committed: asyncio.Future[BaseException | None] = loop.create_future()

    def resolve(error: BaseException | None) -> None:
        if not committed.done():
            committed.set_result(error)

    def notify(error: BaseException | None) -> None:  # in the writer thread
        loop.call_soon_threadsafe(resolve, error)

    journal.record(key, namespace, request.path, request.body, body, notify)
    if await committed is not None:
        journal.raise_failure()
