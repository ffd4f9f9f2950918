"""Threshold bases shared by the heuristic filters: keep scores at most / at least / between limits, and a
vectorised ``score_document`` that is ``score_batch`` on a batch of one (so both always agree)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from curator_synth.filters.base import DocumentFilter

__all__ = ["_AtLeast", "_AtMost", "_Between", "_Vectorised", "_char_ratio", "_objects"]


def _objects(texts: pd.Series) -> pd.Series:
    """Python-``re`` semantics whatever the column's storage (pyarrow's RE2 differs on Unicode classes)."""
    return texts if texts.dtype == object else texts.astype(object)


def _char_ratio(texts: pd.Series, pattern: str) -> pd.Series:
    """Share of characters matching ``pattern``; 1.0 (drop) for empty texts."""
    texts = _objects(texts)
    nchar = texts.str.len().to_numpy(dtype=float)
    hits = texts.str.count(pattern).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.Series(np.where(nchar > 0, hits / nchar, 1.0), index=texts.index)


class _Vectorised(DocumentFilter):
    """``score_document`` is ``score_batch`` on a batch of one, so both always agree."""

    def score_document(self, text: Any) -> float | int | bool:
        value = self.score_batch(pd.Series([text], dtype=object)).iloc[0]
        return value.item() if isinstance(value, np.generic) else value


class _AtMost(DocumentFilter):
    """Keep scores ``<= self._limit``."""

    _limit: float

    def keep_document(self, score: Any) -> bool:
        return bool(score <= self._limit)

    def keep_batch(self, scores: pd.Series) -> pd.Series:
        return scores <= self._limit

    def reason_batch(self, scores: pd.Series) -> pd.Series:
        return pd.Series(None, index=scores.index, dtype=object)


class _AtLeast(_AtMost):
    """Keep scores ``>= self._limit``."""

    def keep_document(self, score: Any) -> bool:
        return bool(score >= self._limit)

    def keep_batch(self, scores: pd.Series) -> pd.Series:
        return scores >= self._limit


class _Between(DocumentFilter):
    """Keep ``self._low <= score <= self._high``; drop reasons ``too_low``/``too_high``."""

    _low: float
    _high: float
    _reasons = ("too_low", "too_high")

    def keep_document(self, score: Any) -> bool | tuple[bool, str]:
        if score < self._low:
            return False, self._reasons[0]
        if score > self._high:
            return False, self._reasons[1]
        return True

    def keep_batch(self, scores: pd.Series) -> pd.Series:
        return (scores >= self._low) & (scores <= self._high)

    def reason_batch(self, scores: pd.Series) -> pd.Series:
        return pd.Series(np.where(scores < self._low, *self._reasons), index=scores.index, dtype=object)
