"""Accounting for filter steps: ``FilteredDataset`` (kept rows + every row with its drop reason) and
``FilterReport`` (kept/dropped counts and reasons per step).

Steps never count anything in workers. Instead a filtered dataset carries an *annotated* frame: all input
rows, with a ``filter_reason`` column that is missing for rows still kept and holds ``"<step>"`` or
``"<step>:<finer reason>"`` for dropped ones. ``.df`` is the annotated frame's kept rows without that column,
and the report is a ``value_counts`` of the column: one Dask reduction, computed lazily, identical on the
local scheduler and on a distributed cluster with process workers. ``compute_with_report()`` gets both in
one pass over the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd

from curator_synth.dataset import DocumentDataset

__all__ = ["REASON_COLUMN", "FilterReport", "FilteredDataset", "StepCounts"]

#: The column of the annotated frame holding each dropped row's reason (missing = kept).
REASON_COLUMN = "filter_reason"
REASON_DTYPE = pd.StringDtype("pyarrow")
_KEPT = ""  # value_counts key for kept rows (no step label is empty)


@dataclass(frozen=True)
class StepCounts:
    """One filter step: how many rows reached it (``seen``), how many it ``kept``/``dropped``, and why."""

    name: str
    seen: int
    kept: int
    dropped: int
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FilterReport:
    """Counts for a chain of filter steps, in the order they ran (datatrove-style stats)."""

    total: int
    kept: int
    steps: tuple[StepCounts, ...]
    #: Rows that were already dropped before the first step of this chain (by reasons of unknown steps).
    other: dict[str, int] = field(default_factory=dict)

    @property
    def dropped(self) -> int:
        return self.total - self.kept

    @property
    def reasons(self) -> dict[str, int]:
        """Every drop reason with its count, across steps."""
        out: dict[str, int] = dict(self.other)
        for step in self.steps:
            out.update(step.reasons)
        return out

    def step(self, name: str) -> StepCounts:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(f"no step named {name!r}; steps: {[s.name for s in self.steps]}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "kept": self.kept,
            "dropped": self.dropped,
            "steps": [vars(s) | {"reasons": dict(s.reasons)} for s in self.steps],
            "other": dict(self.other),
        }

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], steps: tuple[str, ...]) -> FilterReport:
        """Build the report from ``{reason or "" for kept: count}`` and the step labels in order."""
        counts = {str(k): int(v) for k, v in counts.items()}
        total = sum(counts.values())
        claimed: set[str] = {_KEPT}
        per_step: list[StepCounts] = []
        by_step: list[dict[str, int]] = []
        for label in steps:
            reasons = {r: c for r, c in counts.items() if r == label or r.startswith(label + ":")}
            claimed.update(reasons)
            by_step.append(reasons)
        other = {r: c for r, c in counts.items() if r not in claimed}
        remaining = total - sum(other.values())
        for label, reasons in zip(steps, by_step, strict=True):
            dropped = sum(reasons.values())
            per_step.append(StepCounts(label, remaining, remaining - dropped, dropped, dict(sorted(reasons.items()))))
            remaining -= dropped
        return cls(total=total, kept=counts.get(_KEPT, 0), steps=tuple(per_step), other=other)

    def __str__(self) -> str:
        lines = [f"{'step':<40} {'seen':>10} {'kept':>10} {'dropped':>10}"]
        for s in self.steps:
            lines.append(f"{s.name:<40} {s.seen:>10} {s.kept:>10} {s.dropped:>10}")
            lines.extend(
                f"  {reason:<38} {'':>10} {'':>10} {n:>10}" for reason, n in s.reasons.items() if reason != s.name
            )
        lines.append(f"{'total':<40} {self.total:>10} {self.kept:>10} {self.dropped:>10}")
        return "\n".join(lines)


class FilteredDataset(DocumentDataset):
    """A dataset after filter steps: ``.df`` holds the kept rows; ``.annotated`` every row with its reason.

    Filter steps applied to a ``FilteredDataset`` continue its chain (they evaluate only rows still kept), so
    the report covers every step whether they ran through ``Sequential`` or one after another.
    """

    def __init__(self, annotated: dd.DataFrame, steps: tuple[str, ...]) -> None:
        kept = annotated[annotated[REASON_COLUMN].isna()].drop(columns=[REASON_COLUMN])
        super().__init__(kept)
        self.annotated = annotated
        self.steps = steps

    def report(self) -> FilterReport:
        """Compute the counts (runs the filter chain; ``persist()`` first to avoid running it twice)."""
        (counts,) = dask.compute(self._counts())
        return FilterReport.from_counts(_sum_counts(counts), self.steps)

    def compute_with_report(self) -> tuple[pd.DataFrame, FilterReport]:
        """The kept rows as pandas and the report, from one pass over the data."""
        kept, counts = dask.compute(self.df, self._counts())
        return kept, FilterReport.from_counts(_sum_counts(counts), self.steps)

    def rejected(self) -> DocumentDataset:
        """The dropped rows with their ``filter_reason`` column (lazy)."""
        return DocumentDataset(self.annotated[~self.annotated[REASON_COLUMN].isna()])

    def persist(self) -> FilteredDataset:
        return FilteredDataset(self.annotated.persist(), self.steps)

    def _counts(self) -> dd.Series:
        # Per-partition counts (a few rows each) summed on the client: no shuffle, whatever the scheduler.
        return self.annotated[REASON_COLUMN].map_partitions(_partition_counts, meta=pd.Series(dtype="int64"))

    def __repr__(self) -> str:
        return f"FilteredDataset(npartitions={self.npartitions}, columns={self.columns}, steps={list(self.steps)})"


def _partition_counts(reasons: pd.Series) -> pd.Series:
    counts = reasons.fillna(_KEPT).value_counts()
    return pd.Series(counts.to_numpy(dtype="int64"), index=counts.index.astype(object))


def _sum_counts(counts: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in counts.groupby(level=0).sum().items()}
