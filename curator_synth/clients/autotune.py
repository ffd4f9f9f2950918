"""``max_concurrency: auto``: find how many requests in flight an endpoint serves best, from the latencies it gives.

An endpoint that batches (vLLM, NIM, TGI) answers faster than it is asked up to its batch size; beyond it,
requests queue and each one takes longer without more being done. :class:`ConcurrencyTuner` raises the limit while
the median latency of a round (as many answers as the limit) stays near the best median seen at a low limit, and
backs off when it climbs past ``tolerance`` times that: it settles where the goodput stops rising, with the
latency still within ``tolerance`` of an unloaded request's. The adaptive window (:mod:`curator_synth.clients.
limits`) applies the limit; its halving on 429s still applies on top.
"""

from __future__ import annotations

import statistics

__all__ = ["AUTO_CEILING", "ConcurrencyTuner"]

#: ``max_concurrency: auto`` tunes between 1 and this many requests in flight.
AUTO_CEILING = 256


class ConcurrencyTuner:
    """Rounds of ``max(min_round, limit)`` answers: a round whose median latency is within ``flat`` (1.1) of the
    baseline (the lowest round median seen) doubles the limit; within ``fast`` (1.25), grows it by half; within
    ``tolerance`` (1.6), by one; beyond, the limit shrinks by a tenth. After a change, the answers to the requests
    already in flight (as many as the old limit) are not counted. ``start``: the first limit."""

    def __init__(
        self,
        ceiling: int = AUTO_CEILING,
        *,
        start: int = 2,
        floor: int = 1,
        flat: float = 1.1,
        fast: float = 1.25,
        tolerance: float = 1.6,
        min_round: int = 8,
    ) -> None:
        self.ceiling = ceiling
        self.floor = min(floor, ceiling)
        self.limit = max(self.floor, min(start, ceiling))
        self.flat = flat
        self.fast = fast
        self.tolerance = tolerance
        self.min_round = min_round
        self.baseline: float | None = None
        #: (limit, round median) of every round, for inspection.
        self.history: list[tuple[int, float]] = []
        self._round: list[float] = []
        self._skip = 0  # answers of requests sent before the last change: they do not tell the new limit's latency

    def observe(self, seconds: float) -> int | None:
        """Feed one answer's latency; the new limit when a round ends with a change, else None."""
        if self._skip:
            self._skip -= 1
            return None
        self._round.append(seconds)
        if len(self._round) < max(self.min_round, self.limit):
            return None
        median = statistics.median(self._round)
        self._round.clear()
        self.history.append((self.limit, median))
        self.baseline = median if self.baseline is None else min(self.baseline, median)
        ratio = median / self.baseline if self.baseline > 0 else 1.0
        if ratio <= self.flat:
            wanted = self.limit * 2
        elif ratio <= self.fast:
            wanted = max(self.limit + 1, int(self.limit * 1.5))
        elif ratio <= self.tolerance:
            wanted = self.limit + 1
        else:
            wanted = int(self.limit * 0.9)
        wanted = max(self.floor, min(self.ceiling, wanted))
        if wanted == self.limit:
            return None
        self._skip, self.limit = self.limit, wanted
        return wanted
