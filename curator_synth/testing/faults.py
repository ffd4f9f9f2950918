"""Fault injection and the server-side rate limiter of :class:`~curator_synth.testing.FakeLLMServer`.

:class:`Faults` is the frozen, validated description a user writes; :class:`FaultPlan` and
:class:`RollingRateLimiter` are the server's per-run state (script position, seeded random draws, the
rolling window), kept apart so a config object never changes while the server runs.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

from curator_synth.errors import ConfigError

__all__ = ["FAULT_KINDS", "FaultKind", "FaultPlan", "Faults", "RateDecision", "RollingRateLimiter"]

FaultKind = Literal["429", "500", "drop", "malformed", "truncate", "trickle", "error_body", "empty_choices"]

#: Every fault kind, in the order the random draw tests them (and the keys of ``stats()["faults"]``).
FAULT_KINDS: tuple[FaultKind, ...] = (
    "429",
    "500",
    "drop",
    "malformed",
    "truncate",
    "trickle",
    "error_body",
    "empty_choices",
)

_RATE_FIELDS = ("rate_limit", "server_error", "drop", "malformed", "truncate", "trickle", "error_body", "empty_choices")


@dataclass(frozen=True)
class Faults:
    """Which failures the server injects into ``/v1`` generation requests, and how often.

    Each rate is the probability that one request gets that fault (rates are exclusive: at most one fault
    per request, so they must sum to at most 1):

    - ``rate_limit``: HTTP 429 at once (no latency), with ``Retry-After: <retry_after>`` unless
      ``retry_after`` is None (a fractional value such as 0.5 is sent as ``0.5``).
    - ``server_error``: HTTP ``server_error_status`` (500 by default, e.g. 503) with an OpenAI error body.
    - ``drop``: the connection is closed without any HTTP response (clients raise a disconnect error).
    - ``malformed``: HTTP 200, ``application/json``, but the body is a JSON document cut in the middle.
    - ``truncate``: HTTP 200 with a valid body whose texts are cut to half their tokens,
      ``finish_reason="length"``.
    - ``trickle``: HTTP 200 and the headers (with the full ``Content-Length``) at once, then the valid body one
      byte every ``trickle_interval`` seconds: only a total deadline per attempt ends such a request.
    - ``error_body``: HTTP 200 whose body is an error, ``{"error": {"message", "type": "server_error",
      "param": null, "code": error_body_code}}`` (some gateways do this).
    - ``empty_choices``: HTTP 200 with a valid completion body whose ``"choices"`` list is empty.

    ``script`` is applied first, deterministically: its i-th entry (a kind of :data:`FAULT_KINDS`, or None
    for a normal answer) is the fault of the i-th generation request that reaches the fault stage after
    these faults were installed (requests refused earlier with 401, 400 or the ``rpm_limit`` 429 do not use
    an entry). Requests after the script draw at random with ``random.Random(seed)``, one draw per request
    in arrival order.
    """

    rate_limit: float = 0.0
    server_error: float = 0.0
    drop: float = 0.0
    malformed: float = 0.0
    truncate: float = 0.0
    trickle: float = 0.0
    error_body: float = 0.0
    empty_choices: float = 0.0
    retry_after: float | None = 1.0
    server_error_status: int = 500
    trickle_interval: float = 0.5
    error_body_code: int | str | None = None
    script: Sequence[str | None] = field(default=())
    seed: int = 0

    def __post_init__(self) -> None:
        total = 0.0
        for name in _RATE_FIELDS:
            rate = getattr(self, name)
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0:
                raise ConfigError(f"Faults.{name} must be a probability in [0, 1], got {rate!r}")
            total += rate
        if total > 1.0 + 1e-9:
            raise ConfigError(f"Faults rates are exclusive and must sum to at most 1, got {total:g}")
        if self.retry_after is not None and (
            isinstance(self.retry_after, bool)
            or not isinstance(self.retry_after, (int, float))
            or not 0.0 <= self.retry_after < math.inf
        ):
            raise ConfigError(f"Faults.retry_after must be None or seconds >= 0, got {self.retry_after!r}")
        status = self.server_error_status
        if isinstance(status, bool) or not isinstance(status, int) or not 500 <= status <= 599:
            raise ConfigError(f"Faults.server_error_status must be an int in 500..599, got {status!r}")
        interval = self.trickle_interval
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not 0.0 < interval < math.inf:
            raise ConfigError(f"Faults.trickle_interval must be seconds > 0, got {interval!r}")
        if self.error_body_code is not None and (
            isinstance(self.error_body_code, bool) or not isinstance(self.error_body_code, (int, str))
        ):
            raise ConfigError(f"Faults.error_body_code must be an int, a str or None, got {self.error_body_code!r}")
        if isinstance(self.script, str):
            raise ConfigError("Faults.script must be a sequence of fault kinds, not a single string")
        script = tuple(self.script)
        for kind in script:
            if kind is not None and kind not in FAULT_KINDS:
                raise ConfigError(
                    f"Faults.script entries must be one of {', '.join(FAULT_KINDS)} or None, got {kind!r}"
                )
        object.__setattr__(self, "script", script)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError(f"Faults.seed must be an int, got {self.seed!r}")

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict that :meth:`from_json` turns back into an equal ``Faults``."""
        data = asdict(self)
        data["script"] = list(self.script)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Faults:
        """Rebuild (and re-validate) a ``Faults`` from :meth:`to_json` output."""
        unknown = set(data) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise ConfigError(f"unknown Faults fields: {sorted(unknown)}")
        return cls(**data)


class FaultPlan:
    """The server's running state for one installed :class:`Faults`: script position and random draws.

    ``draw()`` is called once per generation request, in arrival order, on the server's loop thread.
    """

    __slots__ = ("_cumulative", "_position", "_rng", "_script", "faults")

    def __init__(self, faults: Faults | None) -> None:
        self.faults = faults
        self._position = 0
        # Validated by Faults.__post_init__: every entry is a FaultKind or None.
        self._script = cast("tuple[FaultKind | None, ...]", tuple(faults.script) if faults else ())
        self._rng = random.Random(faults.seed if faults else 0)
        cumulative: list[tuple[float, FaultKind]] = []
        if faults is not None:
            acc = 0.0
            for kind, name in zip(FAULT_KINDS, _RATE_FIELDS, strict=True):
                rate = getattr(faults, name)
                if rate > 0.0:
                    acc += rate
                    cumulative.append((acc, kind))
        self._cumulative = tuple(cumulative)

    def draw(self) -> FaultKind | None:
        """The fault for the next request (None: answer normally)."""
        position = self._position
        self._position = position + 1
        if position < len(self._script):
            return self._script[position]
        if not self._cumulative:
            return None
        u = self._rng.random()
        for bound, kind in self._cumulative:
            if u < bound:
                return kind
        return None


@dataclass(frozen=True)
class RateDecision:
    """The limiter's answer for one request, with the OpenAI-style headers to send back."""

    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0


def _seconds(value: float) -> str:
    """OpenAI's duration style for ``x-ratelimit-reset-requests`` (``"1.5s"``, ``"60s"``)."""
    return f"{value:g}s"


def _round_up_tenth(value: float) -> float:
    return max(0.1, math.ceil(round(value * 10.0, 6)) / 10.0)


class RollingRateLimiter:
    """Admit at most ``limit`` requests in any rolling ``window`` seconds (60 s: requests per minute).

    Refused requests do not take a slot. With ``headers`` (the default, as OpenAI does) every decision carries
    ``x-ratelimit-limit-requests``, ``-remaining-requests`` and ``-reset-requests`` (the time until the window is
    empty again: OpenAI's "until the limit resets to its initial state"), and a refusal ``Retry-After``: the time
    until the oldest admitted request leaves the window, rounded up to 0.1 s. Without ``headers`` (as many
    gateways do) admitted answers carry nothing and a refusal only ``Retry-After: 1``, whatever the window.
    """

    __slots__ = ("_admitted", "_limit_header", "headers", "limit", "window")

    def __init__(self, limit: int, window: float = 60.0, headers: bool = True) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ConfigError(f"rpm_limit must be a positive int, got {limit!r}")
        if isinstance(window, bool) or not isinstance(window, (int, float)) or not 0.0 < window < math.inf:
            raise ConfigError(f"rate_window must be seconds > 0, got {window!r}")
        if not isinstance(headers, bool):
            raise ConfigError(f"rate_limit_headers must be a bool, got {headers!r}")
        self.limit = limit
        self.window = float(window)
        self.headers = headers
        self._limit_header = str(limit)
        self._admitted: deque[float] = deque()

    def acquire(self, now: float) -> RateDecision:
        """Admit or refuse one request arriving at monotonic time ``now``."""
        admitted = self._admitted
        horizon = now - self.window
        while admitted and admitted[0] <= horizon:
            admitted.popleft()
        if len(admitted) >= self.limit:
            retry_after = _round_up_tenth(admitted[0] + self.window - now)
            if not self.headers:
                return RateDecision(False, {"Retry-After": "1"}, 1.0)
            reset = _round_up_tenth(admitted[-1] + self.window - now)
            headers = {
                "x-ratelimit-limit-requests": self._limit_header,
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": _seconds(reset),
                "Retry-After": f"{retry_after:g}",
            }
            return RateDecision(False, headers, retry_after)
        admitted.append(now)
        if not self.headers:
            return RateDecision(True, {})
        headers = {
            "x-ratelimit-limit-requests": self._limit_header,
            "x-ratelimit-remaining-requests": str(self.limit - len(admitted)),
            "x-ratelimit-reset-requests": _seconds(_round_up_tenth(self.window)),
        }
        return RateDecision(True, headers)

    def describe(self) -> str:
        """The limit in words, for the 429 body: "requests per minute (limit 240)"."""
        per = "minute" if self.window == 60.0 else f"{self.window:g} s"
        return f"requests per {per} (limit {self.limit})"
