"""query_many / bounded_map: lazy intake, bounded tasks, ordered or as-completed, per-item failures."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Iterator

import pytest

from curator_synth.clients import AsyncOpenAIClient, OpenAIClient, QueryRequest, RetryPolicy, bounded_map
from curator_synth.errors import ConfigError, CuratorSynthError, ServerError
from curator_synth.testing import Echo, FakeLLMServer, Faults


def ask(i: int) -> QueryRequest:
    return QueryRequest([{"role": "user", "content": f"q{i}"}], "m")


async def test_ordered_results_come_in_input_order() -> None:
    async def jitter(i: int) -> int:
        await asyncio.sleep(random.random() / 100)
        return i * 2

    results = [r async for r in bounded_map(jitter, range(200), max_pending=16, ordered=True)]
    assert [r.index for r in results] == list(range(200))
    assert [r.value for r in results] == [2 * i for i in range(200)]


async def test_unordered_results_carry_their_index() -> None:
    async def slow_first(i: int) -> int:
        await asyncio.sleep(0.05 if i == 0 else 0)
        return i

    results = [r async for r in bounded_map(slow_first, range(10), max_pending=10)]
    assert results[-1].index == 0  # the slow one finished last
    assert sorted(r.index for r in results) == list(range(10))
    assert all(r.value == r.index for r in results)


async def test_intake_is_lazy_and_tasks_are_bounded() -> None:
    pulled = 0
    peak_tasks = 0

    def endless() -> Iterator[int]:
        nonlocal pulled
        for i in itertools.count():
            pulled += 1
            yield i

    async def work(i: int) -> int:
        nonlocal peak_tasks
        peak_tasks = max(peak_tasks, len(asyncio.all_tasks()))
        await asyncio.sleep(0)
        return i

    seen = 0
    async for _ in bounded_map(work, endless(), max_pending=32, ordered=True):
        seen += 1
        if seen == 5000:
            break
    assert pulled <= 5000 + 32 + 4 * 32  # never far ahead of consumption
    assert peak_tasks <= 32 + 1  # + the test's own task


async def test_failures_are_results_and_bugs_propagate() -> None:
    async def flaky(i: int) -> int:
        if i % 3 == 0:
            raise ServerError("nope", status_code=500, request=None)  # type: ignore[arg-type]
        return i

    results = [r async for r in bounded_map(flaky, range(9), max_pending=4, ordered=True)]
    assert [r.ok for r in results] == [False, True, True] * 3
    assert isinstance(results[0].error, CuratorSynthError)

    async def buggy(i: int) -> int:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        [r async for r in bounded_map(buggy, range(3), max_pending=2)]


async def test_breaking_out_cancels_pending_work() -> None:
    started: list[int] = []

    async def hang(i: int) -> int:
        started.append(i)
        if i > 0:
            await asyncio.sleep(30)
        return i

    stream = bounded_map(hang, range(100), max_pending=8, ordered=False)
    async for result in stream:
        assert result.index == 0
        break
    await stream.aclose()  # type: ignore[attr-defined]
    await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) == 1
    assert len(started) <= 8


def test_max_pending_is_validated() -> None:
    with pytest.raises(ConfigError):
        asyncio.run(anext(bounded_map(asyncio.sleep, [1], max_pending=0)))  # type: ignore[arg-type]


async def test_query_many_against_the_server_with_faults() -> None:
    faults = Faults(rate_limit=0.05, retry_after=0.01, server_error=0.05, drop=0.02, malformed=0.02, seed=7)
    with FakeLLMServer(responder=Echo(), latency=0.005, faults=faults) as server:
        retry = RetryPolicy(max_retries=10, initial_backoff=0.005, max_backoff=0.05)
        async with AsyncOpenAIClient(base_url=server.base_url, max_concurrency=16, retry=retry) as client:
            results = [r async for r in client.query_many((ask(i) for i in range(400)), ordered=True)]
        assert [r.index for r in results] == list(range(400))
        assert all(r.ok for r in results)
        assert [r.value for r in results] == [[f"q{i}"] for i in range(400)]
        assert server.stats()["max_in_flight"] <= 16


async def test_query_many_reports_exhausted_retries_per_item() -> None:
    with FakeLLMServer(responder=Echo(), faults=Faults(script=["500", "500"])) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, max_concurrency=1, max_retries=1) as client:
            results = [r async for r in client.query_many([ask(0), ask(1), ask(2)], max_pending=1)]
    assert [r.ok for r in results] == [False, True, True]
    assert isinstance(results[0].error, ServerError)


def test_sync_query_many_and_reward_requests() -> None:
    with FakeLLMServer(responder=Echo()) as server, OpenAIClient(base_url=server.base_url) as client:
        results = list(client.query_many(ask(i) for i in range(50)))
        assert [r.value for r in results] == [[f"q{i}"] for i in range(50)]
        reward = next(iter(client.query_many([QueryRequest([{"role": "user", "content": "x"}], "m", reward=True)])))
        assert reward.ok is False  # Echo is no reward model
        assert "not a reward model" in str(reward.error)
        # an early break closes the stream cleanly
        for result in client.query_many(ask(i) for i in range(1000)):
            assert result.index == 0
            break
