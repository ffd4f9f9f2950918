"""Thresholds: the bases shared by the heuristic filters (keep scores at most / at least / between limits, and a
vectorised ``score_document`` that is ``score_batch`` on a batch of one, so both always agree), and
:class:`ScoreThresholdFilter`, which keeps rows whose score column (a reward, a judge's grade) is within limits."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from curator_synth.errors import ConfigError
from curator_synth.filters.base import DocumentFilter, register_filter

__all__ = ["ScoreThresholdFilter", "_AtLeast", "_AtMost", "_Between", "_Vectorised", "_char_ratio", "_objects"]


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

    def keep_document(self, score: Any) -> bool:
        return bool(self._low <= score <= self._high)

    def reject_reason(self, score: Any) -> str | None:
        return self._reasons[0] if score < self._low else self._reasons[1] if score > self._high else None

    def keep_batch(self, scores: pd.Series) -> pd.Series:
        return (scores >= self._low) & (scores <= self._high)

    def reason_batch(self, scores: pd.Series) -> pd.Series:
        return pd.Series(np.where(scores < self._low, *self._reasons), index=scores.index, dtype=object)


@register_filter
class ScoreThresholdFilter(DocumentFilter):
    """Keep rows whose numeric score column (a reward model's helpfulness, an LLM judge's grade, a
    :func:`quality_score`) is at least ``min_score`` (and at most ``max_score`` when given).

    ``Filter(ScoreThresholdFilter("helpfulness", 3.0), filter_field="helpfulness")``, or
    ``ScoreFilter(f, text_field=f.field)``. Missing or non-numeric scores are dropped (reason ``no_score``).
    """

    name = "score_threshold"

    def __init__(self, field: str, min_score: float | None = None, max_score: float | None = None) -> None:
        super().__init__()
        if min_score is None and max_score is None:
            raise ConfigError("ScoreThresholdFilter needs min_score or max_score")
        if min_score is not None and max_score is not None and min_score > max_score:
            raise ConfigError(f"ScoreThresholdFilter: min_score {min_score} > max_score {max_score}")
        self.field = field
        self.min_score = min_score
        self.max_score = max_score
        self.name = f"score_threshold[{field}]"

    def score_document(self, text: Any) -> float:
        try:
            value = float(text)
        except (TypeError, ValueError):
            return math.nan
        return value

    def score_batch(self, texts: pd.Series) -> pd.Series:
        return pd.to_numeric(texts, errors="coerce").astype("float64")

    def keep_document(self, score: Any) -> bool:
        return self.reject_reason(score) is None

    def reject_reason(self, score: Any) -> str | None:
        value = self.score_document(score)
        if math.isnan(value):
            return "no_score"
        if self.min_score is not None and value < self.min_score:
            return "below_min"
        if self.max_score is not None and value > self.max_score:
            return "above_max"
        return None
