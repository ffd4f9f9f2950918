"""What a step produced and what it left out, with why: :class:`Outcome` (items and :class:`Failure` s), and
:func:`reason_counts`, the one way rejections are tallied (by reason code: the part of a reason before ``:``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from curator_synth.errors import CuratorSynthError

__all__ = ["Failure", "Outcome", "reason_counts"]

T = TypeVar("T")


def reason_counts(reasons: Iterable[str]) -> dict[str, int]:
    """How many times each reason code occurs (``"too_short: 3 words"`` counts as ``too_short``), first seen first."""
    return dict(Counter(reason.split(":", 1)[0] for reason in reasons))


@dataclass(frozen=True)
class Failure:
    """One item of a stage that failed: its position, its input, the typed error and the raw answer if any."""

    index: int
    input: Any
    error: CuratorSynthError

    @property
    def reason(self) -> str:
        return f"{type(self.error).__name__}: {self.error}"

    @property
    def raw(self) -> str | None:
        return getattr(self.error, "raw", None)


@dataclass
class Outcome(Generic[T]):
    """What a fanned-out step produced (input order, failed items left out) and what failed, with why: the
    one result shape of the generators, judges and reward models."""

    items: list[T] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def failure_counts(self) -> dict[str, int]:
        """The failures by error type (``{"ServerError": 2}``)."""
        return dict(Counter(type(failure.error).__name__ for failure in self.failures))

    def raise_on_failure(self) -> Outcome[T]:
        """Raise the first failure's error (for callers that want all-or-nothing)."""
        if self.failures:
            raise self.failures[0].error
        return self
