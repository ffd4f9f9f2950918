"""The request engine: policy around a transport, shared by every client (sync facades included).

For each request: wait for the rate limits, take a slot of the concurrency window (a semaphore: a slow request
holds only its own slot), send, classify the answer, interpret it, and on a retryable failure release the slot,
back off (at least ``Retry-After``) and try again, up to ``max_retries``. Everything is counted in
:class:`ClientStats`.

The retry loop is hand-written rather than tenacity: tenacity costs ~50 µs per call here, about 5 % of the
whole per-request CPU budget at full speed, against < 1 µs for this loop (``benchmarks/retry_overhead.py``).

Transports, windows and limiters are bound to an event loop; the engine keeps one set per loop, so an async
client can be used from successive ``asyncio.run`` calls and a sync facade runs it on its own loop thread.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from curator_synth.clients import protocol
from curator_synth.clients.config import ConnectionConfig, RateLimits, RetryPolicy
from curator_synth.clients.limits import RateLimiter
from curator_synth.clients.stats import ClientStats
from curator_synth.clients.transport import HTTPRequest, Transport, TransportFactory
from curator_synth.errors import CuratorSynthError, ResponseParseError

__all__ = ["RequestEngine"]

T = TypeVar("T")
logger = logging.getLogger("curator_synth.clients")


@dataclass
class _LoopState:
    transport: Transport
    window: asyncio.Semaphore
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
    ) -> None:
        self.connection = connection
        self.transport_factory = transport_factory
        self.max_concurrency = max_concurrency
        self.retry = retry
        self.limits = limits
        self.stats = ClientStats()
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = weakref.WeakKeyDictionary()
        key = connection.api_key.reveal() if connection.api_key else None
        self._redact: Callable[[str], str] = (lambda text: text.replace(key, "***")) if key else (lambda text: text)

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = _LoopState(
                transport=self.transport_factory(self.connection),
                window=asyncio.Semaphore(self.max_concurrency),
                limiter=RateLimiter(self.limits),
            )
            self._states[loop] = state
        return state

    async def execute(self, request: HTTPRequest, interpret: Callable[[dict[str, Any]], T]) -> T:
        """Send ``request`` until it is answered and ``interpret`` accepts the payload, or fail typed."""
        state = self._state()
        limiter = state.limiter
        estimate = protocol.estimate_tokens(request) if limiter.active else 0
        attempt = 0
        while True:
            try:
                if limiter.active:
                    await limiter.acquire(estimate)
                async with state.window:
                    self.stats.requests_sent += 1
                    response = await state.transport.send(request)
                payload = protocol.decode_response(response, state.transport.summary(request), self._redact)
                usage = payload.get("usage")
                self._account(usage, limiter, estimate)
                try:
                    result = interpret(payload)
                except ResponseParseError as error:
                    if error.raw is None:
                        error.raw = response.body.decode("utf-8", "replace")
                    if error.request is None:
                        error.request = state.transport.summary(request)
                    raise
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

    def _account(self, usage: Any, limiter: RateLimiter, estimate: int) -> None:
        if not isinstance(usage, dict):
            return
        prompt = usage.get("prompt_tokens") or 0
        completion = usage.get("completion_tokens") or 0
        self.stats.prompt_tokens += prompt
        self.stats.completion_tokens += completion
        if limiter.active:
            limiter.reconcile(estimate, usage.get("total_tokens") or prompt + completion)

    async def aclose(self) -> None:
        """Close the transport of the current event loop (others are closed when their loop goes away)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover - called outside a loop
            return
        state = self._states.pop(loop, None)
        if state is not None:
            await state.transport.aclose()
