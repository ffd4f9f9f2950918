"""NeMo's ``BitextFilter``: a filter that scores a text together with its translation (and any metadata columns)
and is applied to a :class:`~curator_synth.nemo.datasets.ParallelDataset` directly: ``LengthRatioFilter(...)(data)``.

Subclasses implement ``score_bitext(src, tgt, **metadata)`` and ``keep_bitext(score)``, per pair or, marked
``@batched``, per batch (Series in, Series out). The work is done by curator_synth's ``ScoreFilter`` over the
columns ``(src_field, tgt_field, *metadata_fields)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import pandas as pd

from curator_synth.dataset import DocumentDataset
from curator_synth.filters.base import DocumentFilter, is_batched
from curator_synth.nemo.datasets.parallel_dataset import ParallelDataset
from curator_synth.nemo.modules.filter import ScoreFilter

__all__ = ["BitextFilter"]


class BitextFilter(ABC):
    """Scores ``src_field`` and ``tgt_field`` together. ``metadata_fields`` are passed too, as keyword arguments
    named by ``metadata_field_name_mapping`` (by default the column's name); ``score_field``, ``score_type`` and
    ``invert`` are ``ScoreFilter``'s. ``name`` labels the filter in reports (the class name by default)."""

    name: str = ""

    def __init__(
        self,
        src_field: str = "src",
        tgt_field: str = "tgt",
        metadata_fields: list[str] | str | None = None,
        metadata_field_name_mapping: dict[str, str] | None = None,
        score_field: str | None = None,
        score_type: Any = None,
        invert: bool = False,
    ) -> None:
        self.src_field = src_field
        self.tgt_field = tgt_field
        self.metadata_fields = [metadata_fields] if isinstance(metadata_fields, str) else list(metadata_fields or [])
        self.metadata_field_name_mapping = dict(metadata_field_name_mapping or {})
        self.score_field = score_field
        self.score_type = score_type
        self.invert = invert
        if not self.name:
            self.name = type(self).__name__

    @abstractmethod
    def score_bitext(self, src: Any, tgt: Any, **kwargs: Any) -> Any:
        """The score of a pair (or, ``@batched``, a Series of scores of Series of pairs)."""

    @abstractmethod
    def keep_bitext(self, score: Any) -> bool:
        """``True`` to keep the pair (or, ``@batched``, a bool Series)."""

    def __call__(self, dataset: DocumentDataset) -> ParallelDataset:
        fields = (self.src_field, self.tgt_field, *self.metadata_fields)
        step = ScoreFilter(_PairScorer(self), fields, self.score_field, self.score_type, self.invert)
        return ParallelDataset(step(dataset).df)


class _PairScorer(DocumentFilter):
    """A bitext filter as a ``DocumentFilter`` over the frame of its columns, for ``ScoreFilter``."""

    def __init__(self, bitext: BitextFilter) -> None:
        self.name = bitext.name
        super().__init__()
        self.bitext = bitext

    def _arguments(self, columns: dict[str, Any]) -> dict[str, Any]:
        mapping = self.bitext.metadata_field_name_mapping
        arguments = {"src": columns[self.bitext.src_field], "tgt": columns[self.bitext.tgt_field]}
        arguments.update({mapping.get(f, f): columns[f] for f in self.bitext.metadata_fields})
        return arguments

    def score_batch(self, texts: pd.Series | pd.DataFrame) -> pd.Series:
        if not isinstance(texts, pd.DataFrame):
            raise TypeError(f"{self.name} scores the columns {self.bitext.src_field!r} and {self.bitext.tgt_field!r}")
        if is_batched(self.bitext.score_bitext):
            scores = self.bitext.score_bitext(**self._arguments({c: texts[c] for c in texts.columns}))
            return pd.Series(scores.to_numpy() if isinstance(scores, pd.Series) else scores, index=texts.index)
        rows = texts.to_dict(orient="records")
        return pd.Series([self.bitext.score_bitext(**self._arguments(row)) for row in rows], index=texts.index)

    def score_document(self, text: Any) -> Any:
        raise TypeError(f"{self.name} scores a frame of columns: use score_batch")

    def keep_batch(self, scores: pd.Series) -> pd.Series:
        if is_batched(self.bitext.keep_bitext):
            keep = self.bitext.keep_bitext(scores)
            return pd.Series(keep.to_numpy() if isinstance(keep, pd.Series) else keep, index=scores.index, dtype=bool)
        return pd.Series([bool(self.bitext.keep_bitext(score)) for score in scores], index=scores.index, dtype=bool)

    def keep_document(self, score: Any) -> bool:
        return bool(self.bitext.keep_bitext(score))
