"""Client-side limits: the adaptive concurrency window, token buckets for requests and tokens per minute, and the
error budget that stops a client sending to an endpoint that keeps failing.

A bucket refills continuously at ``per_minute / 60`` per second and holds at most one second's worth (so a
limit of 600 rpm sends ~10 requests per second, never a burst of 600). Acquiring more than is available puts
the bucket in debt and waits the debt out, which keeps waiters roughly first-come first-served and lets a
single request cost more tokens than the bucket holds. Token estimates are reconciled with the endpoint's
``usage`` afterwards (:meth:`RateLimiter.reconcile`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections import Counter, deque
from collections.abc import Callable, Iterator
from time import monotonic

from curator_synth.clients.autotune import ConcurrencyTuner
from curator_synth.clients.config import RateLimits
from curator_synth.errors import ConfigError, ErrorBudgetExceeded

__all__ = [
    "AdaptiveWindow",
    "ErrorBudget",
    "RateLimiter",
    "TokenBucket",
    "WaitQueue",
    "current_priority",
    "parse_duration",
    "request_priority",
]


class TokenBucket:
    def __init__(self, per_minute: float, burst_seconds: float = 1.0) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_seconds)
        self.level = self.capacity
        self._updated = monotonic()

    def _refill(self) -> None:
        now = monotonic()
        self.level = min(self.capacity, self.level + (now - self._updated) * self.rate)
        self._updated = now

    def take(self, amount: float) -> float:
        """Take ``amount`` now (possibly into debt); return the seconds to wait before using it."""
        self._refill()
        self.level -= amount
        return 0.0 if self.level >= 0 else -self.level / self.rate

    def give_back(self, amount: float) -> None:
        """Return (or, if negative, charge) ``amount`` after the real cost became known."""
        self._refill()
        self.level = min(self.capacity, self.level + amount)


class RateLimiter:
    """The rpm and tpm buckets of one client, on one event loop."""

    def __init__(self, limits: RateLimits) -> None:
        self.requests = TokenBucket(limits.rpm) if limits.rpm else None
        self.tokens = TokenBucket(limits.tpm) if limits.tpm else None

    @property
    def active(self) -> bool:
        return self.requests is not None or self.tokens is not None

    async def acquire(self, estimated_tokens: int) -> None:
        wait = 0.0
        if self.requests is not None:
            wait = self.requests.take(1)
        if self.tokens is not None:
            wait = max(wait, self.tokens.take(estimated_tokens))
        if wait > 0:
            await asyncio.sleep(wait)

    def reconcile(self, estimated_tokens: int, actual_tokens: int | None) -> None:
        if self.tokens is not None and actual_tokens is not None:
            self.tokens.give_back(estimated_tokens - actual_tokens)


def parse_duration(value: str) -> float | None:
    """OpenAI's reset durations ("1s", "6m0s", "20ms", "1.5s") or plain seconds; None if unreadable."""
    value = value.strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    total, number = 0.0, ""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    index = 0
    while index < len(value):
        char = value[index]
        if char.isdigit() or char == ".":
            number += char
            index += 1
            continue
        unit = "ms" if value.startswith("ms", index) else char
        if unit not in units or not number:
            return None
        try:
            total += float(number) * units[unit]
        except ValueError:
            return None
        number = ""
        index += len(unit)
    return total if not number else None


_PRIORITY: contextvars.ContextVar[int] = contextvars.ContextVar("curator_synth_request_priority", default=0)


def current_priority() -> int:
    """The priority of requests made in the running context (lower goes first; default 0)."""
    return _PRIORITY.get()


@contextlib.contextmanager
def request_priority(priority: int) -> Iterator[None]:
    """Requests made inside the block wait for a turn with ``priority``: a waiter with a lower one goes first
    (a streamed chain gives its first stage 0, the next 1, ...: a record's first request before another's last,
    so no record starts its first hop at the end of a run)."""
    token = _PRIORITY.set(priority)
    try:
        yield
    finally:
        _PRIORITY.reset(token)


class WaitQueue:
    """Waiters for a turn, served first come, first served within a priority (lower first), except that retries
    go before fresh requests (one that already waited out a backoff should not queue again behind new work).
    :meth:`hand_over` gives the turn to the first waiter still waiting; a waiter cancelled after its turn was
    handed over gives it back."""

    def __init__(self) -> None:
        self._fresh: dict[int, deque[asyncio.Future[None]]] = {}
        self._retries: deque[asyncio.Future[None]] = deque()

    def ahead_of(self, retry: bool, priority: int = 0) -> bool:
        """Whether someone waits who goes before a new waiter (a retry only waits behind retries)."""
        if self._retries:
            return True
        return not retry and any(queue for level, queue in self._fresh.items() if level <= priority)

    async def wait(self, retry: bool, *, give_back: Callable[[], None], priority: int = 0) -> None:
        """Wait for a turn; ``give_back`` returns one handed over just as this waiter was cancelled."""
        queue = self._retries if retry else self._fresh.setdefault(priority, deque())
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                give_back()
            else:
                queue.remove(future)
            raise

    def _first_fresh(self) -> deque[asyncio.Future[None]] | None:
        """The queue of the lowest priority that has waiters."""
        levels = [level for level, queue in self._fresh.items() if queue]
        return self._fresh[min(levels)] if levels else None

    def hand_over(self) -> bool:
        """Give the turn to the first waiter still waiting; False if none is."""
        while True:
            queue = self._retries or self._first_fresh()
            if not queue:
                return False
            future = queue.popleft()
            if not future.done():
                future.set_result(None)
                return True


class AdaptiveWindow:
    """A concurrency window whose size adapts to rate limiting (additive increase, multiplicative decrease).

    At most ``limit`` requests are in flight (``limit`` starts at ``maximum``). When at least ``threshold`` of the
    last ``max(32, maximum)`` outcomes were 429s, the limit halves (at most once per ``cooldown`` seconds); every
    success then grows it by ``maximum / 16`` per window's worth of successes, so it is back at ``maximum`` after
    ~8 round trips without 429s. A sprinkle of 429s below the threshold (a flaky gateway) does not shrink it, and
    no decision is taken before the outcome window is full (429s come back faster than answers, so the first
    outcomes of a run over-count them). The engine feeds it only the 429s that the learned rate limits
    (:mod:`curator_synth.clients.rate`) do not explain: a 429 of a spent budget or of a learned rate says nothing
    about concurrency.
    Waiters are served first come, first served, except that retries (``acquire(retry=True)``) go before fresh
    requests: a request that already waited out a backoff should not queue again behind new work.
    """

    def __init__(
        self,
        maximum: int,
        *,
        threshold: float = 0.2,
        cooldown: float = 1.0,
        minimum: int = 1,
        tuner: ConcurrencyTuner | None = None,
    ) -> None:
        #: ``max_concurrency: auto``: the tuner sets the maximum from the latencies (:meth:`observe`).
        self.tuner = tuner
        maximum = tuner.limit if tuner is not None else maximum
        self.maximum = maximum
        self.minimum = min(minimum, maximum)
        self.limit = float(maximum)
        self.threshold = threshold
        self.cooldown = cooldown
        self.in_flight = 0
        self.decreases = 0
        self._step = max(1.0, maximum / 16)
        self._queue = WaitQueue()
        self._outcomes: deque[int] = deque(maxlen=max(32, maximum))
        self._limited = 0
        self._last_decrease = -float("inf")

    async def acquire(self, retry: bool = False, priority: int = 0) -> None:
        if not self._queue.ahead_of(retry, priority) and self.in_flight < int(self.limit):
            self.in_flight += 1
            return
        await self._queue.wait(retry, give_back=self.release, priority=priority)  # handed over by _wake

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self.in_flight < int(self.limit) and self._queue.hand_over():
            self.in_flight += 1

    def observe(self, seconds: float) -> None:
        """Feed an answer's latency to the tuner (if any); a new limit applies at once."""
        if self.tuner is None:
            return
        limit = self.tuner.observe(seconds)
        if limit is not None:
            self.maximum, self.limit = limit, float(limit)
            self._step = max(1.0, limit / 16)
            self._wake()

    def record(self, rate_limited: bool) -> None:
        """Feed one outcome (429 or not) to the controller."""
        outcomes = self._outcomes
        if len(outcomes) == outcomes.maxlen:
            self._limited -= outcomes[0]
        outcomes.append(int(rate_limited))
        self._limited += int(rate_limited)
        if rate_limited:
            now = monotonic()
            enough = len(outcomes) == outcomes.maxlen and self._limited >= self.threshold * len(outcomes)
            if enough and now - self._last_decrease >= self.cooldown:
                self.limit = max(float(self.minimum), self.limit / 2)
                self._last_decrease = now
                self.decreases += 1
        elif self.limit < self.maximum:
            self.limit = min(float(self.maximum), self.limit + self._step / self.limit)
            self._wake()


class ErrorBudget:
    """Stops a client that fails too often: once more than ``max_error_rate`` of its finished requests (after at
    least ``min_requests``) ended in a *transient* failure (connection, 5xx, timeout, rate limit after the
    retries), :meth:`check` raises :class:`~curator_synth.errors.ErrorBudgetExceeded` and nothing more is sent.
    Permanent failures (a 400, an unparseable answer) do not count: they are fast and each is a rejection with a
    reason. ``max_error_rate=None`` switches the budget off. The runner resets the driver's budget per stage.
    """

    def __init__(self, max_error_rate: float | None = 0.5, min_requests: int = 20) -> None:
        if max_error_rate is not None and (
            isinstance(max_error_rate, bool) or not isinstance(max_error_rate, (int, float))
            or not 0 < max_error_rate <= 1
        ):  # fmt: skip
            raise ConfigError(f"max_error_rate must be in (0, 1] or None, got {max_error_rate!r}")
        if isinstance(min_requests, bool) or not isinstance(min_requests, int) or min_requests < 1:
            raise ConfigError(f"min_requests must be an int >= 1, got {min_requests!r}")
        self.max_error_rate = max_error_rate
        self.min_requests = min_requests
        self.reset()

    def reset(self) -> None:
        self.finished = 0
        self.failed: Counter[str] = Counter()
        self._spent = False

    def record(self, failure: str | None) -> None:
        """One request finished: answered (``None``), or failed transiently with the error type ``failure``."""
        self.finished += 1
        if failure is not None:
            self.failed[failure] += 1
            total = sum(self.failed.values())
            if (
                self.max_error_rate is not None
                and self.finished >= self.min_requests
                and total > self.max_error_rate * self.finished
            ):
                self._spent = True

    @property
    def spent(self) -> bool:
        return self._spent

    def check(self) -> None:
        if self._spent:
            total = sum(self.failed.values())
            counts = ", ".join(f"{name} {count}" for name, count in self.failed.most_common())
            raise ErrorBudgetExceeded(
                f"error budget spent: {total} of {self.finished} requests failed ({counts}), more than "
                f"max_error_rate {self.max_error_rate:g}; the remaining requests are not sent"
            )
