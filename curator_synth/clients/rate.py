"""The learned rate limiter: how fast an endpoint lets this client send, learned from its answers.

Nothing is known at first and nothing is limited, so an endpoint without limits loses nothing. Two things teach it:

- **Headers.** ``x-ratelimit-limit-*``, ``-remaining-*`` and ``-reset-*`` (``requests`` and ``tokens``: OpenAI's
  names, also sent by NIM and many gateways) are read on every answer, 429s included, as a budget: ``remaining``
  until the reset, ``limit`` after it. A reading is corrected by what was granted after the request it answers
  (the server had not counted those yet), so the client never sends past ``remaining`` and waits for the reset
  without walking into 429s. The pace this gives is ``limit`` per reset period, which is right for the three
  kinds of limit endpoints use: a token bucket (full again at its reset), a fixed window and a rolling one
  (empty again at their reset). See :class:`~curator_synth.clients.quota.Quota`.
- **429s without such headers.** :class:`RateController` learns a request *rate* by AIMD: a burst of 429s cuts
  it, successes raise it again, and while the endpoint refuses everything one probe at a time finds when it
  admits again.

:class:`LearnedRateLimiter` joins both for one client on one event loop: requests wait in one queue (first come
first served, retries first) until every learned limit lets them go. The user's explicit ``rpm`` / ``tpm``
(:class:`~curator_synth.clients.limits.RateLimiter`) stay hard caps in front of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import Callable, Mapping
from time import monotonic

from curator_synth.clients.limits import WaitQueue
from curator_synth.clients.quota import KINDS, Quota, read_headers
from curator_synth.clients.stats import ClientStats

__all__ = ["LearnedRateLimiter", "Permit", "RateController"]

Clock = Callable[[], float]


class Permit:
    """What was granted: the request's ticket (grants are numbered from 1), the tokens granted up to it, and when."""

    __slots__ = ("at", "ticket", "tokens")

    def __init__(self, ticket: int, tokens: float, at: float) -> None:
        self.ticket = ticket
        self.tokens = tokens
        self.at = at


class RateController:
    """AIMD on a request rate, taught by the 429s that no header explains.

    - **Detect.** While no rate is known, a 429 makes the client *cautious*: nothing new is sent for twice that
      429's round trip (50 ms at most), or until any request is answered (a flaky gateway's sprinkle of 429s
      costs a millisecond; the other 429s of a wall come back meanwhile, before more requests follow them).
      Nothing more happens until ``detect`` of the last ``outcomes`` requests granted got 429s (the sprinkle is
      left to the retries and the concurrency window). Counted by grant, not by arrival: 429s come back faster
      than answers, so the first outcomes of a burst are mostly 429s even when few requests get one. Random
      429s at 5 % are taken for a wall about once in 10^7 429s, at 10 % once in 3x10^4; once a rate is known,
      every 429 counts.
    - **Decrease, with a cool-down.** A counted 429 cuts the rate to ``decrease`` times the rate in force (when
      none was, the answers per second measured over the last seconds), never below one request per
      ``Retry-After`` (``backoff`` without one), and stops sending for ``Retry-After``. The 429s of requests
      granted before that decision (in flight already) do not count again: a burst of them is one signal.
    - **Probe.** Then one request at a time goes, each after a hold that starts at ``Retry-After`` and grows to
      ``probe_growth`` of the time refused so far (1.12x apart: an endpoint shut for a minute after a
      ``Retry-After: 1`` costs ~26 probes, and its reopening is seen at most ~12 % late). The first request
      granted after the decision and answered ends the probing; the rate then starts from an empty bucket, so
      there is no burst into a half-open window.
    - **Increase.** Each answer adds ``step / rate``, i.e. ``step`` requests/s per second at full use, where
      ``step`` makes up the last cut (at least the rate it left) in ``recovery`` seconds.

    The bucket holds at most one second of the rate. Pure state, driven with explicit times (tests pass a fake
    clock); :class:`LearnedRateLimiter` calls it.
    """

    def __init__(
        self,
        *,
        backoff: float = 0.25,
        decrease: float = 0.5,
        probe_growth: float = 0.12,
        recovery: float = 10.0,
        detect: int = 10,
        outcomes: int = 20,
        horizon: float = 2.0,
    ) -> None:
        self.backoff = backoff
        self.horizon = horizon
        self.decrease = decrease
        self.probe_growth = probe_growth
        self.recovery = recovery
        self.detect = detect
        self.rate: float | None = None
        self.probing = False
        self.cautious_until = 0.0
        self.hold_until = 0.0
        self.cuts = 0
        self.probes_refused = 0
        self._decided = 0  # tickets up to this one were granted before the last decision
        self._probe: int | None = None  # the probe in flight
        self._refused_since = 0.0
        self._step = 0.0
        self._level = 0.0
        self._updated = 0.0
        self._answers: deque[float] = deque(maxlen=256)
        #: When the first request was granted (set by the caller): the measured rate does not count time before it.
        self.started = 0.0
        self.outcomes = outcomes
        self._refused: deque[int] = deque(maxlen=detect)  # the tickets of the last 429s

    @property
    def idle(self) -> bool:
        """Nothing learned, nothing suspected: grants need no bookkeeping."""
        return self.rate is None and not self.probing and not self.cautious_until

    def delay(self, now: float) -> float:
        """Seconds until the next grant (``inf``: not before the probe in flight has an outcome)."""
        wait = max(self.hold_until, self.cautious_until) - now
        if self.probing:
            return math.inf if self._probe is not None else max(0.0, wait)
        if self.rate is not None:
            level = self._level_at(now)
            if level < 1.0:
                wait = max(wait, max(0.0, self._updated - now) + (1.0 - level) / self.rate)
        return max(0.0, wait)

    def grant(self, ticket: int, now: float) -> None:
        if self.probing:
            self._probe = ticket
        elif self.rate is not None:
            self._level = self._level_at(now) - 1.0
            self._updated = max(now, self._updated)

    def answered(self, ticket: int, now: float) -> None:
        """Request ``ticket`` was answered (not with a 429)."""
        self._answers.append(now)
        if ticket == self._probe:
            self._probe = None
        self.cautious_until = 0.0
        if self.probing:
            if ticket > self._decided:  # sent after the decision: the endpoint admits again
                self.probing = False
                self.probes_refused = 0
                self._level, self._updated = 0.0, now
        elif self.rate is not None:
            self.rate += self._step / self.rate

    def limited(
        self, ticket: int, issued: int, now: float, retry_after: float | None, granted_at: float | None = None
    ) -> bool:
        """Request ``ticket`` (granted at ``granted_at``, default ``now``) got a 429; ``issued`` is the last ticket
        granted so far. Returns whether the 429 is taken as a rate signal (else it is a sprinkle, left to the
        retries and the concurrency window)."""
        if ticket == self._probe:
            self._probe = None
        if ticket <= self._decided:
            return True  # granted before the last decision: that burst already counted
        refused = self._refused
        refused.append(ticket)
        wall = len(refused) == self.detect and refused[0] > issued - self.outcomes
        if self.rate is None and not self.probing and not wall:
            round_trip = 0.0 if granted_at is None else max(0.0, now - granted_at)
            self.cautious_until = max(self.cautious_until, now + min(0.05, 2.0 * round_trip))
            return False
        self._decide(issued, now, retry_after)
        return True

    def release(self, ticket: int) -> None:
        """Request ``ticket`` ended without a rate outcome (a transport error, a 5xx, a cancellation)."""
        if ticket == self._probe:
            self._probe = None

    def _decide(self, issued: int, now: float, retry_after: float | None) -> None:
        hold = self.backoff if retry_after is None else retry_after
        if self.probing:  # a probe was refused: wait longer, the rate tells nothing while nothing is admitted
            self.probes_refused += 1
            hold = max(hold, self.probe_growth * (now - self._refused_since))
        else:
            before = self.rate if self.rate is not None else self._measured(now)
            floor = 1.0 / max(hold, 1e-3)
            after = floor if before is None else max(floor, self.decrease * before)
            if before is not None and after >= before:
                after = before  # never raised by a cut
            self._step = max((before or after) - after, after) / self.recovery
            self.rate = after
            self.probing = True
            self.cautious_until = 0.0
            self._refused_since = now
            self.cuts += 1
        self.hold_until = max(self.hold_until, now + hold)
        self._level, self._updated = 0.0, self.hold_until
        self._decided = issued

    def _measured(self, now: float) -> float | None:
        """Answers per second over the last ``horizon`` seconds (longer if that holds fewer than 8 answers), not
        counting time before the first grant: answers come in clumps, so a short span would overstate it."""
        answers = self._answers
        if len(answers) < 2:
            return None
        span = min(max(self.horizon, now - answers[-min(8, len(answers))]), now - self.started)
        if span <= 0:
            return None
        start = now - span
        return sum(1 for t in answers if t >= start) / span

    def _level_at(self, now: float) -> float:
        assert self.rate is not None
        if now <= self._updated:
            return self._level
        return min(max(1.0, self.rate), self._level + (now - self._updated) * self.rate)


class _Turnstile:
    """One holder at a time, first come first served, except that retries go before fresh requests."""

    def __init__(self) -> None:
        self.busy = False
        self._queue = WaitQueue()

    @property
    def free(self) -> bool:
        return not self.busy

    async def enter(self, retry: bool) -> None:
        if not self.busy:
            self.busy = True
            return
        await self._queue.wait(retry, give_back=self.leave)  # the turn is handed over by leave()

    def leave(self) -> None:
        if not self._queue.hand_over():
            self.busy = False


class LearnedRateLimiter:
    """The learned limits of one client on one event loop (see the module docstring).

    The engine calls :meth:`acquire` before each attempt and then exactly one of :meth:`answered` (any answer
    but a 429), :meth:`limited` (a 429) or :meth:`settle` (no answer, or an error status). ``backoff`` is the
    hold after a 429 without ``Retry-After``; ``stats`` (if given) counts the pauses (the times the sending
    stopped: a budget spent, a hold after 429s; not the waits of a paced rate) and the rate cuts.
    """

    def __init__(self, *, backoff: float = 0.25, clock: Clock = monotonic, stats: ClientStats | None = None) -> None:
        self.controller = RateController(backoff=backoff)
        self.quotas = {kind: Quota() for kind in KINDS}
        self.stats = stats if stats is not None else ClientStats()
        self.last_answer: float | None = None
        self._clock = clock
        self._issued = 0
        self._tokens_issued = 0.0
        self._headers_seen = False
        self._stopped = False  # the sending is stopped (counted once in stats.pauses until it resumes)
        self._turnstile = _Turnstile()
        self._changed = asyncio.Event()

    @property
    def rate(self) -> float | None:
        """The learned request rate per second (None: none learned)."""
        return self.controller.rate

    def answered_ago(self) -> float | None:
        """Seconds since the endpoint last answered a request of this client (None: never)."""
        return None if self.last_answer is None else self._clock() - self.last_answer

    def wait_time(self, tokens: float = 0) -> float:
        """Seconds a request costing ``tokens`` would wait now (``inf``: until an outcome is known)."""
        now = self._clock()
        wait = self.controller.delay(now)
        if self._headers_seen and wait < math.inf:
            requests, token_quota = self.quotas["requests"], self.quotas["tokens"]
            wait = max(wait, requests.delay(self._issued, 1, now), token_quota.delay(self._tokens_issued, tokens, now))
        return wait

    def _held(self, tokens: float) -> bool:
        """Whether the wait is a stop (a hold after 429s, probing, a spent budget) rather than the paced rate."""
        now = self._clock()
        controller = self.controller
        if controller.probing or controller.hold_until > now:
            return True
        requests, token_quota = self.quotas["requests"], self.quotas["tokens"]
        return requests.delay(self._issued, 1, now) > 0 or token_quota.delay(self._tokens_issued, tokens, now) > 0

    async def acquire(self, tokens: float = 0, retry: bool = False) -> Permit:
        """Wait until every learned limit lets one more request (of ~``tokens``) go, and take it."""
        turnstile = self._turnstile
        if turnstile.free and ((self.controller.idle and not self._headers_seen) or self.wait_time(tokens) <= 0):
            return self._grant(tokens)
        await turnstile.enter(retry)
        try:
            delay = self.wait_time(tokens)
            if delay > 0 and not self._stopped and self._held(tokens):
                self._stopped = True
                self.stats.pauses += 1
            while delay > 0:
                self._changed.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), None if delay == math.inf else delay)
                delay = self.wait_time(tokens)
            return self._grant(tokens)
        finally:
            turnstile.leave()

    def answered(self, permit: Permit, headers: Mapping[str, str]) -> None:
        now = self._clock()
        self.last_answer = now
        self._read(permit, headers, now)
        self.controller.answered(permit.ticket, now)
        self._notify()

    def limited(self, permit: Permit, headers: Mapping[str, str], retry_after: float | None) -> bool:
        """A 429. Returns whether it is explained by the learned limits (a spent budget, a learned rate) rather
        than a stray 429 the concurrency window should hear about."""
        now = self._clock()
        if self._read(permit, headers, now):
            self.controller.release(permit.ticket)
            explained = True
        else:
            cuts = self.controller.cuts
            explained = self.controller.limited(permit.ticket, self._issued, now, retry_after, permit.at)
            self.stats.rate_cuts += self.controller.cuts - cuts
        self._notify()
        return explained

    def settle(self, permit: Permit) -> None:
        """The attempt ended without telling anything about the rate (no answer, an error status)."""
        self.controller.release(permit.ticket)
        self._notify()

    def _grant(self, tokens: float) -> Permit:
        self._issued += 1
        self._tokens_issued += tokens
        if not self.controller.probing:  # a probe does not end the stop it probes
            self._stopped = False
        now = self._clock()
        if self._issued == 1:
            self.controller.started = now
        if not self.controller.idle:
            self.controller.grant(self._issued, now)
        return Permit(self._issued, self._tokens_issued, now)

    def _read(self, permit: Permit, headers: Mapping[str, str], now: float) -> bool:
        """Take the ``x-ratelimit-*`` readings of an answer; True if one says its budget is spent."""
        seen, spent = read_headers(self.quotas, permit.ticket, permit.tokens, headers, now)
        self._headers_seen = self._headers_seen or seen
        return spent

    def _notify(self) -> None:
        if self._turnstile.busy:
            self._changed.set()
