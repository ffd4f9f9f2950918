"""The request engine: policy around a transport, shared by every client (sync facades included).

For each request: answer it from the journal if it was answered before by the same endpoint (an answer that
could not be used — unparseable, failed validation — is asked again unless ``reask_failed=False``); else
refuse at once if the journal has stopped (a full disk) or the error budget is spent; wait for the rate limits
(the user's ``rpm`` / ``tpm``, then the limits learned from the endpoint's headers and 429s:
:mod:`curator_synth.clients.rate`), take a slot of the adaptive concurrency window (a slow request holds only its
own slot), send, journal the raw answer on receipt (the slot is held until it is committed, so a killed process
re-pays at most the requests in flight), classify and interpret it. On a retryable failure the slot is released
*before* backing off (at least ``Retry-After``), so waiting requests never starve the window; after
``max_retries`` the typed error is raised (a 429 is retried for as long as the endpoint keeps answering others:
``RetryPolicy.rate_limit_patience``). Everything is counted in :class:`ClientStats` (transient failures apart:
they leave a stage unfinished).

Callers that parse answers further (generators) wrap each item in :func:`reject_unparsed`: if the item then
fails with a :class:`ResponseParseError`, the answers it received are marked in the journal, so the next run
asks them again instead of replaying them forever.

The retry loop is hand-written rather than tenacity: tenacity costs ~40 µs of CPU per call here, about 5 % of
the whole per-request budget at full speed, against < 1 µs for this loop (``benchmarks/retry_overhead.py``).

Transports, windows and limiters are bound to an event loop; the engine keeps one set per loop, so an async
client can be used from successive ``asyncio.run`` calls and a sync facade runs it on its own loop thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from time import monotonic
from typing import Any, TypeVar

from curator_synth.clients import protocol
from curator_synth.clients.autotune import ConcurrencyTuner
from curator_synth.clients.batch import Batcher
from curator_synth.clients.batch_registry import BatchRegistry
from curator_synth.clients.config import ConnectionConfig, RateLimits, RetryPolicy
from curator_synth.clients.defaults import current_defaults
from curator_synth.clients.journal import Journal
from curator_synth.clients.limits import AdaptiveWindow, ErrorBudget, RateLimiter, current_priority
from curator_synth.clients.rate import LearnedRateLimiter
from curator_synth.clients.receipts import current_namespace, journaled, receipt
from curator_synth.clients.stats import ClientStats, current_scope
from curator_synth.clients.transport import HTTPRequest, Transport, TransportFactory
from curator_synth.errors import CuratorSynthError, RateLimitError, RequestSummary, ResponseParseError
from curator_synth.redact import MIN_SECRET_LENGTH, redact

__all__ = ["RequestEngine", "endpoint_id"]

T = TypeVar("T")
logger = logging.getLogger("curator_synth.clients")


def endpoint_id(base_url: str) -> str:
    """The endpoint as the journal names it: the base URL without credentials, query or trailing slash."""
    return RequestSummary.create("POST", base_url.rstrip("/")).url


@dataclass
class _LoopState:
    transport: Transport
    window: AdaptiveWindow
    limiter: RateLimiter
    learned: LearnedRateLimiter
    #: Journal keys of the requests in flight, each with the event set when it ends.
    in_flight: dict[bytes, asyncio.Event] = field(default_factory=dict)
    batcher: Batcher | None = None


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
        reask_failed: bool = True,
        budget: ErrorBudget | None = None,
        autotune: bool = False,
        batch: bool = False,
        batch_poll_seconds: float = 30.0,
    ) -> None:
        self.connection = connection
        #: ``max_concurrency: auto``: each event loop's window tunes its limit up to ``max_concurrency``.
        self.autotune = autotune
        #: Requests go through the provider's batch API (:mod:`curator_synth.clients.batch`), unless the running
        #: stage's :class:`~curator_synth.clients.defaults.RequestDefaults` say otherwise.
        self.batch = batch
        self.batch_poll_seconds = batch_poll_seconds
        self._registry: BatchRegistry | None = None
        self.transport_factory = transport_factory
        self.max_concurrency = max_concurrency
        self.retry = retry
        self.limits = limits
        self._stats = ClientStats()
        self.cache_dir = cache_dir
        self.reask_failed = reask_failed
        self.budget = budget if budget is not None else ErrorBudget()
        #: Part of every journal key: answers of one endpoint are never replayed for another.
        self.endpoint = endpoint_id(connection.base_url)
        self._journal: Journal | None = None
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = weakref.WeakKeyDictionary()
        key = connection.api_key.reveal() if connection.api_key else None
        self._redact: Callable[[str], str] = redact  # every registered key and URL credential
        self._key_bytes = key.encode() if key and len(key) >= MIN_SECRET_LENGTH else b""

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = _LoopState(
                transport=self.transport_factory(self.connection),
                window=AdaptiveWindow(
                    self.max_concurrency, tuner=ConcurrencyTuner(self.max_concurrency) if self.autotune else None
                ),
                limiter=RateLimiter(self.limits),
                learned=LearnedRateLimiter(backoff=self.retry.initial_backoff, stats=self._stats),
            )
            self._states[loop] = state
        return state

    @property
    def stats(self) -> ClientStats:
        """The counters requests are charged to: the running context's (:func:`~curator_synth.clients.stats.
        counted_in`), else the engine's own."""
        scope = current_scope()
        return scope.stats if scope is not None else self._stats

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

    @property
    def rate_limiter(self) -> LearnedRateLimiter | None:
        """The learned rate limiter of the most recently used event loop (for inspection)."""
        states = list(self._states.values())
        return states[-1].learned if states else None

    async def execute(
        self, request: HTTPRequest, interpret: Callable[[dict[str, Any]], T], namespace: str | None = None
    ) -> T:
        """Send ``request`` until it is answered and ``interpret`` accepts the payload, or fail typed.

        With a journal, a request identical to one in flight waits for it and is then answered from the journal
        (two records with the same prompt pay once, as they would one after the other)."""
        journal = self.journal
        if journal is None:
            return await self._execute(request, interpret, None, b"")
        namespace = current_namespace.get() if namespace is None else namespace
        key = journal.key(namespace, request.path, request.body, self.endpoint)
        in_flight = self._state().in_flight
        while (first := in_flight.get(key)) is not None:
            await first.wait()
        done = in_flight[key] = asyncio.Event()
        try:
            return await self._execute(request, interpret, namespace, key)
        finally:
            del in_flight[key]
            done.set()

    async def _execute(
        self, request: HTTPRequest, interpret: Callable[[dict[str, Any]], T], namespace: str | None, key: bytes
    ) -> T:
        journal = self.journal if key else None
        stats = self.stats  # the running context's counters (a stage of a streamed chain), else the engine's
        if journal is not None:
            raw = journal.lookup(key, skip_rejected=self.reask_failed)
            if raw is not None:
                try:
                    result = self._interpret(json.loads(raw), raw, request, interpret)
                except (CuratorSynthError, ValueError) as error:
                    if isinstance(error, CuratorSynthError) and not self._ask_again(error):
                        self._failed(error)
                        raise
                    # e.g. a journaled truncated answer and on_truncated="retry", or one that no longer parses
                else:
                    stats.from_journal += 1
                    receipt(journal, key)
                    return result
        if self._batched():
            return await self._execute_batch(request, interpret, namespace or "", key, journal)
        state = self._state()
        limiter, window, learned = state.limiter, state.window, state.learned
        estimate = protocol.estimate_tokens(request)
        attempt = 0
        limited_since: float | None = None  # the first 429 of this request
        while True:
            try:
                self._may_send(journal)
                if limiter.active:
                    await limiter.acquire(estimate)
                await window.acquire(retry=attempt > 0, priority=current_priority())
                try:
                    # Inside the window: a grant is used at once, never overtaken by a stop decided meanwhile.
                    permit = await learned.acquire(estimate, retry=attempt > 0)
                    outcome_known = False
                    try:
                        self._may_send(journal)  # again: the journal or the budget may have stopped while it waited
                        stats.requests_sent += 1
                        sent = monotonic()
                        response = await state.transport.send(request)
                        try:
                            payload = protocol.decode_response(
                                response, lambda: state.transport.summary(request), self._redact
                            )
                        except RateLimitError as error:
                            outcome_known = True
                            stats.rate_limited += 1
                            if not learned.limited(permit, response.headers, error.retry_after):
                                window.record(True)  # a 429 the learned limits do not explain
                            raise
                        outcome_known = True
                        learned.answered(permit, response.headers)
                        window.record(False)
                        window.observe(monotonic() - sent)
                        if journal is not None:  # the slot is held until the answer is on disk (see Journal)
                            body = self._scrubbed(response.body)
                            await journaled(journal, key, namespace or "", request, body, self.endpoint)
                    finally:
                        if not outcome_known:
                            learned.settle(permit)
                finally:
                    window.release()
                self._account(payload.get("usage"), limiter, estimate)
                return self._answered(payload, response.body, request, interpret, journal, key)
            except CuratorSynthError as error:
                limited_for = 0.0
                if isinstance(error, RateLimitError):
                    now = monotonic()
                    limited_since = now if limited_since is None else limited_since
                    limited_for = now - limited_since
                if not self.retry.should_retry(
                    error, attempt, rate_limited_for=limited_for, answered_ago=learned.answered_ago()
                ):
                    self._failed(error)
                    raise
                stats.retries[type(error).__name__] += 1
                delay = self.retry.backoff(attempt, error)
                logger.debug("retrying %s in %.2fs after %s", request.path, delay, type(error).__name__)
                await asyncio.sleep(delay)
                attempt += 1

    def _batched(self) -> bool:
        defaults = current_defaults()
        return self.batch if defaults is None or defaults.batch is None else defaults.batch

    def _batcher(self) -> Batcher:
        state = self._state()
        if state.batcher is None:
            if self._registry is None:
                self._registry = BatchRegistry(self.cache_dir)
            state.batcher = Batcher(
                state.transport,
                self._registry,
                base_url=self.connection.base_url,
                retry=self.retry,
                poll_seconds=self.batch_poll_seconds,
                redact=self._redact,
            )
        return state.batcher

    async def _execute_batch(
        self, request: HTTPRequest, interpret: Callable[[dict[str, Any]], T], namespace: str, key: bytes,
        journal: Journal | None,
    ) -> T:  # fmt: skip
        """:meth:`_execute` through the batch API: no window or rate limit applies (nothing is sent online); a
        failed answer is asked again in a later batch, at once (the batch's own wait is the backoff)."""
        stats, batcher = self.stats, self._batcher()
        custom_id = key.hex() if key else uuid.uuid4().hex
        attempt = 0
        while True:
            try:
                self._may_send(journal)
                stats.requests_sent += 1
                stats.batch_requests += 1
                response, settle = await batcher.answer(custom_id, request)
                try:
                    payload = protocol.decode_response(
                        response, lambda: batcher.transport.summary(request), self._redact
                    )
                    if journal is not None:
                        await journaled(journal, key, namespace, request, self._scrubbed(response.body), self.endpoint)
                finally:
                    settle()
                self._account(payload.get("usage"), None, 0, batch=True)
                return self._answered(payload, response.body, request, interpret, journal, key)
            except CuratorSynthError as error:
                if not self.retry.should_retry(error, attempt):
                    self._failed(error)
                    raise
                stats.retries[type(error).__name__] += 1
                attempt += 1

    def _answered(
        self, payload: dict[str, Any], raw: bytes, request: HTTPRequest, interpret: Callable[[dict[str, Any]], T],
        journal: Journal | None, key: bytes,
    ) -> T:  # fmt: skip
        """The result of an answer that passed (and was journaled): interpreted, counted, its receipt kept."""
        self.budget.record(None)
        result = self._interpret(payload, raw, request, interpret)
        self.stats.responses_ok += 1
        receipt(journal, key)
        return result

    def _scrubbed(self, body: bytes) -> bytes:
        """``body`` without the client's key (an endpoint echoing it must not put it in the journal)."""
        return body.replace(self._key_bytes, b"***") if self._key_bytes and self._key_bytes in body else body

    def _may_send(self, journal: Journal | None) -> None:
        """Refuse to send once the journal has stopped (a full disk) or the error budget is spent (both fatal)."""
        if journal is not None:
            journal.check_writable()
        self.budget.check()

    def _ask_again(self, error: CuratorSynthError) -> bool:
        """Whether a journaled answer that ``interpret`` refused is sent again rather than failed."""
        return self.retry.should_retry(error, 0) or (self.reask_failed and isinstance(error, ResponseParseError))

    def _failed(self, error: CuratorSynthError) -> None:
        """Count a request's final failure (transient ones apart) and spend the error budget on transient ones
        (not on the journal's or the budget's own refusals)."""
        name = type(error).__name__
        stats, scope = self.stats, current_scope()
        stats.failures[name] += 1
        if error.transient:
            stats.transient_failures[name] += 1
            if scope is not None:
                scope.transient[name] += 1
            if not error.fatal:
                self.budget.record(name)

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

    def _account(self, usage: Any, limiter: RateLimiter | None, estimate: int, batch: bool = False) -> None:
        if not isinstance(usage, dict):
            return
        prompt = usage.get("prompt_tokens") or 0
        completion = usage.get("completion_tokens") or 0
        stats = self.stats
        stats.prompt_tokens += prompt
        stats.completion_tokens += completion
        if batch:
            stats.batch_prompt_tokens += prompt
            stats.batch_completion_tokens += completion
        if limiter is not None and limiter.active:
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
            if state.batcher is not None:
                await state.batcher.aclose()
            await state.transport.aclose()
        if self._journal is not None and not self._states:
            journal, self._journal = self._journal, None
            await asyncio.to_thread(journal.release)
        if self._stats.requests_sent or self._stats.from_journal:
            self._stats.log()
