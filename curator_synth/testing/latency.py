"""Latency models for :class:`~curator_synth.testing.FakeLLMServer` (its ``latency=`` callable): heavy-tailed
service times as real endpoints show them, drawn from each request's content so that two runs sending the same
requests see the same latencies, whatever their order."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from statistics import NormalDist

from curator_synth.errors import ConfigError
from curator_synth.testing.responders import FakeRequest

__all__ = ["LogNormalLatency"]


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
