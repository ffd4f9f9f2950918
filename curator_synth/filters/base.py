"""The filter contract (NeMo Curator 0.9 names): ``DocumentFilter`` scores a text and decides on the score.

A filter is a small object with two jobs, each with a per-item and a batch form:

- ``score_document(text) -> float | int | bool`` / ``score_batch(texts: pd.Series) -> pd.Series``
- ``keep_document(score) -> bool`` / ``keep_batch(scores: pd.Series) -> pd.Series`` (bool)

The batch forms default to loops over the per-item forms; filters where speed matters override them with
vectorised pandas/numpy code. ``keep_document`` is a bool, as in NeMo Curator, so ``if f.keep_document(s):`` means
what it says; *why* a score is dropped (``"too_short"``) is ``reject_reason(score)``, and ``reason_batch`` for a
filter that overrides ``keep_batch``. A filter written for datatrove may still return ``(False, reason)`` from
``keep_document``: the steps accept it (:meth:`DocumentFilter.verdict`). The steps that apply filters to a
dataset (``ScoreFilter``, ``Filter``..., in :mod:`curator_synth.filters.steps`) do all the bookkeeping: nothing in
a filter counts anything.

``PairFilter`` is the same contract for records with two text fields (instruction, response):
``ScoreFilter(pair_filter, text_field=("instruction", "output"))`` hands it both columns.

Every built-in filter is registered in :data:`FILTERS` under its class name and its ``name`` (both
case-insensitive), so recipes can say ``WordCountFilter`` or ``word_count``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from curator_synth.registry import Registry

__all__ = [
    "FILTERS",
    "DocumentFilter",
    "PairFilter",
    "ScoreValue",
    "Verdict",
    "batched",
    "is_batched",
    "register_filter",
]

#: What the steps accept from ``keep_document``: a bool (every built-in filter), or datatrove's ``(bool, reason)``.
Verdict = bool | tuple[bool, str]
#: What ``score_document`` returns.
ScoreValue = float | int | bool

FILTERS: Registry[type[DocumentFilter]] = Registry("filters")

F = TypeVar("F", bound=type["DocumentFilter"])
C = TypeVar("C", bound=Callable[..., Any])


def register_filter(cls: F) -> F:
    """Class decorator: register a filter in :data:`FILTERS` under its class name and its ``name``."""
    FILTERS.add(cls.__name__, cls)
    if cls.name and cls.name.lower() != cls.__name__.lower():
        FILTERS.add(cls.name, cls)
    return cls


def batched(fn: C) -> C:
    """Mark a function as batched: it takes a ``pd.Series`` and returns one value per row (NeMo's ``@batched``).

    ``Score``/``Filter`` call unmarked functions once per value. On a filter's ``score_document`` or
    ``keep_document`` it makes ``score_batch`` / ``keep_batch`` hand the method the whole batch.
    """
    fn._curator_batched = True  # type: ignore[attr-defined]
    return fn


def is_batched(fn: object) -> bool:
    return bool(getattr(fn, "_curator_batched", False))


class DocumentFilter(ABC):
    """Scores one text and decides from the score whether to keep it.

    ``name`` labels the filter in reports and drop reasons (defaults to the class name). Filters hold only
    configuration, so they pickle to Dask workers; caches they build lazily must not change results.
    """

    name: str = ""

    def __init__(self) -> None:
        # Subclasses call super().__init__(); instances may carry a finer name (e.g. the n of an n-gram filter).
        if not self.name:
            self.name = type(self).__name__

    # ------------------------------------------------------------------------------------- per item
    @abstractmethod
    def score_document(self, text: Any) -> ScoreValue:
        """The score of one text (for a :class:`PairFilter`, one ``(instruction, response)`` tuple)."""

    @abstractmethod
    def keep_document(self, score: Any) -> bool:
        """``True`` to keep, ``False`` to drop."""

    def reject_reason(self, score: Any) -> str | None:
        """Why ``score`` is dropped, finer than the filter's name (e.g. ``"too_short"``); None: just the name."""
        return None

    def verdict(self, score: Any) -> tuple[bool, str | None]:
        """``(keep, reason)`` for one score: ``keep_document``, and the reason of a drop (``reject_reason``, or the
        one a datatrove-style ``keep_document`` returned with it)."""
        if is_batched(self.keep_document):  # it decides on a batch: a batch of one
            keep, reason = bool(self.keep_batch(pd.Series([score], dtype=object)).iloc[0]), None
        else:
            keep, reason = _verdict(self.keep_document(score))
        return keep, None if keep else reason or self.reject_reason(score)

    def score_one(self, text: Any) -> ScoreValue:
        """The score of one text, whether ``score_document`` takes one text or (``@batched``) a batch."""
        if is_batched(self.score_document):
            value = self.score_batch(pd.Series([text], dtype=object)).iloc[0]
            return value.item() if isinstance(value, np.generic) else value
        return self.score_document(text)

    # ---------------------------------------------------------------------------------------- batch
    def score_batch(self, texts: pd.Series) -> pd.Series:
        """Scores of a batch (same index). Default: ``score_document`` per item, or once on the whole Series when
        it is marked ``@batched`` (NeMo's batched filters); override for speed."""
        if is_batched(self.score_document):
            return _batch_result(self.score_document(texts), texts, "score_document")
        return pd.Series([self.score_document(t) for t in texts], index=texts.index)

    def keep_batch(self, scores: pd.Series) -> pd.Series:
        """A bool Series: which rows to keep. Default: ``keep_document`` per item, or once on the whole Series when
        it is marked ``@batched``; override for speed."""
        if is_batched(self.keep_document):
            return _batch_result(self.keep_document(scores), scores, "keep_document").astype(bool)
        values = [self.verdict(s)[0] for s in scores]
        return pd.Series(values, index=scores.index, dtype=bool)

    def reason_batch(self, scores: pd.Series) -> pd.Series:
        """Finer drop reasons for ``scores`` (called only on the rejected rows; ``None`` = just the name).

        Default: :meth:`verdict`'s reason per score (none for a ``@batched`` ``keep_document``, which decides on a
        whole batch). A filter overriding ``keep_batch`` may override this with vectorised code too.
        """
        if is_batched(self.keep_document):
            return pd.Series([None] * len(scores), index=scores.index, dtype=object)
        return pd.Series([self.verdict(s)[1] for s in scores], index=scores.index, dtype=object)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_") and k != "name")
        return f"{type(self).__name__}({params})"


class PairFilter(DocumentFilter):
    """A filter over two text fields, e.g. instruction and response (echoes, overlap).

    Applied with ``ScoreFilter(f, text_field=("instruction", "output"))``: ``score_batch`` then receives a
    DataFrame whose first column is the instruction and second the response. Subclasses implement
    ``score_pair`` and ``keep_document``.
    """

    #: What the two fields are, in the error for a batch without them.
    pair_fields = ("instruction", "response")

    @abstractmethod
    def score_pair(self, instruction: str, response: str) -> ScoreValue:
        """The score of one (instruction, response) pair."""

    def score_document(self, text: Any) -> ScoreValue:
        instruction, response = text
        return self.score_pair(_text(instruction), _text(response))

    def pairs(self, texts: pd.Series | pd.DataFrame) -> list[tuple[str, str]]:
        """The ``(first, second)`` texts of a batch (a two-column DataFrame; missing values read as "")."""
        if not isinstance(texts, pd.DataFrame) or texts.shape[1] != 2:
            first, second = self.pair_fields
            raise TypeError(f"{self.name} needs two text fields: ScoreFilter(..., text_field=({first}, {second}))")
        return [(_text(a), _text(b)) for a, b in zip(texts.iloc[:, 0], texts.iloc[:, 1], strict=True)]

    def score_batch(self, texts: pd.Series | pd.DataFrame) -> pd.Series:
        return pd.Series([self.score_pair(a, b) for a, b in self.pairs(texts)], index=texts.index)


def _batch_result(result: Any, batch: pd.Series, method: str) -> pd.Series:
    """What a ``@batched`` method returned for ``batch``, as a Series on the batch's index: one value per row (a
    Series on another index, a list or an array is taken in order), anything else is an error."""
    if isinstance(result, pd.Series) and result.index.equals(batch.index):
        return result
    values = result.to_numpy() if isinstance(result, pd.Series) else result
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) != len(batch):
        got = f"{len(values)} values" if hasattr(values, "__len__") else type(result).__name__
        raise TypeError(f"a @batched {method} must return one value per row ({len(batch)}), got {got}")
    return pd.Series(list(values) if isinstance(values, list) else values, index=batch.index)


def _text(value: Any) -> str:
    """Missing values (None, NaN, NA) read as the empty text."""
    return value if isinstance(value, str) else ("" if value is None or pd.isna(value) else str(value))


def _verdict(result: Verdict | Any) -> tuple[bool, str | None]:
    if isinstance(result, tuple):
        keep, reason = result
        return bool(keep), (None if keep else reason)
    return bool(result), None
