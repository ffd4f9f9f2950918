"""Client-side rate limits: token buckets for requests/minute and tokens/minute.

A bucket refills continuously at ``per_minute / 60`` per second and holds at most one second's worth (so a
limit of 600 rpm sends ~10 requests per second, never a burst of 600). Acquiring more than is available puts
the bucket in debt and waits the debt out, which keeps waiters roughly first-come first-served and lets a
single request cost more tokens than the bucket holds. Token estimates are reconciled with the endpoint's
``usage`` afterwards (:meth:`RateLimiter.reconcile`).
"""

from __future__ import annotations

import asyncio
from time import monotonic

from curator_synth.clients.config import RateLimits

__all__ = ["RateLimiter", "TokenBucket"]


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
