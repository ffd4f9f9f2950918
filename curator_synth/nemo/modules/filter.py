"""NeMo's filter steps over curator_synth's own (:mod:`curator_synth.filters.steps`): ``Score``, ``ScoreFilter``,
``Filter``, ``Sequential`` and ``ParallelScoreFilter``.

They return what the native steps return (a :class:`~curator_synth.filters.report.FilteredDataset` after a filter,
whose ``report()`` counts drops by reason), with NeMo's two habits on top: a score column is also added to the
dataset passed in (``Score`` returns that very dataset, as NeMo's does), and ``ParallelScoreFilter`` returns a
``ParallelDataset``. A dataset that is itself the result of filter steps is left as it is: its kept rows are
computed from the annotated frame, which a later step does not change.
"""

from __future__ import annotations

from typing import Any

from curator_synth.dataset import DocumentDataset
from curator_synth.filters.base import DocumentFilter
from curator_synth.filters.report import REASON_COLUMN, FilteredDataset
from curator_synth.filters.steps import Filter, Sequential
from curator_synth.filters.steps import Score as _NativeScore
from curator_synth.filters.steps import ScoreFilter as _NativeScoreFilter
from curator_synth.nemo.datasets.parallel_dataset import ParallelDataset

__all__ = ["Filter", "ParallelScoreFilter", "Score", "ScoreFilter", "Sequential"]


def _add_scores_to_input(dataset: DocumentDataset, result: DocumentDataset) -> None:
    """NeMo adds a step's score column to the dataset it was given: every input row, with its score."""
    if isinstance(dataset, FilteredDataset):
        return
    frame = result.annotated if isinstance(result, FilteredDataset) else result.df
    dataset.df = frame.drop(columns=[REASON_COLUMN]) if REASON_COLUMN in frame.columns else frame


class Score(_NativeScore):
    """Add ``score_field`` with the scores of ``score_fn`` (a :class:`~curator_synth.filters.base.DocumentFilter`,
    a ``@batched`` function or a function of one text) to the dataset passed in, and return it (NeMo's ``Score``)."""

    def __call__(self, dataset: DocumentDataset) -> DocumentDataset:
        result = super().__call__(dataset)
        if isinstance(dataset, FilteredDataset):
            return result
        _add_scores_to_input(dataset, result)
        return dataset


class ScoreFilter(_NativeScoreFilter):
    """Score ``text_field`` with ``filter_obj`` and keep the documents it keeps (NeMo's ``ScoreFilter``); with
    ``score_field``, the scores are also added to the dataset passed in, as NeMo does."""

    def __call__(self, dataset: DocumentDataset) -> DocumentDataset:
        result = super().__call__(dataset)
        if self.score_field is not None:
            _add_scores_to_input(dataset, result)
        return result


class ParallelScoreFilter:
    """Apply a monolingual filter to each side of a bitext and keep the pairs both keep (NeMo's
    ``ParallelScoreFilter``): ``src_filter_obj`` scores ``src_field``, ``tgt_filter_obj`` scores ``tgt_field``;
    with ``invert``, the pairs both sides drop are kept. ``src_score`` / ``tgt_score`` store the scores (the target
    is scored only on pairs whose source is kept, so its score is missing on the others)."""

    def __init__(
        self,
        src_filter_obj: DocumentFilter,
        tgt_filter_obj: DocumentFilter,
        src_field: str = "src",
        tgt_field: str = "tgt",
        src_score: str | None = None,
        tgt_score: str | None = None,
        score_type: Any = None,
        invert: bool = False,
    ) -> None:
        self.source_score_filter = _NativeScoreFilter(src_filter_obj, src_field, src_score, score_type, invert)
        self.target_score_filter = _NativeScoreFilter(tgt_filter_obj, tgt_field, tgt_score, score_type, invert)

    def __call__(self, dataset: DocumentDataset) -> ParallelDataset:
        result = self.target_score_filter(self.source_score_filter(dataset))
        if self.source_score_filter.score_field or self.target_score_filter.score_field:
            _add_scores_to_input(dataset, result)
        return ParallelDataset(result.df)
