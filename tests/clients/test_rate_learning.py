"""The learned rate limiter: its logic with a fake clock, 429 patience, and outcomes against rate-limited servers.

The outcome tests run the issue's scenario (two windows' worth of requests against a rolling-window limit) at a
small scale: a 5 s window instead of 60 s. Their time bound is an outcome bound against the ideal measured in
the same test (one window, then one unlimited window's worth of requests), generous for a loaded 2-core machine.
"""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from curator_synth.clients import AsyncOpenAIClient, QueryRequest, RetryPolicy
from curator_synth.clients.quota import Quota
from curator_synth.clients.rate import LearnedRateLimiter, Permit, RateController
from curator_synth.errors import ConfigError, RateLimitError, RequestSummary, ServerError
from curator_synth.testing import Echo, FakeLLMServer, Faults

WALL = RateController().detect  # 429s among the last 20 grants that make a wall (10)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def rate_limit_error() -> RateLimitError:
    return RateLimitError("slow down", status_code=429, request=RequestSummary.create("POST", "http://x/v1"))


def headers(remaining: int, limit: int = 10, reset: str = "6s", kind: str = "requests") -> dict[str, str]:
    return {
        f"x-ratelimit-limit-{kind}": str(limit),
        f"x-ratelimit-remaining-{kind}": str(remaining),
        f"x-ratelimit-reset-{kind}": reset,
    }


# ------------------------------------------------------------------------------------------------- Quota
def test_a_reading_is_corrected_by_the_grants_after_it() -> None:
    quota = Quota()
    assert quota.read(ticket=5, granted_at=5, limit=10, remaining=5, reset=60, now=0)
    assert quota.available(granted=8, now=1) == 2  # requests 6..8 are not in the server's count yet
    assert quota.delay(granted=8, cost=1, now=1) == 0
    assert quota.delay(granted=10, cost=1, now=1) == pytest.approx(59)  # spent: wait for the reset
    assert quota.available(granted=10, now=61) == 5  # back to the limit, less what was granted after the reading


def test_readings_of_older_requests_are_ignored_and_stale_ones_expire() -> None:
    quota = Quota()
    quota.read(ticket=9, granted_at=9, limit=10, remaining=0, reset=6, now=0)
    assert not quota.read(ticket=4, granted_at=4, limit=10, remaining=5, reset=6, now=0.5)  # answered late
    assert quota.available(granted=9, now=1) == 0
    quota.read(ticket=9, granted_at=9, limit=10, remaining=0, reset=6, now=0)
    assert quota.available(granted=30, now=7) < 0  # stale and pessimistic after the reset ...
    assert quota.available(granted=30, now=12.1) == math.inf  # ... so it expires one reset period later


def test_a_cost_larger_than_the_whole_budget_goes_when_the_budget_is_full() -> None:
    quota = Quota()
    quota.read(ticket=1, granted_at=0, limit=100, remaining=100, reset=60, now=0)
    assert quota.delay(granted=0, cost=5000, now=1) == 0


# ------------------------------------------------------------------------------------------ RateController
def outcomes(controller: RateController, pattern: str, now: float, start: int = 1) -> int:
    """Feed answers ("o") and 429s ("x") for tickets ``start``...; returns the next ticket."""
    for offset, kind in enumerate(pattern):
        ticket = start + offset
        controller.grant(ticket, now)
        if kind == "o":
            controller.answered(ticket, now)
        else:
            controller.limited(ticket, ticket, now, 1.0)
    return start + len(pattern)


def test_a_sprinkle_of_429s_is_not_a_rate() -> None:
    controller = RateController()
    ticket = 1
    for second in range(50):
        ticket = outcomes(controller, "o" * 19 + "x", now=float(second), start=ticket)  # 5 % 429s
    assert controller.rate is None
    assert controller.cuts == 0
    controller.answered(ticket, 50.0)
    assert controller.idle  # the caution of the last 429 ended with the next answer


def test_429s_that_come_back_before_the_answers_are_not_taken_for_a_wall() -> None:
    """256 requests sent at once, 13 of them (5 %, spread) refused at once: the first 13 outcomes are 429s, but
    they are 13 of 256 grants, not 10 of the last 20."""
    controller = RateController()
    refused = list(range(7, 257, 20))[:13]
    for ticket in refused:
        assert not controller.limited(ticket, issued=256, now=0.0, retry_after=0.5)
    assert controller.rate is None
    assert controller.cuts == 0


def test_a_429_makes_the_client_cautious_for_two_round_trips_or_until_an_answer() -> None:
    controller = RateController()
    assert not controller.limited(1, issued=3, now=10.0, retry_after=1.0, granted_at=9.999)  # not a rate
    assert controller.delay(10.0) == pytest.approx(0.002)  # the other 429s of a wall would be back by then
    assert controller.delay(10.002) == 0
    assert not controller.limited(2, issued=3, now=10.0, retry_after=1.0, granted_at=9.999)
    controller.answered(3, 10.001)  # a request answered: it was a sprinkle
    assert controller.delay(10.001) == 0
    assert controller.idle


def test_a_wall_of_429s_cuts_the_rate_once_and_holds_for_retry_after() -> None:
    controller = RateController()
    controller.started = 0.0
    ticket = outcomes(controller, "o" * 200, now=1.0)  # 200 answers in the first second
    for number in range(WALL):  # 10 of the last 20 requests granted (tickets up to ticket + 11)
        assert controller.limited(ticket + number, ticket + 11, 1.0, retry_after=1.0) == (number == WALL - 1)
    assert controller.cuts == 1
    assert controller.rate == pytest.approx(100, rel=0.05)  # half the measured 200/s
    assert controller.probing
    assert controller.hold_until == pytest.approx(2.0)
    for late in range(ticket + WALL, ticket + 12):  # granted before the decision: the same burst, counted once
        assert controller.limited(late, ticket + 11, 1.01, retry_after=1.0)
    assert controller.cuts == 1
    assert controller.hold_until == pytest.approx(2.0)


def probing(controller: RateController, reopens: float, retry_after: float = 1.0) -> tuple[int, float]:
    """Probe an endpoint refusing everything until ``reopens``; returns (probes refused, when it was seen open)."""
    ticket, refused = 1000, 0
    now = controller.hold_until
    while True:
        assert controller.delay(now) == 0
        controller.grant(ticket, now)
        assert controller.delay(now) == math.inf  # nothing else while the probe is out
        if now >= reopens:
            controller.answered(ticket, now)
            return refused, now
        controller.limited(ticket, ticket, now, retry_after)
        refused += 1
        now = controller.hold_until
        ticket += 1


def test_probes_find_a_reopening_soon_and_cost_few_429s() -> None:
    controller = RateController()
    controller.started = 0.0
    outcomes(controller, "o" * 240, now=0.75)
    for number in range(WALL):
        controller.limited(241 + number, 260, 0.75, retry_after=1.0)
    refused, seen = probing(controller, reopens=60.0)
    assert refused <= 30  # an endpoint shut for a minute costs ~26 probes ...
    assert 60.0 <= seen <= 60.0 + 0.12 * 60  # ... and is seen open at most 12 % late
    assert not controller.probing
    assert controller.delay(seen) == pytest.approx(1 / controller.rate)  # no burst into a half-open window


def test_a_short_closure_is_probed_at_retry_after() -> None:
    controller = RateController()
    outcomes(controller, "o" * 20, now=0.1)
    for number in range(WALL):
        controller.limited(21 + number, 30, 0.1, retry_after=0.5)
    refused, seen = probing(controller, reopens=1.5, retry_after=0.5)
    assert (refused, seen) == (2, pytest.approx(1.6))


def test_answers_of_requests_sent_before_the_decision_do_not_end_the_probing() -> None:
    controller = RateController()
    outcomes(controller, "o" * 20, now=0.1)
    for number in range(WALL):
        controller.limited(21 + number, 40, 0.1, retry_after=1.0)
    controller.answered(35, 0.2)  # admitted before the wall, answered after it
    assert controller.probing


def test_once_a_rate_is_known_every_429_counts_and_successes_raise_it_again() -> None:
    controller = RateController()
    controller.rate = 10.0
    controller.limited(ticket=1, issued=1, now=0.0, retry_after=0.2)
    assert controller.rate == 5.0
    assert controller.cuts == 1
    controller.grant(2, 0.2)
    controller.answered(2, 0.2)  # the probe: the endpoint admits again
    for number in range(3, 103):
        controller.grant(number, 0.3)
        controller.answered(number, 0.3)
    assert controller.rate > 5.0
    controller.limited(ticket=103, issued=103, now=1.0, retry_after=1.0)
    assert controller.cuts == 2


def test_the_rate_is_never_cut_below_one_request_per_retry_after() -> None:
    controller = RateController()
    controller.rate = 3.0
    controller.limited(ticket=1, issued=1, now=0.0, retry_after=0.5)
    assert controller.rate == 2.0  # not 1.5: the endpoint said one request per 0.5 s is fine


# ------------------------------------------------------------------------------------ LearnedRateLimiter
async def test_nothing_learned_means_nothing_waits() -> None:
    limiter = LearnedRateLimiter()
    permits = [await limiter.acquire() for _ in range(100)]
    assert [permit.ticket for permit in permits] == list(range(1, 101))
    for permit in permits:
        limiter.answered(permit, {})
    assert limiter.rate is None
    assert limiter.wait_time() == 0


async def test_headers_stop_the_sending_at_remaining_and_resume_at_the_reset() -> None:
    clock = FakeClock()
    limiter = LearnedRateLimiter(clock=clock)
    first = await limiter.acquire()
    others = [await limiter.acquire() for _ in range(3)]
    limiter.answered(first, headers(remaining=5))  # 3 more were granted after it: 2 left
    await limiter.acquire()
    await limiter.acquire()
    assert limiter.wait_time() == pytest.approx(6.0)
    clock.now += 6.0
    assert limiter.wait_time() == 0
    assert limiter.stats.rate_cuts == 0
    assert others[0].ticket == 2


async def test_token_headers_are_a_budget_too() -> None:
    clock = FakeClock()
    limiter = LearnedRateLimiter(clock=clock)
    permit = await limiter.acquire(tokens=300)
    limiter.answered(permit, headers(remaining=1000, limit=2000, reset="30s", kind="tokens"))
    await limiter.acquire(tokens=600)
    assert limiter.wait_time(tokens=300) == 0
    assert limiter.wait_time(tokens=500) == pytest.approx(30.0)


async def test_a_429_with_a_spent_budget_is_explained_by_the_headers() -> None:
    limiter = LearnedRateLimiter(clock=FakeClock())
    permit = await limiter.acquire()
    assert limiter.limited(permit, headers(remaining=0), retry_after=1.0)
    assert limiter.stats.rate_cuts == 0
    assert limiter.rate is None
    assert limiter.wait_time() == pytest.approx(6.0)


async def test_a_probe_in_flight_holds_the_others_until_its_outcome() -> None:
    limiter = LearnedRateLimiter(backoff=0.0)
    permits = [await limiter.acquire() for _ in range(20)]
    for permit in permits[:10]:
        limiter.answered(permit, {})
    for permit in permits[10:]:
        limiter.limited(permit, {}, retry_after=0.0)  # 10 of the last 20 grants: a wall
    assert limiter.stats.rate_cuts == 1
    probe = await limiter.acquire()
    waiting = asyncio.ensure_future(limiter.acquire())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    limiter.settle(probe)  # the probe failed without a rate outcome (e.g. a dropped connection)
    second_probe = await asyncio.wait_for(waiting, 1)
    blocked = asyncio.ensure_future(limiter.acquire())
    await asyncio.sleep(0.01)
    assert not blocked.done()
    limiter.answered(second_probe, {})  # admitted again: the probing ends
    await asyncio.wait_for(blocked, 1)
    assert not limiter.controller.probing


async def test_retries_go_before_fresh_requests_in_the_queue() -> None:
    limiter = LearnedRateLimiter(backoff=0.0)
    permits = [await limiter.acquire() for _ in range(WALL)]
    for permit in permits:
        limiter.limited(permit, {}, retry_after=0.0)
    probe = await limiter.acquire()
    order: list[str] = []

    async def take(name: str, retry: bool) -> Permit:
        permit = await limiter.acquire(retry=retry)
        order.append(name)
        return permit

    first = asyncio.ensure_future(take("first", False))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(take("second", False))
    await asyncio.sleep(0)
    retried = asyncio.ensure_future(take("retry", True))
    await asyncio.sleep(0)
    limiter.answered(probe, {})
    await asyncio.wait_for(asyncio.gather(first, second, retried), 1)
    assert order == ["first", "retry", "second"]  # "first" held the turn already: it is not overtaken mid-wait


# ---------------------------------------------------------------------------------------------- patience
def test_a_429_is_retried_by_time_while_the_endpoint_answers_others() -> None:
    policy = RetryPolicy(max_retries=2, rate_limit_patience=600)
    error = rate_limit_error()
    assert policy.should_retry(error, 50, rate_limited_for=59, answered_ago=59)
    assert not policy.should_retry(error, 2, rate_limited_for=59, answered_ago=None)  # never answered: counted
    assert not policy.should_retry(error, 2, rate_limited_for=601, answered_ago=1)  # patience spent
    assert not policy.should_retry(error, 2, rate_limited_for=5, answered_ago=700)  # nobody answered for long
    assert policy.should_retry(error, 1, rate_limited_for=0, answered_ago=None)  # attempts remain
    server_error = ServerError("boom", status_code=500, request=RequestSummary.create("POST", "http://x/v1"))
    assert not policy.should_retry(server_error, 2, rate_limited_for=0, answered_ago=0)  # by count, by type
    assert not RetryPolicy(max_retries=0, rate_limit_patience=0).should_retry(error, 0, answered_ago=0)
    with pytest.raises(ConfigError):
        RetryPolicy(rate_limit_patience=-1)


async def test_a_request_refused_more_often_than_max_retries_still_ends_answered() -> None:
    faults = Faults(script=[None] + ["429"] * 6, retry_after=0.01)
    with FakeLLMServer(responder=Echo(), faults=faults) as server:
        retry = RetryPolicy(max_retries=2, initial_backoff=0.01, max_backoff=0.05)
        async with AsyncOpenAIClient(base_url=server.base_url, retry=retry) as client:
            assert await client.query_model(messages=[{"role": "user", "content": "a"}], model="m") == ["a"]
            assert await client.query_model(messages=[{"role": "user", "content": "b"}], model="m") == ["b"]
            assert client.stats.retries["RateLimitError"] == 6
        server.set_faults(Faults(script=[None] + ["429"] * 6, retry_after=0.01))
        impatient = RetryPolicy(max_retries=2, initial_backoff=0.01, max_backoff=0.05, rate_limit_patience=0)
        async with AsyncOpenAIClient(base_url=server.base_url, retry=impatient) as client:
            assert await client.query_model(messages=[{"role": "user", "content": "c"}], model="m") == ["c"]
            with pytest.raises(RateLimitError):
                await client.query_model(messages=[{"role": "user", "content": "d"}], model="m")


# ------------------------------------------------------------------------------- outcomes, small scale
WINDOW, LIMIT, REQUESTS, CONCURRENCY, LATENCY = 5.0, 150, 300, 32, (0.03, 0.07)


async def drive(base_url: str, requests: int) -> tuple[int, float, AsyncOpenAIClient]:
    async with AsyncOpenAIClient(base_url=base_url, max_concurrency=CONCURRENCY) as client:
        started = time.monotonic()
        batch = (QueryRequest([{"role": "user", "content": f"request {i}"}], "m") for i in range(requests))
        answered = sum([result.ok async for result in client.query_many(batch, ordered=False)])
        return answered, time.monotonic() - started, client


@pytest.fixture(scope="module")
def one_window_unlimited() -> float:
    """Seconds this client takes for one window's worth of requests without a limit, on this machine now."""
    with FakeLLMServer(responder=Echo(), latency=LATENCY) as server:
        answered, wall, _ = asyncio.run(drive(server.base_url, LIMIT))
    assert answered == LIMIT
    return wall


@pytest.mark.parametrize(("send_headers", "max_share"), [(True, 0.02), (False, 0.10)], ids=["headers", "no-headers"])
def test_a_rolling_window_limit_is_learned(send_headers: bool, max_share: float, one_window_unlimited: float) -> None:
    server = FakeLLMServer(
        responder=Echo(),
        latency=LATENCY,
        rpm_limit=LIMIT,
        rate_window=WINDOW,
        rate_limit_headers=send_headers,
    )
    with server:
        answered, wall, client = asyncio.run(drive(server.base_url, REQUESTS))
        refused = server.stats()["rate_limited"]
    # Timing is the benchmark's business (benchmarks/rate_limits.py); the wall / ideal ratio is only reported here.
    ratio = wall / (WINDOW + one_window_unlimited)  # ideal: the first window at once, the second when it opens
    assert answered == REQUESTS, (ratio, client.stats.as_dict())
    assert client.stats.failures == {}
    assert refused / REQUESTS <= max_share, (ratio, client.stats.as_dict())


def test_a_flaky_gateway_is_not_taken_for_a_rate_limit() -> None:
    faults = Faults(rate_limit=0.05, retry_after=0.01, seed=3)
    with FakeLLMServer(responder=Echo(), faults=faults) as server:
        answered, _, client = asyncio.run(drive(server.base_url, 400))
    assert answered == 400
    assert client.stats.rate_cuts == 0
    assert client.stats.rate_limited > 0
