"""Per-client accounting: what was sent, retried, failed, and how many tokens it cost."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ClientStats"]

logger = logging.getLogger("curator_synth.clients")


@dataclass
class ClientStats:
    """Counters of one client; ``as_dict()`` for reports, ``log()`` at the end of a run."""

    requests_sent: int = 0
    responses_ok: int = 0
    from_journal: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
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
            "pauses": self.pauses,
            "rate_limited": self.rate_limited,
            "rate_cuts": self.rate_cuts,
            "retries": dict(self.retries),
            "failures": dict(self.failures),
            "transient_failures": dict(self.transient_failures),
        }

    def log(self, name: str = "client") -> None:
        logger.info("%s stats: %s", name, self.as_dict())
