"""Filters for source code (StarCoder's data filters, with NeMo Curator 0.9's names and defaults): the share of
comments, the number of lines, XML mistaken for code, the share of letters, tokenizer fertility. Per-extension
rules are in :mod:`curator_synth.filters.code_extension`, HTML in :mod:`curator_synth.filters.html`.

A score that cannot be computed (source that does not tokenize) is NaN: the document is dropped with the reason
``unparseable``.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from curator_synth.filters.base import register_filter
from curator_synth.filters.code_comments import (
    UnparseableSourceError,
    comments,
    python_comments_and_docstrings,
    syntax_for,
)
from curator_synth.filters.thresholds import _AtLeast, _AtMost, _Between, _objects, _Vectorised

__all__ = [
    "AlphaFilter",
    "GeneralCommentToCodeFilter",
    "NumberOfLinesOfCodeFilter",
    "PythonCommentToCodeFilter",
    "TokenizerFertilityFilter",
    "XMLHeaderFilter",
]


class _CommentRatio(_Between):
    """The share of a source's characters that are comments, kept between two limits. Subclasses count the
    comment characters (``_comment_chars``); a source they cannot parse scores NaN, dropped as ``unparseable``."""

    def __init__(self, min_comment_to_code_ratio: float, max_comment_to_code_ratio: float) -> None:
        super().__init__()
        self.min_comment_to_code_ratio = self._low = min_comment_to_code_ratio
        self.max_comment_to_code_ratio = self._high = max_comment_to_code_ratio

    def _comment_chars(self, source: str) -> int:
        raise NotImplementedError

    def score_document(self, text: Any) -> float:
        source = str(text)
        if not source:
            return 0.0
        try:
            return self._comment_chars(source) / len(source)
        except UnparseableSourceError:
            return math.nan

    def reject_reason(self, score: Any) -> str | None:
        if isinstance(score, float) and math.isnan(score):
            return "unparseable"
        return super().reject_reason(score)

    def reason_batch(self, scores: pd.Series) -> pd.Series:
        return pd.Series([self.reject_reason(score) for score in scores], index=scores.index, dtype=object)


@register_filter
class PythonCommentToCodeFilter(_CommentRatio):
    """Keep Python sources whose comments and docstrings are 1% to 85% of the characters (reasons too_low /
    too_high / unparseable). Comments count with their ``#``, docstrings without their quotes."""

    name = "python_comment_ratio"

    def __init__(self, min_comment_to_code_ratio: float = 0.01, max_comment_to_code_ratio: float = 0.85) -> None:
        super().__init__(min_comment_to_code_ratio, max_comment_to_code_ratio)

    def _comment_chars(self, source: str) -> int:
        found, docstrings = python_comments_and_docstrings(source)
        return sum(map(len, found)) + sum(map(len, docstrings))


@register_filter
class GeneralCommentToCodeFilter(_CommentRatio):
    """Keep sources whose comments are 1% to 85% of the characters; ``language`` is a MIME type
    (``"text/x-c++"``, ``"text/x-java-source"``, ...: :data:`~curator_synth.filters.code_comments.COMMENT_SYNTAX`).
    Comment markers (``//``, ``/* */``) do not count, and the comments are joined with a space."""

    name = "comment_ratio"

    def __init__(
        self, language: str, min_comment_to_code_ratio: float = 0.01, max_comment_to_code_ratio: float = 0.85
    ) -> None:
        super().__init__(min_comment_to_code_ratio, max_comment_to_code_ratio)
        syntax_for(language)  # an unknown language fails here, not on every document
        self.language = language

    def _comment_chars(self, source: str) -> int:
        return len(" ".join(comments(source, self.language)))


@register_filter
class NumberOfLinesOfCodeFilter(_Vectorised, _Between):
    """Keep sources of ``min_lines`` to ``max_lines`` lines (a text without a newline is one line)."""

    name = "num_lines"
    _reasons = ("too_short", "too_long")

    def __init__(self, min_lines: int = 10, max_lines: int = 20000) -> None:
        super().__init__()
        self.min_lines = self._low = min_lines
        self.max_lines = self._high = max_lines

    def score_batch(self, texts: pd.Series) -> pd.Series:
        return (_objects(texts).str.count("\n") + 1).astype("int64")


@register_filter
class XMLHeaderFilter(_Vectorised, _AtMost):
    """Drop "code" files that are XML (an ``<?xml version=`` header in the first ``char_prefix_search_length``
    characters): files with a wrong extension. The score is 1 for such a file, else 0."""

    name = "xml_header"

    def __init__(self, char_prefix_search_length: int = 100) -> None:
        super().__init__()
        self.char_prefix_search_length = char_prefix_search_length
        self._limit = 0

    def score_batch(self, texts: pd.Series) -> pd.Series:
        prefixes = _objects(texts).str.slice(0, self.char_prefix_search_length)
        return prefixes.str.contains("<?xml version=", regex=False).astype("int64")


@register_filter
class AlphaFilter(_Vectorised, _AtLeast):
    """Keep sources of which at least 25% of the characters are letters: drops large tensors or tables stored as
    text in code files (an empty text scores 0)."""

    name = "alpha_filter"

    def __init__(self, min_alpha_ratio: float = 0.25) -> None:
        super().__init__()
        self.min_alpha_ratio = self._limit = min_alpha_ratio

    def score_batch(self, texts: pd.Series) -> pd.Series:
        scores = [sum(map(str.isalpha, text)) / len(text) if text else 0.0 for text in _objects(texts)]
        return pd.Series(scores, index=texts.index, dtype="float64")


@register_filter
class TokenizerFertilityFilter(_AtLeast):
    """Keep sources with at least ``min_char_to_token_ratio`` characters per token of ``tokenizer`` (an object
    with ``encode(text)``: a Hugging Face tokenizer, a SentencePiece processor...): text the tokenizer splits into
    many short pieces is rarely code. A text without tokens scores 0."""

    name = "tokenizer_fertility"

    def __init__(self, tokenizer: Any, min_char_to_token_ratio: float = 2.5) -> None:
        super().__init__()
        if not callable(getattr(tokenizer, "encode", None)):
            raise TypeError(f"TokenizerFertilityFilter needs a tokenizer with encode(text), got {type(tokenizer)}")
        self.tokenizer = tokenizer
        self.min_char_to_token_ratio = self._limit = min_char_to_token_ratio

    def score_document(self, text: Any) -> float:
        source = str(text)
        tokens = len(self.tokenizer.encode(source))
        return len(source) / tokens if tokens else 0.0
