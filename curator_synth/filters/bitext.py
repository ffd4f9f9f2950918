"""Filters over a text and its translation (bitext): ``LengthRatioFilter``, Moses' length-ratio cleaning.

They are :class:`~curator_synth.filters.base.PairFilter`\\ s: ``ScoreFilter(LengthRatioFilter(), text_field=("src",
"tgt"))`` hands them the source and target columns.
"""

from __future__ import annotations

import math
from typing import Any

from curator_synth.filters.base import PairFilter, register_filter
from curator_synth.filters.words import word_splitter

__all__ = ["LengthRatioFilter"]


@register_filter
class LengthRatioFilter(PairFilter):
    """Keep pairs whose word counts differ by less than ``max_ratio`` times, either way round: the score is the
    larger of source/target and target/source words, kept when below ``max_ratio``. Words are split per language
    (:func:`~curator_synth.filters.words.word_splitter`); a side without words scores infinity (dropped)."""

    name = "length_ratio"

    def __init__(self, max_ratio: float = 3.0, src_lang: str = "en", tgt_lang: str = "en") -> None:
        super().__init__()
        self.max_ratio = float(max_ratio)
        self.src_lang = src_lang
        self.tgt_lang = tgt_lang
        self._src_words = word_splitter(src_lang)
        self._tgt_words = word_splitter(tgt_lang)

    def score_pair(self, instruction: str, response: str) -> float:
        src = len(self._src_words(instruction.strip()))
        tgt = len(self._tgt_words(response.strip()))
        if not src or not tgt:
            return math.inf
        return max(src / tgt, tgt / src)

    def keep_document(self, score: Any) -> bool:
        return bool(score < self.max_ratio)
