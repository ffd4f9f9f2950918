"""Latency models for :class:`~curator_synth.testing.FakeLLMServer` (its ``latency=``): heavy-tailed service times
as real endpoints show them, drawn from each request's content so that two runs sending the same requests see the
same latencies, whatever their order (:class:`LogNormalLatency`); and a server under load (:class:`ServerLoad`):
a batch limit, requests beyond it queued, each one slower the fuller the batch, as vLLM serves."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

from curator_synth.errors import ConfigError
from curator_synth.testing.responders import FakeRequest

__all__ = ["Latency", "LogNormalLatency", "ServerLoad", "check_latency"]

Latency = float | tuple[float, float] | Callable[[FakeRequest], float]
"""Seconds to wait before answering: fixed, uniform in ``(low, high)`` (seeded), or computed per request."""


def check_latency(latency: Any) -> Latency:
    """Validate a latency spec; returns it normalised (a float or a ``(low, high)`` tuple, or the callable)."""
    if callable(latency):
        function: Callable[[FakeRequest], float] = latency
        return function
    if isinstance(latency, (tuple, list)) and len(latency) == 2:
        low, high = (_seconds(v) for v in latency)
        if low > high:
            raise ConfigError(f"latency range must be (low, high) with low <= high, got {latency!r}")
        return (low, high)
    return _seconds(latency)


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < float("inf"):
        raise ConfigError(f"latency must be seconds >= 0, a (low, high) pair or a callable, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class LogNormalLatency:
    """Seconds drawn from a lognormal distribution: ``median`` seconds, shape ``sigma`` (1.0: a mean of ~1.65x
    the median, one request in a hundred ~10x it). The draw is a hash of the request's body and ``seed``."""

    median: float = 0.4
    sigma: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not (self.median > 0 and self.sigma >= 0):
            raise ConfigError(f"LogNormalLatency needs median > 0 and sigma >= 0, got {self.median}, {self.sigma}")

    @property
    def mean(self) -> float:
        return self.median * math.exp(self.sigma**2 / 2)

    def __call__(self, request: FakeRequest) -> float:
        text = json.dumps([self.seed, request.body, request.choice_index], sort_keys=True, default=str)
        digest = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
        quantile = (digest + 0.5) / 2**64
        return self.median * math.exp(self.sigma * NormalDist().inv_cdf(quantile))


@dataclass
class ServerLoad:
    """A server whose latency rises with its load: at most ``batch`` requests are served at once, the others wait
    in arrival order; a request admitted with ``running`` requests in the batch (itself included) takes
    ``latency * (1 + slowdown * running / batch)`` seconds. Its goodput rises with the requests in flight up to
    ``batch`` (``batch / (latency * (1 + slowdown))`` requests per second), then stays while the wait grows.

    Give it as ``FakeLLMServer(latency=ServerLoad(...))``; ``waited``/``served`` count the seconds spent queued and
    being served (the server's ``latency_seconds`` counts the served ones), ``times`` each request's queue plus
    service seconds (in thread mode the test reads them; a process-mode server keeps its own copy)."""

    batch: int = 32
    latency: float = 0.2
    slowdown: float = 0.5
    running: int = field(default=0, init=False)
    waited: float = field(default=0.0, init=False)
    served: float = field(default=0.0, init=False)
    times: list[float] = field(default_factory=list, init=False, repr=False)
    _slots: asyncio.Semaphore | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.batch < 1 or self.latency < 0 or self.slowdown < 0:
            raise ConfigError(f"ServerLoad needs batch >= 1, latency >= 0 and slowdown >= 0, got {self!r}")

    def __call__(self, request: FakeRequest) -> float:
        """No latency of its own before :meth:`serve` (the server awaits that instead)."""
        return 0.0

    async def serve(self) -> float:
        """Queue for a place in the batch, then be served; the seconds served."""
        loop = asyncio.get_running_loop()
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.batch)
        queued = loop.time()
        async with self._slots:
            self.waited += loop.time() - queued
            self.running += 1
            seconds = self.latency * (1 + self.slowdown * self.running / self.batch)
            try:
                await asyncio.sleep(seconds)
            finally:
                self.running -= 1
        self.served += seconds
        self.times.append(loop.time() - queued)
        return seconds
