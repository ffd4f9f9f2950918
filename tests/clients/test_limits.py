"""Adaptive window, token buckets and rate-limit headers."""

from __future__ import annotations

import asyncio
import time

import pytest

from curator_synth.clients import AsyncOpenAIClient, RetryPolicy
from curator_synth.clients.config import RateLimits
from curator_synth.clients.limits import AdaptiveWindow, RateLimiter, TokenBucket, parse_duration
from curator_synth.testing import Echo, FakeLLMServer, Faults


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1.5s", 1.5), ("2", 2.0), ("1h2m3s", 3723.0), ("", None),
     ("soon", None), ("5x", None)],
)  # fmt: skip
def test_parse_duration(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


async def test_window_never_exceeds_and_serves_in_order() -> None:
    window = AdaptiveWindow(3)
    peak = 0
    order: list[int] = []

    async def worker(i: int) -> None:
        nonlocal peak
        await window.acquire()
        try:
            peak = max(peak, window.in_flight)
            order.append(i)
            await asyncio.sleep(0.01)
        finally:
            window.release()

    await asyncio.gather(*(worker(i) for i in range(20)))
    assert peak == 3
    assert order == list(range(20))
    assert window.in_flight == 0


async def test_retries_go_before_fresh_requests() -> None:
    window = AdaptiveWindow(1)
    await window.acquire()
    served: list[str] = []

    async def take(name: str, retry: bool) -> None:
        await window.acquire(retry=retry)
        served.append(name)
        window.release()

    fresh = asyncio.ensure_future(take("fresh", False))
    await asyncio.sleep(0)
    retried = asyncio.ensure_future(take("retry", True))
    await asyncio.sleep(0)
    window.release()
    await asyncio.gather(fresh, retried)
    assert served == ["retry", "fresh"]


async def test_lower_priorities_go_first_and_keep_their_order() -> None:
    from curator_synth.clients.limits import request_priority

    window = AdaptiveWindow(1)
    await window.acquire()
    served: list[str] = []

    async def take(name: str, priority: int) -> None:
        with request_priority(priority):  # as a streamed chain sets it per stage; the engine passes it on
            from curator_synth.clients.limits import current_priority

            await window.acquire(priority=current_priority())
        served.append(name)
        window.release()

    waiters = []
    for name, priority in [("judge-a", 1), ("answer-a", 0), ("judge-b", 1), ("answer-b", 0)]:
        waiters.append(asyncio.ensure_future(take(name, priority)))
        await asyncio.sleep(0)
    retried = asyncio.ensure_future(window.acquire(retry=True))
    await asyncio.sleep(0)
    window.release()
    await retried  # a retry still goes before every fresh request
    window.release()
    await asyncio.gather(*waiters)
    assert served == ["answer-a", "answer-b", "judge-a", "judge-b"]
    assert window.in_flight == 0


async def test_cancelled_waiter_does_not_leak_a_slot() -> None:
    window = AdaptiveWindow(1)
    await window.acquire()
    waiter = asyncio.ensure_future(window.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    window.release()
    assert window.in_flight == 0
    await asyncio.wait_for(window.acquire(), 1)


def test_aimd_halves_on_a_429_storm_and_recovers() -> None:
    window = AdaptiveWindow(64, cooldown=0.0)
    for _ in range(63):
        window.record(False)
    assert window.limit == 64
    for _ in range(20):  # 20 of the last 64 outcomes are 429s (> 20 %)
        window.record(True)
    assert window.limit < 64
    assert window.decreases >= 1
    low = window.limit
    for _ in range(2000):
        window.record(False)
    assert window.limit == 64 > low


def test_a_sprinkle_of_429s_does_not_shrink_the_window() -> None:
    window = AdaptiveWindow(64, cooldown=0.0)
    for i in range(5000):
        window.record(i % 20 == 0)  # 5 % rate limited
    assert window.limit == 64
    assert window.decreases == 0


def test_first_outcomes_alone_do_not_shrink_it() -> None:
    window = AdaptiveWindow(256, cooldown=0.0)
    for _ in range(20):  # instant 429s arrive before any answer; the ring is not full yet
        window.record(True)
    assert window.limit == 256


async def test_token_buckets_pace_requests() -> None:
    limiter = RateLimiter(RateLimits(rpm=600))  # 10 per second, bucket of 10
    start = time.monotonic()
    for _ in range(15):
        await limiter.acquire(0)
    assert time.monotonic() - start >= 0.45  # the 5 beyond the bucket wait ~0.1 s each


def test_token_bucket_reconciliation() -> None:
    bucket = TokenBucket(6000)  # 100 per second
    assert bucket.take(150) > 0  # in debt: must wait
    bucket.give_back(150)  # the request turned out to cost nothing
    assert bucket.take(50) == 0


async def test_client_rpm_limit_spaces_requests() -> None:
    with FakeLLMServer(responder=Echo()) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, rpm=1200) as client:  # 20 per second
            start = time.monotonic()
            await asyncio.gather(
                *(client.query_model(messages=[{"role": "user", "content": str(i)}], model="m") for i in range(40))
            )
            elapsed = time.monotonic() - start
    assert elapsed >= 0.9  # 40 requests, 20 in the first second's bucket, then 20 per second


async def test_429_storm_is_learned_as_a_rate_and_nothing_is_lost() -> None:
    """Half the answers are 429s: the client cuts its learned rate (the 429s of requests already in flight
    count once), every request ends answered, and every 429 was retried."""
    with FakeLLMServer(responder=Echo(), faults=Faults(rate_limit=0.5, retry_after=0.01, seed=1)) as server:
        retry = RetryPolicy(max_retries=30, initial_backoff=0.01, max_backoff=0.1)
        async with AsyncOpenAIClient(base_url=server.base_url, max_concurrency=32, retry=retry) as client:
            answers = await asyncio.gather(
                *(client.query_model(messages=[{"role": "user", "content": str(i)}], model="m") for i in range(200))
            )
            assert answers == [[str(i)] for i in range(200)]
            assert client.stats.failures == {}
            assert client.stats.rate_cuts >= 1
            assert client.stats.rate_limited == server.stats()["faults"]["429"]
            assert client.stats.retries["RateLimitError"] == server.stats()["faults"]["429"]


async def test_ratelimit_headers_pause_the_client() -> None:
    with FakeLLMServer(responder=Echo(), rpm_limit=5) as server:
        retry = RetryPolicy(max_retries=0)
        async with AsyncOpenAIClient(base_url=server.base_url, max_concurrency=1, retry=retry) as client:
            for i in range(5):
                await client.query_model(messages=[{"role": "user", "content": str(i)}], model="m")
            # The fifth answer said x-ratelimit-remaining-requests: 0 with a reset in 60 s: the client waits for
            # the reset instead of sending a sixth request into a certain 429.
            limiter = client._engine.rate_limiter
            assert limiter is not None
            assert limiter.wait_time() > 50
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.query_model(messages=[{"role": "user", "content": "6"}], model="m"), 0.3)
            assert client.stats.pauses == 1
            assert server.stats()["requests"] == 5


async def test_backoff_does_not_hold_a_slot() -> None:
    """While one request waits out a long Retry-After, the others flow through the window of 1."""
    with FakeLLMServer(responder=Echo(), faults=Faults(script=["429"], retry_after=1.0)) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, max_concurrency=1) as client:
            start = time.monotonic()
            first = asyncio.ensure_future(client.query_model(messages=[{"role": "user", "content": "a"}], model="m"))
            await asyncio.sleep(0.05)
            others = await asyncio.gather(
                *(client.query_model(messages=[{"role": "user", "content": str(i)}], model="m") for i in range(10))
            )
            assert time.monotonic() - start < 0.8  # done long before the backed-off request returns
            assert others == [[str(i)] for i in range(10)]
            assert await first == ["a"]
            assert time.monotonic() - start >= 1.0
