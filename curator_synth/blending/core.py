"""``blend``: mix named datasets (authentic, synthetic, ...) at configured ratios, per source and optionally per
category, without cross-source duplicates, keeping where every row came from.

How rows are chosen (deterministic for a seed):

1. Every row gets a draw: a keyed hash of (seed, source name, row id), so a row's draw does not depend on the
   other rows or their order. A source's rows are taken in draw order.
2. Quotas: the total split over the sources by ``ratios``, then each source's share over the categories by
   ``category_ratios`` (largest remainder: they sum to the total exactly).
3. Sources are filled in ``priority`` order. A row whose text (``field``; ``dedup`` exact or fuzzy) duplicates a
   row already chosen from a source of higher priority is removed as a cross-source duplicate; the source that
   kept the text is recorded. Duplicates *within* one source are left to the dedup stage.
4. A quota the data cannot fill is a shortfall: ``on_shortfall="shrink"`` lowers the total to the largest one
   at which every quota is met (the ratios hold), ``"error"`` raises :class:`BlendShortfallError`. With
   ``total=None`` the blend is the largest one the ratios allow.

The blend runs in memory (pandas) on the driver, like the sampling stage.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from curator_synth.blending.dedup import BLEND_DEDUP
from curator_synth.blending.ratios import Cell, normalise_ratios, plan_quotas
from curator_synth.blending.report import BlendReport, BlendShortfallError, CellCounts, Shortfall, SourceCounts
from curator_synth.errors import ConfigError

if TYPE_CHECKING:
    from curator_synth.dataset import DocumentDataset

__all__ = ["BLEND_SOURCE", "MISSING_CATEGORY", "BlendResult", "blend"]

logger = logging.getLogger(__name__)

#: The column naming each row's source in the blend.
BLEND_SOURCE = "blend_source"
#: The category of rows whose category field is missing.
MISSING_CATEGORY = "(missing)"
_ALL = "\x00all"  # the one selection cell of a source when quotas are per source only
ON_SHORTFALL = ("shrink", "error")


@dataclass(frozen=True)
class BlendResult:
    """The blend (``frame``: the sources' columns plus ``blend_source``; ``provenance`` JSON text with
    ``blend: {source, row_id}``), its :class:`BlendReport`, and the removed cross-source duplicates
    (``duplicates``: ``source``, ``row_id``, ``kept_source``, ``kept_row_id``)."""

    frame: pd.DataFrame
    report: BlendReport
    duplicates: pd.DataFrame

    @property
    def dataset(self) -> DocumentDataset:
        from curator_synth.dataset import DocumentDataset

        return DocumentDataset.from_pandas(self.frame, npartitions=max(1, min(4, len(self.frame))))

    def __len__(self) -> int:
        return len(self.frame)


@dataclass(frozen=True)
class _Request:
    """The validated arguments of one blend."""

    names: list[str]
    weights: dict[str, float]
    category_weights: dict[str, float] | None
    order: list[str]
    dedup: str | None
    category_field: str | None
    total: int | None

    def quotas(self, total: int) -> dict[Cell, int]:
        return {
            (s, _ALL if c is None else c): q
            for (s, c), q in plan_quotas(total, self.weights, self.category_weights).items()
        }


@dataclass
class _Selection:
    chosen: pd.DataFrame  # pool rows taken
    removed: pd.DataFrame  # pool rows removed as cross-source duplicates, with kept_source / kept_row_id
    available: dict[Cell, int]  # candidates per selection cell after dedup
    quotas: dict[Cell, int]

    def shortfalls(self) -> list[Shortfall]:
        return [
            Shortfall(source, None if cell == _ALL else cell, quota, self.available.get((source, cell), 0))
            for (source, cell), quota in self.quotas.items()
            if quota > self.available.get((source, cell), 0)
        ]


class _Selector:
    """Fills the quotas of a total, source by source in priority order, each in draw order."""

    def __init__(self, pools: dict[str, pd.DataFrame], request: _Request) -> None:
        self.pools, self.request = pools, request

    def run(self, total: int) -> _Selection:
        quotas = self.request.quotas(total)
        kept = pd.DataFrame(  # group -> the source and row that kept its text
            {"group": np.empty(0, np.int64), "kept_source": np.empty(0, object), "kept_row_id": np.empty(0, object)}
        )
        chosen, removed, available = [], [], dict[Cell, int]()
        for source in self.request.order:
            rows = self.pools[source]
            duplicate = rows["group"].isin(kept["group"]).to_numpy()
            removed.append(rows[duplicate].merge(kept, on="group", how="left"))
            candidates = rows[~duplicate]
            rank = candidates.groupby("cell", sort=False).cumcount().to_numpy()
            quota = candidates["cell"].map({c: q for (s, c), q in quotas.items() if s == source}).fillna(0)
            picked = candidates[rank < quota.to_numpy()]
            available.update({(source, str(c)): int(n) for c, n in candidates["cell"].value_counts().items()})
            chosen.append(picked)
            new = picked.drop_duplicates("group")[["group", "source", "row_id"]]
            new = new.rename(columns={"source": "kept_source", "row_id": "kept_row_id"})
            kept = pd.concat([kept, new.astype({"kept_source": object})], ignore_index=True)
        return _Selection(pd.concat(chosen), pd.concat(removed), available, quotas)

    def largest_feasible(self, below: int) -> tuple[int, _Selection]:
        """The largest total under ``below`` whose quotas are all met (binary search; 0 always is)."""
        low, high, best = 0, below, self.run(0)
        while high - low > 1:
            middle = (low + high) // 2
            selection = self.run(middle)
            if selection.shortfalls():
                high = middle
            else:
                low, best = middle, selection
        return low, best


def blend(
    sources: Mapping[str, DocumentDataset | pd.DataFrame],
    *,
    ratios: Mapping[str, float],
    category_field: str | None = None,
    category_ratios: Mapping[str, float] | None = None,
    total: int | None = None,
    dedup: Literal["exact", "fuzzy"] | None = "exact",
    field: str = "instruction",
    seed: int = 0,
    priority: Sequence[str] | None = None,
    on_shortfall: Literal["shrink", "error"] = "shrink",
    id_field: str = "id",
) -> BlendResult:
    """Mix ``sources`` (name -> dataset or frame) at ``ratios`` (name -> weight, normalised; every source needs
    one, 0 leaves it out). ``category_ratios`` (category -> weight) split each source's share over the values
    of ``category_field``; rows of categories not named are left out. ``total``: rows wanted (None: as many as
    the ratios allow). ``dedup`` over ``field`` removes cross-source duplicates, the source earlier in
    ``priority`` (default: the order of ``ratios``) keeping the text. A row's id is its ``id_field`` value, else
    its position in its source. The blend is ordered by priority, then by position in the source."""
    frames = _frames(sources)
    names = list(frames)
    weights = normalise_ratios(ratios, names, key="ratios")
    order = _priority(priority, list(ratios), names)
    _check_arguments(frames, total, dedup, field, category_field, category_ratios, on_shortfall)
    pool = _pool(frames, field if dedup else None, category_field, id_field, seed)
    pool["group"] = BLEND_DEDUP[dedup](pool.pop("text")) if dedup else np.arange(len(pool), dtype=np.int64)
    category_weights = None
    if category_ratios is not None:
        present = sorted(pool["category"].unique())
        category_weights = normalise_ratios(category_ratios, present, key="category_ratios", require_all=False)
    request = _Request(names, weights, category_weights, order, dedup, category_field, total)
    wanted = pool["category"].isin(category_weights).to_numpy() if category_weights else np.ones(len(pool), bool)
    pool["cell"] = pool["category"] if category_weights is not None else _ALL
    selector = _Selector(_pools(pool[wanted], names), request)
    target = total if total is not None else int(wanted.sum())
    asked = final = selector.run(target)
    final_total = target
    if asked.shortfalls():
        final_total, final = selector.largest_feasible(target)
        if total is not None and on_shortfall == "error":
            raise BlendShortfallError(_report(request, asked, asked, pool, wanted), final_total)
    report = _report(request, asked if total is not None else final, final, pool, wanted)
    if report.shrunk:
        logger.warning("blend: %s; total shrunk to %d", "; ".join(map(str, report.shortfalls)), final_total)
    return BlendResult(_assemble(frames, final.chosen, order), report, _duplicates(final.removed))


def _pools(pool: pd.DataFrame, names: Sequence[str]) -> dict[str, pd.DataFrame]:
    """Each source's candidate rows in draw order (ties: position)."""
    return {name: pool[pool["source"] == name].sort_values(["draw", "position"], kind="stable") for name in names}


# ------------------------------------------------------------------------------------------------ inputs
def _frames(sources: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    if not isinstance(sources, Mapping) or not sources:
        raise ConfigError("blend: give sources as a mapping name -> dataset, e.g. {'authentic': df, 'synthetic': ds}")
    frames = {}
    for name, data in sources.items():
        if not isinstance(name, str) or not name:
            raise ConfigError(f"blend: source names are non-empty strings, got {name!r}")
        frame = data if isinstance(data, pd.DataFrame) else getattr(data, "to_pandas", None)
        if frame is None:
            raise ConfigError(f"blend: source {name!r} is a {type(data).__name__}, not a DocumentDataset or DataFrame")
        frames[name] = (frame if isinstance(frame, pd.DataFrame) else frame()).reset_index(drop=True)
    return frames


def _priority(priority: Sequence[str] | None, default: list[str], names: list[str]) -> list[str]:
    if priority is None:
        return default
    unknown = [name for name in priority if name not in names]
    if unknown or len(set(priority)) != len(priority):
        raise ConfigError(f"priority: {list(priority)} must list distinct sources among {names}")
    return list(priority) + [name for name in default if name not in priority]


def _check_arguments(
    frames: Mapping[str, pd.DataFrame],
    total: int | None,
    dedup: str | None,
    field: str,
    category_field: str | None,
    category_ratios: Mapping[str, float] | None,
    on_shortfall: str,
) -> None:
    if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 1):
        raise ConfigError(f"total: a positive number of rows (or None for as many as fit), got {total!r}")
    if dedup is not None and dedup not in BLEND_DEDUP:
        raise ConfigError(f"dedup: one of {sorted(BLEND_DEDUP)} or None, got {dedup!r}")
    if on_shortfall not in ON_SHORTFALL:
        raise ConfigError(f"on_shortfall: one of {list(ON_SHORTFALL)}, got {on_shortfall!r}")
    if category_ratios is not None and category_field is None:
        raise ConfigError("category_ratios: set category_field, the column holding each row's category")
    needed = [column for column in (field if dedup else None, category_field) if column]
    for name, frame in frames.items():
        missing = [column for column in needed if column not in frame.columns]
        if missing:
            raise ConfigError(f"blend: source {name!r} has no column(s) {missing}; it has {list(frame.columns)}")


def _pool(
    frames: Mapping[str, pd.DataFrame], field: str | None, category_field: str | None, id_field: str, seed: int
) -> pd.DataFrame:
    """One row per source row: source, position, row_id, category ("" without a category field), text (for
    dedup) and draw (a keyed hash of seed, source and row id)."""
    parts = []
    for name, frame in frames.items():
        ids = frame[id_field].tolist() if id_field in frame.columns else list(range(len(frame)))
        categories = [_category(value) for value in frame[category_field]] if category_field else ""
        text = frame[field].fillna("").astype(str).to_numpy() if field else ""
        parts.append(
            pd.DataFrame(
                {
                    "source": pd.Series([name] * len(frame), dtype=object),
                    "position": np.arange(len(frame), dtype=np.int64),
                    "row_id": pd.Series(ids, dtype=object),
                    "category": pd.Series(categories, index=range(len(frame)), dtype=object),
                    "text": pd.Series(text, index=range(len(frame)), dtype=str),
                }
            )
        )
    pool = pd.concat(parts, ignore_index=True)
    key = hashlib.blake2b(str(seed).encode(), digest_size=8).hexdigest()  # hash_array takes a 16-character key
    labels = np.array([f"{s}\x1f{r}" for s, r in zip(pool["source"], pool["row_id"], strict=True)], dtype=object)
    pool["draw"] = pd.util.hash_array(labels, hash_key=key, categorize=False)
    return pool


def _category(value: Any) -> str:
    return MISSING_CATEGORY if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


# ----------------------------------------------------------------------------------------------- outputs
def _assemble(frames: Mapping[str, pd.DataFrame], chosen: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    parts = []
    for name in order:
        picked = chosen[chosen["source"] == name].sort_values("position")
        rows = frames[name].iloc[picked["position"].to_numpy()].copy()
        rows[BLEND_SOURCE] = name
        previous = rows["provenance"] if "provenance" in rows.columns else [None] * len(rows)
        rows["provenance"] = _provenance(previous, name, picked["row_id"].tolist())
        parts.append(rows)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _provenance(values: Iterable[Any], source: str, row_ids: list[Any]) -> list[str]:
    """Each row's provenance (JSON text, a dict, or nothing) with ``blend: {source, row_id}`` added."""
    out = []
    for value, row_id in zip(values, row_ids, strict=True):
        if isinstance(value, str):
            try:
                parsed = json.loads(value) if value.strip() else {}
            except json.JSONDecodeError:
                parsed = {"original": value}
        else:
            parsed = dict(value) if isinstance(value, Mapping) else {}
        if not isinstance(parsed, dict):
            parsed = {"original": parsed}
        parsed["blend"] = {"source": source, "row_id": row_id}
        out.append(json.dumps(parsed, ensure_ascii=False, default=str))
    return out


def _duplicates(removed: pd.DataFrame) -> pd.DataFrame:
    columns = ["source", "row_id", "kept_source", "kept_row_id"]
    return removed[columns].reset_index(drop=True) if len(removed) else pd.DataFrame(columns=columns)


def _report(
    request: _Request, asked: _Selection, final: _Selection, pool: pd.DataFrame, wanted: np.ndarray
) -> BlendReport:
    """``asked``: the selection at the requested total (its quotas, its shortfalls); ``final``: what was taken."""
    kept_by: dict[str, dict[str, int]] = {}
    for (removed, keeper), count in final.removed.groupby(["source", "kept_source"], sort=False).size().items():
        kept_by.setdefault(str(removed), {})[str(keeper)] = int(count)
    requested_total = request.total
    return BlendReport(
        requested_total=requested_total,
        total=len(final.chosen),
        ratios=dict(request.weights),
        category_ratios=dict(request.category_weights) if request.category_weights is not None else None,
        priority=tuple(request.order),
        dedup=request.dedup,
        sources={name: _source_counts(name, asked, final, pool, wanted) for name in request.order},
        cells=_cell_counts(request, asked, final, pool[wanted]) if request.category_field else (),
        duplicates_kept_by=kept_by,
        shortfalls=tuple(asked.shortfalls()) if requested_total is not None else (),
        shrunk=requested_total is not None and len(final.chosen) < requested_total,
    )


def _source_counts(
    name: str, asked: _Selection, final: _Selection, pool: pd.DataFrame, wanted: np.ndarray
) -> SourceCounts:
    mine = (pool["source"] == name).to_numpy()
    available = sum(n for (source, _), n in final.available.items() if source == name)
    achieved = int((final.chosen["source"] == name).sum())
    return SourceCounts(
        rows=int(mine.sum()),
        category_not_requested=int((mine & ~wanted).sum()),
        duplicates_removed=int((final.removed["source"] == name).sum()),
        available=available,
        requested=sum(q for (source, _), q in asked.quotas.items() if source == name),
        achieved=achieved,
        over_quota=available - achieved,
    )


def _cell_counts(request: _Request, asked: _Selection, final: _Selection, pool: pd.DataFrame) -> tuple[CellCounts, ...]:
    """Per source (priority order) and category (ratio order, then the others sorted)."""
    removed = pd.MultiIndex.from_frame(final.removed[["source", "position"]]) if len(final.removed) else None
    here = pd.MultiIndex.from_frame(pool[["source", "position"]])
    candidates = pool[~here.isin(removed)] if removed is not None else pool
    available = candidates.groupby(["source", "category"]).size()
    achieved = final.chosen.groupby(["source", "category"]).size()
    weights = request.category_weights
    present = sorted(set(pool["category"]))
    categories = list(weights) + [c for c in present if c not in weights] if weights is not None else present
    return tuple(
        CellCounts(
            source=source,
            category=category,
            available=int(available.get((source, category), 0)),
            requested=asked.quotas.get((source, category), 0) if weights is not None else None,
            achieved=int(achieved.get((source, category), 0)),
        )
        for source in request.order
        for category in categories
    )
