"""Request defaults a pipeline stage sets for every request made inside it, whichever generator makes them:
which finish reasons keep an answer out of the data, the seed of requests that have none, and whether they go
through the provider's batch API.

A context variable, like :class:`~curator_synth.clients.engine.journal_namespace`: the runner sets it around a
stage (and a partition job sets it on its worker), and :class:`~curator_synth.clients.AsyncOpenAIClient` reads
it per request. Outside a stage nothing changes: the client's own ``on_truncated`` applies and no seed is added.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from curator_synth.errors import ConfigError

__all__ = ["FINISH_REASONS", "RequestDefaults", "current_defaults", "derived_seed", "request_defaults"]

#: Finish reasons a stage refuses by default (OpenAI's names; vLLM, NIM and llama.cpp use them too).
FINISH_REASONS = ("length", "content_filter")

_current: contextvars.ContextVar[RequestDefaults | None] = contextvars.ContextVar(
    "curator_synth_request_defaults", default=None
)


@dataclass(frozen=True)
class RequestDefaults:
    """``invalid_finish_reasons``: an answer ending so is asked once more (``finish_retries`` times, with another
    seed), then refused (``TruncatedResponseError`` for ``length``, ``ContentFilterError`` for
    ``content_filter``, a ``ResponseParseError`` for others), so it never enters the data. ``seed_salt``: a
    request without a seed gets one derived from its content and the salt (a run against a server that honours
    seeds is then reproducible); None adds none. ``batch``: the stage's requests go through the provider's batch
    API (True) or online (False); None: as the client says. Picklable: it travels to Dask workers with each
    partition."""

    invalid_finish_reasons: tuple[str, ...] = FINISH_REASONS
    finish_retries: int = 1
    seed_salt: int | None = None
    batch: bool | None = None

    def __post_init__(self) -> None:
        reasons = self.invalid_finish_reasons
        if isinstance(reasons, str) or not all(isinstance(reason, str) and reason for reason in reasons):
            raise ConfigError(f"invalid_finish_reasons must be a list of finish reasons, got {reasons!r}")
        object.__setattr__(self, "invalid_finish_reasons", tuple(reasons))
        if isinstance(self.finish_retries, bool) or not isinstance(self.finish_retries, int) or self.finish_retries < 0:
            raise ConfigError(f"finish_retries must be an int >= 0, got {self.finish_retries!r}")


def current_defaults() -> RequestDefaults | None:
    """The defaults of the stage running in this context, or None."""
    return _current.get()


@contextlib.contextmanager
def request_defaults(defaults: RequestDefaults | None) -> Iterator[None]:
    """Requests made inside the block use ``defaults`` (None: leave the current ones)."""
    if defaults is None:
        yield
        return
    token = _current.set(defaults)
    try:
        yield
    finally:
        _current.reset(token)


def derived_seed(salt: int, model: str, messages: Sequence[Mapping[str, Any]], attempt: int = 0) -> int:
    """A seed in ``[0, 2**31)`` from the request's content, ``salt`` and the finish-retry ``attempt``."""
    text = json.dumps([salt, attempt, model, list(messages)], sort_keys=True, ensure_ascii=False, default=str)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") & 0x7FFFFFFF
