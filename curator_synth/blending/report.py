"""What a blend did: requested and achieved rows per source and category, cross-source duplicates (and which
source kept each), shortfalls. :class:`BlendReport` prints as a table and turns into JSON-ready values."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from curator_synth.errors import ConfigError

__all__ = ["BlendReport", "BlendShortfallError", "CellCounts", "Shortfall", "SourceCounts"]


@dataclass(frozen=True)
class SourceCounts:
    """One source: ``rows`` = ``category_not_requested`` + ``duplicates_removed`` + ``available``, and
    ``available`` = ``achieved`` + ``over_quota``. ``requested`` is the quota at the requested total (after
    shrinking it can be more than ``achieved``)."""

    rows: int
    category_not_requested: int
    duplicates_removed: int
    available: int
    requested: int
    achieved: int
    over_quota: int


@dataclass(frozen=True)
class CellCounts:
    """One source and category. ``requested`` is None when there are no category ratios (counts only)."""

    source: str
    category: str
    available: int
    requested: int | None
    achieved: int


@dataclass(frozen=True)
class Shortfall:
    """A quota the data could not fill at the requested total (``category`` None: the source as a whole)."""

    source: str
    category: str | None
    requested: int
    available: int

    def __str__(self) -> str:
        where = f"source {self.source!r}" + (f", category {self.category!r}" if self.category is not None else "")
        return f"{where}: {self.requested} requested, {self.available} available"


@dataclass(frozen=True)
class BlendReport:
    """Requested vs achieved. ``total`` is what the blend holds; ``requested_total`` what was asked (None: as
    many rows as the ratios allow). ``shrunk``: the total was lowered so that every ratio holds.
    ``duplicates_kept_by``: removed source -> source that kept the text -> rows."""

    requested_total: int | None
    total: int
    ratios: dict[str, float]
    category_ratios: dict[str, float] | None
    priority: tuple[str, ...]
    dedup: str | None
    sources: dict[str, SourceCounts]
    cells: tuple[CellCounts, ...]
    duplicates_kept_by: dict[str, dict[str, int]]
    shortfalls: tuple[Shortfall, ...]
    shrunk: bool

    @property
    def achieved_ratios(self) -> dict[str, float]:
        """Each source's share of the blend (0.0 for an empty blend)."""
        return {name: (c.achieved / self.total if self.total else 0.0) for name, c in self.sources.items()}

    def categories(self) -> dict[str, dict[str, int | None]]:
        """Per category over all sources: ``requested`` (None without category ratios) and ``achieved``."""
        totals: dict[str, dict[str, int | None]] = {}
        for cell in self.cells:
            entry = totals.setdefault(cell.category, {"requested": 0, "achieved": 0})
            entry["achieved"] = int(entry["achieved"] or 0) + cell.achieved
            entry["requested"] = None if cell.requested is None else int(entry["requested"] or 0) + cell.requested
        return totals

    def rejections(self) -> dict[str, int]:
        """Rows left out, by reason (reasons with no rows are omitted)."""
        reasons = {
            "cross_source_duplicate": sum(c.duplicates_removed for c in self.sources.values()),
            "over_quota": sum(c.over_quota for c in self.sources.values()),
            "category_not_requested": sum(c.category_not_requested for c in self.sources.values()),
        }
        return {reason: count for reason, count in reasons.items() if count}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (``blend_report.json`` of the pipeline stage)."""
        return {
            "requested_total": self.requested_total,
            "total": self.total,
            "shrunk": self.shrunk,
            "dedup": self.dedup,
            "priority": list(self.priority),
            "ratios": dict(self.ratios),
            "achieved_ratios": self.achieved_ratios,
            "category_ratios": dict(self.category_ratios) if self.category_ratios is not None else None,
            "sources": {name: asdict(counts) for name, counts in self.sources.items()},
            "categories": self.categories(),
            "cells": [asdict(cell) for cell in self.cells],
            "duplicates_kept_by": {name: dict(kept) for name, kept in self.duplicates_kept_by.items()},
            "shortfalls": [asdict(s) for s in self.shortfalls],
            "rejections": self.rejections(),
        }

    def __str__(self) -> str:
        headers = ("source", "rows", "duplicates", "available", "requested", "achieved", "share")
        rows: list[tuple[Any, ...]] = [
            (name, c.rows, c.duplicates_removed, c.available, c.requested, c.achieved, f"{share:.3f}")
            for (name, c), share in zip(self.sources.items(), self.achieved_ratios.values(), strict=True)
        ]
        requested = sum(c.requested for c in self.sources.values())
        rows.append(("total", "", "", "", requested, self.total, ""))
        widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
        lines = [_line(row, widths) for row in [headers, *rows]]
        for removed, kept in self.duplicates_kept_by.items():
            lines += [f"duplicates: {n} of {removed} kept by {source}" for source, n in kept.items()]
        lines += [f"shortfall: {s}" for s in self.shortfalls]
        if self.shrunk:
            lines.append(f"total shrunk from {self.requested_total} to {self.total} to keep the ratios")
        return "\n".join(lines)


def _line(row: tuple[Any, ...], widths: list[int]) -> str:
    cells = [str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(row, widths, strict=True))]
    return "  ".join(cells).rstrip()


class BlendShortfallError(ConfigError):
    """A requested total cannot be met at the ratios (``on_shortfall="error"``); ``report`` has the counts at
    the requested total and ``largest_total`` the largest total that fits."""

    def __init__(self, report: BlendReport, largest_total: int) -> None:
        self.report = report
        self.largest_total = largest_total
        problems = "; ".join(str(s) for s in report.shortfalls)
        super().__init__(
            f"blend: a total of {report.requested_total} cannot be met at the ratios ({problems}). The largest"
            f" total that fits is {largest_total}: lower `total`, change the ratios, or use on_shortfall='shrink'"
        )
