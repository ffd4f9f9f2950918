"""Per-client accounting: what was sent, retried, failed, and how many tokens it cost; and :class:`UsageMeter`,
the live totals of the clients at work in this process, for a progress display."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

__all__ = ["TOTALS", "ClientStats", "StatsScope", "UsageMeter", "counted_in", "current_scope"]

logger = logging.getLogger("curator_synth.clients")

#: The keys of :meth:`ClientStats.totals`.
TOTALS = (
    "requests",
    "ok",
    "retries",
    "failed",
    "from_journal",
    "prompt_tokens",
    "completion_tokens",
    "batch_prompt_tokens",
    "batch_completion_tokens",
)
_METERS: list[UsageMeter] = []  # the meters open now: every ClientStats made meanwhile reports to them
_METERS_LOCK = threading.Lock()


@dataclass
class ClientStats:
    """Counters of one client; ``as_dict()`` for reports, ``log()`` at the end of a run."""

    requests_sent: int = 0
    responses_ok: int = 0
    from_journal: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: Requests answered through the provider's batch API, and the part of the tokens they used (priced at its
    #: batch discount).
    batch_requests: int = 0
    batch_prompt_tokens: int = 0
    batch_completion_tokens: int = 0
    #: Times the learned rate limits stopped the sending: a reported budget spent, a 429 taken as a rate signal.
    pauses: int = 0
    #: 429 answers received (each is retried, see ``RetryPolicy.rate_limit_patience``).
    rate_limited: int = 0
    #: Times the learned request rate was cut (AIMD, from 429s that no ``x-ratelimit-*`` header explained).
    rate_cuts: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    #: The part of ``failures`` that is transient (connection, 5xx, timeouts, journal): a stage with any is unfinished.
    transient_failures: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests_sent": self.requests_sent,
            "responses_ok": self.responses_ok,
            "from_journal": self.from_journal,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "batch_requests": self.batch_requests,
            "batch_prompt_tokens": self.batch_prompt_tokens,
            "batch_completion_tokens": self.batch_completion_tokens,
            "pauses": self.pauses,
            "rate_limited": self.rate_limited,
            "rate_cuts": self.rate_cuts,
            "retries": dict(self.retries),
            "failures": dict(self.failures),
            "transient_failures": dict(self.transient_failures),
        }

    def __post_init__(self) -> None:
        if _METERS:
            with _METERS_LOCK:
                for meter in _METERS:
                    meter.watch(self)

    def log(self, name: str = "client") -> None:
        logger.info("%s stats: %s", name, self.as_dict())

    def totals(self) -> dict[str, int]:
        """The counters a progress display shows: ``requests`` sent, ``ok``, ``retries``, ``failed``,
        ``from_journal``, ``prompt_tokens``, ``completion_tokens`` (and their batch-priced part)."""
        return {
            "requests": self.requests_sent,
            "ok": self.responses_ok,
            "retries": sum(self.retries.values()),
            "failed": sum(self.failures.values()),
            "from_journal": self.from_journal,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "batch_prompt_tokens": self.batch_prompt_tokens,
            "batch_completion_tokens": self.batch_completion_tokens,
        }


class UsageMeter:
    """Live totals of the clients of this process while the meter is open: every client made meanwhile (e.g. on
    Dask's threads), and the growth of ``existing`` clients' counters since it opened. Clients in other
    processes (a cluster's workers) are not seen: their partitions report when they finish."""

    def __init__(self, existing: Iterable[ClientStats] = ()) -> None:
        self._start = [(stats, stats.totals()) for stats in existing]
        self._watched: list[ClientStats] = []

    def watch(self, stats: ClientStats) -> None:
        self._watched.append(stats)

    def totals(self) -> dict[str, int]:
        """The sums of :meth:`ClientStats.totals` over the clients seen (growth only, for ``existing`` ones)."""
        summed: Counter[str] = Counter()
        for stats in list(self._watched):
            summed.update(stats.totals())
        for stats, start in self._start:
            now = stats.totals()
            summed.update({key: now[key] - start[key] for key in now})
        return {key: summed.get(key, 0) for key in TOTALS}

    def __enter__(self) -> UsageMeter:
        with _METERS_LOCK:
            _METERS.append(self)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        with _METERS_LOCK:
            _METERS.remove(self)


@dataclass
class StatsScope:
    """Where the requests made inside :func:`counted_in` are counted: ``stats`` (e.g. one stage's, while several
    stages share a client) instead of the client's own; and ``transient``, the transient failures of this block
    alone (e.g. one record's), which a shared ``stats`` cannot tell apart."""

    stats: ClientStats
    transient: Counter[str] = field(default_factory=Counter)


_SCOPE: contextvars.ContextVar[StatsScope | None] = contextvars.ContextVar("curator_synth_stats_scope", default=None)


def current_scope() -> StatsScope | None:
    """The scope of the running context (None: requests count in their client's own stats)."""
    return _SCOPE.get()


@contextlib.contextmanager
def counted_in(scope: StatsScope) -> Iterator[StatsScope]:
    """Count the requests of every client made inside the block (tasks started there too) in ``scope``."""
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)
