"""Steps that apply filters to a ``DocumentDataset`` (NeMo Curator 0.9 names): ``ScoreFilter``, ``Score``,
``Filter``, ``Sequential``. Each is a small class whose one public method is ``__call__(dataset)``.

The bookkeeping lives in :class:`FilterStep`, once: it evaluates only rows still kept, records drop
reasons in the annotated frame of a :class:`~curator_synth.filters.report.FilteredDataset`, writes rejected
rows when asked (``rejected_path=``), and keeps step labels unique so reports stay unambiguous.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from curator_synth._files import atomic_write
from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError
from curator_synth.filters.base import DocumentFilter, is_batched
from curator_synth.filters.report import REASON_COLUMN, REASON_DTYPE, FilteredDataset

__all__ = ["Filter", "FilterStep", "Score", "ScoreFilter", "Sequential"]

TextField = str | tuple[str, ...] | list[str]
_NULLABLE = {"b": "boolean", "i": "Int64", "u": "UInt64"}


class FilterStep:
    """Base of the steps: subclasses implement ``_evaluate(rows)`` on the rows still kept, returning
    ``(keep, details, columns)``: a bool array or ``None`` (a step that only scores), finer reasons for the
    dropped rows (or ``None``), and new columns to add."""

    label: str = ""
    rejected_path: str | os.PathLike[str] | None = None

    def __call__(self, dataset: DocumentDataset) -> DocumentDataset:
        if not isinstance(dataset, DocumentDataset):
            raise ConfigError(f"{type(self).__name__} applies to a DocumentDataset, got {type(dataset).__name__}")
        filters = self._filters()
        if isinstance(dataset, FilteredDataset):
            frame, steps = dataset.annotated, dataset.steps
        else:
            frame, steps = dataset.df, ()
        label = _unique(self.label, steps) if filters else self.label
        meta = self._run(frame._meta_nonempty, label, filters, write=False).iloc[:0]
        out = frame.map_partitions(self._run, label, filters, meta=meta)
        if REASON_COLUMN in out.columns:
            return FilteredDataset(out, (*steps, label) if filters else steps)
        return DocumentDataset(out)

    def __dask_tokenize__(self) -> tuple[str, Any]:
        # The step's settings, each hashed as Dask hashes it: a filter holding a client (threads, sockets) gives
        # its own token (``__dask_tokenize__``) instead of failing to pickle.
        from dask.base import normalize_token

        return type(self).__name__, normalize_token(vars(self))

    # ----------------------------------------------------------------------------------- internals
    def _filters(self) -> bool:
        return True

    def _evaluate(self, rows: pd.DataFrame) -> tuple[np.ndarray | None, pd.Series | None, dict[str, pd.Series]]:
        raise NotImplementedError

    def _evaluate_trial(self, rows: pd.DataFrame) -> tuple[np.ndarray | None, pd.Series | None, dict[str, pd.Series]]:
        """``_evaluate`` on Dask's fake rows, run once to learn the output's columns (``write=False``). A step
        whose evaluation costs requests overrides it to answer without them."""
        return self._evaluate(rows)

    def _run(
        self,
        part: pd.DataFrame,
        label: str,
        filters: bool,
        partition_info: dict[str, Any] | None = None,
        write: bool = True,
    ) -> pd.DataFrame:
        part = part.copy(deep=False)
        # In a chain (the frame has a reason column) only rows still kept are evaluated, and new columns get
        # a dtype holding missing values for the others, the same in every partition.
        chained = REASON_COLUMN in part.columns
        if chained:
            active = part[REASON_COLUMN].isna().to_numpy()
        else:
            active = np.ones(len(part), dtype=bool)
            if filters:
                part[REASON_COLUMN] = pd.array([pd.NA] * len(part), dtype=REASON_DTYPE)
        evaluate = self._evaluate if write else self._evaluate_trial
        keep, details, columns = evaluate(part[active] if chained else part)
        for name, values in columns.items():
            part[name] = _spread(values, active, part.index) if chained else values.array
        if keep is None:
            return part
        dropped = ~keep
        reasons = np.full(int(dropped.sum()), label, dtype=object)
        if details is not None:
            finer = details.to_numpy(dtype=object)
            has = np.array([isinstance(d, str) and d != "" for d in finer], dtype=bool)
            reasons[has] = [f"{label}:{d}" for d in finer[has]]
        values = part[REASON_COLUMN].to_numpy(dtype=object, na_value=None)
        values[np.flatnonzero(active)[dropped]] = reasons
        part[REASON_COLUMN] = pd.array(values, dtype=REASON_DTYPE)
        if write and self.rejected_path is not None and partition_info is not None:
            newly = np.zeros(len(part), dtype=bool)
            newly[np.flatnonzero(active)[dropped]] = True
            _write_jsonl(part[newly], Path(self.rejected_path), label, int(partition_info["number"]))
        return part


class ScoreFilter(FilterStep):
    """Score a text field with a :class:`DocumentFilter` and keep the rows it keeps (NeMo ``ScoreFilter``).

    ``text_field`` is a column, or two columns for a :class:`~curator_synth.filters.base.PairFilter`.
    ``score_field`` also stores the score as a column; ``score_type`` casts it (e.g. ``int``); ``invert``
    keeps the rows the filter would drop. ``rejected_path`` writes this step's dropped rows with their
    ``filter_reason`` to ``<rejected_path>/<step>.<partition>.jsonl`` when the dataset is computed.
    """

    def __init__(
        self,
        filter_obj: DocumentFilter,
        text_field: TextField = "text",
        score_field: str | None = None,
        score_type: Any = None,
        invert: bool = False,
        rejected_path: str | os.PathLike[str] | None = None,
    ) -> None:
        if not isinstance(filter_obj, DocumentFilter):
            raise ConfigError(f"ScoreFilter needs a DocumentFilter, got {type(filter_obj).__name__}")
        self.filter_obj = filter_obj
        self.text_field = text_field if isinstance(text_field, str) else tuple(text_field)
        self.score_field = score_field
        self.score_type = score_type
        self.invert = invert
        self.rejected_path = rejected_path
        self.label = filter_obj.name

    def _evaluate(self, rows: pd.DataFrame) -> tuple[np.ndarray | None, pd.Series | None, dict[str, pd.Series]]:
        scores = _scores(self.filter_obj, _texts(rows, self.text_field), self.score_type)
        keep, details = _decide(self.filter_obj, scores, self.invert)
        return keep, details, ({self.score_field: scores} if self.score_field else {})

    def _evaluate_trial(self, rows: pd.DataFrame) -> tuple[np.ndarray | None, pd.Series | None, dict[str, pd.Series]]:
        # Dask's fake rows are only scored (for the score column's dtype), and only when the score is kept:
        # keep_document may have side effects (a random draw, a request) that must happen on real rows only, and
        # a filter whose scoring costs requests gives its trial_score instead.
        texts = _texts(rows, self.text_field)  # an unknown text field fails here, when the step is applied
        if not self.score_field:
            return None, None, {}
        return None, None, {self.score_field: _scores(self.filter_obj, texts, self.score_type, trial=True)}


class Score(FilterStep):
    """Add a score column (NeMo ``Score``): ``score_fn`` is a :class:`DocumentFilter` (its ``score_batch``),
    a function marked ``@batched`` (Series -> Series) or a plain function applied to each value."""

    def __init__(
        self,
        score_fn: DocumentFilter | Callable[..., Any],
        score_field: str,
        text_field: TextField = "text",
        score_type: Any = None,
    ) -> None:
        self.score_fn = score_fn
        self.score_field = score_field
        self.text_field = text_field if isinstance(text_field, str) else tuple(text_field)
        self.score_type = score_type
        self.label = _name_of(score_fn)

    def _filters(self) -> bool:
        return False

    def _evaluate(
        self, rows: pd.DataFrame, trial: bool = False
    ) -> tuple[np.ndarray | None, pd.Series | None, dict[str, pd.Series]]:
        scores = _scores(self.score_fn, _texts(rows, self.text_field), self.score_type, trial)
        return None, None, {self.score_field: scores}

    def _evaluate_trial(self, rows: pd.DataFrame) -> tuple[np.ndarray | None, pd.Series | None, dict[str, pd.Series]]:
        return self._evaluate(rows, trial=True)


class Filter(FilterStep):
    """Keep rows whose ``filter_field`` passes ``filter_fn`` (NeMo ``Filter``), e.g. on a score column.

    ``filter_fn`` is a :class:`DocumentFilter` (its ``keep_batch``, with its reasons), a ``@batched``
    function (Series -> bool Series) or a plain function of one value returning a bool.
    """

    def __init__(
        self,
        filter_fn: DocumentFilter | Callable[..., Any],
        filter_field: str,
        invert: bool = False,
        name: str | None = None,
        rejected_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.filter_fn = filter_fn
        self.filter_field = filter_field
        self.invert = invert
        self.rejected_path = rejected_path
        self.label = name or _name_of(filter_fn)

    def _evaluate(self, rows: pd.DataFrame) -> tuple[np.ndarray | None, pd.Series | None, dict[str, pd.Series]]:
        keep, details = _decide(self.filter_fn, rows[self.filter_field], self.invert)
        return keep, details, {}

    def _evaluate_trial(self, rows: pd.DataFrame) -> tuple[np.ndarray | None, pd.Series | None, dict[str, pd.Series]]:
        if self.filter_field not in rows.columns:
            raise ConfigError(f"filter field {self.filter_field!r} not in the dataset's columns {list(rows.columns)}")
        return None, None, {}  # a filter adds no column: nothing to learn from Dask's fake rows


class Sequential:
    """Apply steps in order (NeMo ``Sequential``); the result's ``report()`` covers all of them."""

    def __init__(self, steps: Sequence[Callable[[DocumentDataset], DocumentDataset]]) -> None:
        self.steps = list(steps)

    def __call__(self, dataset: DocumentDataset) -> DocumentDataset:
        for step in self.steps:
            dataset = step(dataset)
        return dataset


# ------------------------------------------------------------------------------------------- helpers
def _name_of(fn: object) -> str:
    name = getattr(fn, "name", None) or getattr(fn, "__name__", None) or type(fn).__name__
    return str(name)


def _unique(label: str, taken: tuple[str, ...]) -> str:
    label = label.replace(":", "_") or "filter"
    if label not in taken:
        return label
    n = 2
    while f"{label}#{n}" in taken:
        n += 1
    return f"{label}#{n}"


def _texts(rows: pd.DataFrame, field: str | tuple[str, ...]) -> pd.Series | pd.DataFrame:
    missing = [f for f in ([field] if isinstance(field, str) else field) if f not in rows.columns]
    if missing:
        raise ConfigError(f"text field(s) {missing} not in the dataset's columns {list(rows.columns)}")
    texts = rows[field] if isinstance(field, str) else rows[list(field)]
    if not texts.isna().to_numpy().any():
        return texts
    return texts.astype(object).fillna("")  # an all-missing column is float64: "" is not a float to fill with


def _scores(fn: object, texts: Any, score_type: Any, trial: bool = False) -> pd.Series:
    """The scores of ``texts``. On Dask's trial rows (``trial``), a filter whose scoring costs requests gives its
    ``trial_score`` for every row instead of scoring them."""
    if trial and hasattr(fn, "trial_score"):
        scores = pd.Series([fn.trial_score] * len(texts), index=texts.index)
    elif isinstance(fn, DocumentFilter):
        scores = fn.score_batch(texts)
    elif is_batched(fn):
        scores = fn(texts)  # type: ignore[operator]
    elif isinstance(texts, pd.DataFrame):
        scores = pd.Series([fn(*row) for row in texts.itertuples(index=False)], index=texts.index)  # type: ignore[operator]
    else:
        scores = pd.Series([fn(t) for t in texts], index=texts.index)  # type: ignore[operator]
    scores = pd.Series(scores, index=texts.index) if not isinstance(scores, pd.Series) else scores
    return scores.astype(score_type) if score_type is not None else scores


def _decide(fn: object, values: pd.Series, invert: bool) -> tuple[np.ndarray, pd.Series | None]:
    """``(keep, finer reasons of the dropped rows)``."""
    if isinstance(fn, DocumentFilter):
        keep = np.asarray(fn.keep_batch(values), dtype=bool)
    elif is_batched(fn):
        keep = np.asarray(fn(values), dtype=bool)  # type: ignore[operator]
    else:
        keep = np.array([bool(fn(v)) for v in values], dtype=bool)  # type: ignore[operator]
    if invert:
        keep = ~keep
        return keep, pd.Series(["inverted"] * int((~keep).sum()), dtype=object)
    if isinstance(fn, DocumentFilter) and (~keep).any():
        return keep, fn.reason_batch(values[~keep])
    return keep, None


def _spread(values: pd.Series, active: np.ndarray, index: pd.Index) -> pd.Series:
    """Values for the active rows, missing elsewhere, in a dtype that holds missing values."""
    target = _NULLABLE.get(values.dtype.kind) if isinstance(values.dtype, np.dtype) else None
    values = values.astype(target) if target else values
    positions = pd.Index(np.flatnonzero(active))
    spread = pd.Series(values.to_numpy(), index=positions, dtype=values.dtype).reindex(pd.RangeIndex(len(index)))
    spread.index = index
    return spread


def _write_jsonl(rows: pd.DataFrame, directory: Path, label: str, number: int) -> None:
    """One file per (step, partition), replaced atomically: recomputing a partition rewrites the same file."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.#-]+", "_", label)
    target = directory / f"{stem}.{number:05d}.jsonl"
    text = rows.to_json(orient="records", lines=True, force_ascii=False) if len(rows) else ""
    atomic_write(target, lambda temp: temp.write_text(text, encoding="utf-8"))
