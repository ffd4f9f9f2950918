"""``max_concurrency: auto``: the tuner settles where a batching server's goodput stops rising, with its latency
still near an unloaded request's; end to end against FakeLLMServer's load model (``testing.ServerLoad``)."""

from __future__ import annotations

import asyncio
import statistics

import pytest

from curator_synth import AsyncOpenAIClient
from curator_synth.clients.autotune import AUTO_CEILING, ConcurrencyTuner
from curator_synth.clients.settings import ClientSettings
from curator_synth.errors import ConfigError
from curator_synth.testing import FakeLLMServer, Fixed, ServerLoad


def _served(concurrency: int, batch: int = 32, latency: float = 0.2, slowdown: float = 0.5) -> float:
    """Seconds a request takes at ``concurrency`` in flight on ServerLoad's model (queue included)."""
    running = min(concurrency, batch)
    return latency * (1 + slowdown * running / batch) * max(1.0, concurrency / batch)


def _settle(tuner: ConcurrencyTuner, model: object, rounds: int) -> list[int]:
    limits = []
    for _ in range(rounds):
        for _ in range(max(tuner.min_round, tuner.limit)):
            tuner.observe(model(tuner.limit))  # type: ignore[operator]
        limits.append(tuner.limit)
    return limits


def test_the_tuner_settles_between_the_batch_and_the_latency_tolerance() -> None:
    tuner = ConcurrencyTuner()
    limits = _settle(tuner, _served, 60)
    assert limits[0] > 2  # grows from its start while latency stays flat
    settled = limits[-20:]
    assert min(settled) >= 0.8 * 32, limits  # goodput within 10 % of the best needs >= ~0.86 of the batch
    assert _served(max(settled)) <= 2 * _served(1), limits  # the latency within twice an unloaded request's


def test_the_tuner_backs_off_when_the_endpoint_slows_down() -> None:
    tuner = ConcurrencyTuner()
    settled = _settle(tuner, _served, 40)[-1]
    slower = _settle(tuner, lambda c: _served(c, batch=8), 40)  # the server now batches 8
    assert slower[-1] < settled / 2, slower
    assert slower[-1] <= 2 * 8


def test_auto_is_a_setting_with_a_ceiling() -> None:
    settings = ClientSettings(max_concurrency="auto")
    assert (settings.max_concurrency, settings.autotune) == (AUTO_CEILING, True)
    assert ClientSettings(max_concurrency=64).autotune is False
    with pytest.raises(ConfigError, match="max_concurrency"):
        ClientSettings(max_concurrency="fast")


async def test_a_client_with_auto_finds_a_batching_servers_capacity() -> None:
    load = ServerLoad(batch=24, latency=0.1, slowdown=0.5)
    with FakeLLMServer(Fixed("ok"), latency=load) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="sk-t", max_concurrency="auto") as client:
            prompts = [[{"role": "user", "content": f"q{i}"}] for i in range(1500)]
            answers = await asyncio.gather(*(client.query_model(messages=m, model="m") for m in prompts))
            tuner = client._engine.window.tuner  # type: ignore[union-attr]
        stats = server.stats()
    assert answers == [["ok"]] * 1500
    assert tuner is not None
    assert 0.8 * 24 <= tuner.limit <= 2 * 24, tuner.history  # >= ~0.86 of the batch keeps 90 % of the goodput
    assert stats["max_in_flight"] <= 3 * 24  # far from the 256 of its ceiling (a ramp may overshoot briefly)
    late = load.times[len(load.times) // 2 :]  # once settled: queue + service at the server
    assert statistics.median(late) <= 2 * 0.1 * (1 + 0.5 / 24), tuner.history
