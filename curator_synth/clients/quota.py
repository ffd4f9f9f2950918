"""The rate-limit budgets an endpoint reports in ``x-ratelimit-*`` headers (requests and tokens), as the learned
rate limiter (:mod:`curator_synth.clients.rate`) reads them."""

from __future__ import annotations

import math
from collections.abc import Mapping

from curator_synth.clients.limits import parse_duration

__all__ = ["KINDS", "Quota", "read_headers"]

KINDS = ("requests", "tokens")
_HEADERS = {kind: tuple(f"x-ratelimit-{part}-{kind}" for part in ("remaining", "limit", "reset")) for kind in KINDS}
_DEFAULT_RESET = 1.0  # seconds, when a reading has no (readable) reset


class Quota:
    """One budget an endpoint reports (requests or tokens) and what its latest reading leaves now.

    A reading says ``remaining`` when the server admitted request ``ticket``, and that the budget is back to
    ``limit`` after ``reset`` seconds. Whatever was granted after that request is not in the server's count
    yet, so it is taken off. Readings of older requests than the one read last are ignored (answers come back
    out of order). A reading that nothing replaced expires one reset period after its reset, so requests that
    failed without an answer (and never brought a newer reading) cannot block the budget for ever.
    """

    __slots__ = ("_base", "_expires_at", "_remaining", "_ticket", "limit", "reset_at")

    def __init__(self) -> None:
        self.limit: float | None = None
        self.reset_at = 0.0
        self._remaining = math.inf
        self._base = 0.0
        self._ticket = -1
        self._expires_at = -math.inf

    @property
    def known(self) -> bool:
        return self._ticket >= 0

    def read(
        self, ticket: int, granted_at: float, limit: float | None, remaining: float, reset: float, now: float
    ) -> bool:
        """Take a reading of request ``ticket`` (``granted_at``: the cost granted up to and including it); False
        if an answer to a later request was read already."""
        if ticket < self._ticket:
            return False
        self._ticket = ticket
        if limit is not None:
            self.limit = limit
        self._remaining = remaining
        self._base = granted_at
        self.reset_at = now + reset
        self._expires_at = self.reset_at + max(reset, _DEFAULT_RESET)
        return True

    def available(self, granted: float, now: float) -> float:
        """What may still be granted now, given ``granted`` (the cost granted so far, all requests)."""
        if now >= self._expires_at:
            return math.inf
        spent = granted - self._base
        if now < self.reset_at:
            return self._remaining - spent
        return (self.limit if self.limit is not None else math.inf) - spent

    def delay(self, granted: float, cost: float, now: float) -> float:
        """Seconds until ``cost`` more can be granted, unless a newer reading comes first."""
        if self.limit is not None:
            cost = min(cost, self.limit)  # a request larger than the whole budget goes when the budget is full
        if self.available(granted, now) >= cost:
            return 0.0
        return (self.reset_at if now < self.reset_at else self._expires_at) - now


def read_headers(
    quotas: Mapping[str, Quota], ticket: int, tokens: float, headers: Mapping[str, str], now: float
) -> tuple[bool, bool]:
    """Take the readings of an answer to request ``ticket`` (``tokens``: the tokens granted up to it) into
    ``quotas``; returns (whether any reading was there, whether one says its budget is spent)."""
    seen = spent = False
    for kind in KINDS:
        remaining_name, limit_name, reset_name = _HEADERS[kind]
        remaining = _number(headers.get(remaining_name))
        if remaining is None:
            continue
        seen = True
        reset = parse_duration(headers.get(reset_name, ""))
        at = float(ticket) if kind == "requests" else tokens
        quotas[kind].read(ticket, at, _number(headers.get(limit_name)), remaining, reset or _DEFAULT_RESET, now)
        spent = spent or remaining <= 0
    return seen, spent


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
