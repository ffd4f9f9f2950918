"""NeMo Curator's heuristic document filters (Gopher, C4), same class names, ``name``s and default thresholds.

Character-ratio and word-count filters are vectorised (pandas ``str`` methods over a whole partition);
line- and n-gram-based ones loop in Python. Text is split the way NeMo splits English: words on whitespace,
"sentences" (really lines) on ``\\n``, paragraphs on ``\\n\\n``. Empty documents get the score that drops them.
Line-, paragraph- and token-level ones live in :mod:`curator_synth.filters.heuristic_lines`, repetition filters
in :mod:`curator_synth.filters.repetition`; the threshold bases they share in :mod:`~curator_synth.filters.thresholds`.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from curator_synth.filters.base import register_filter
from curator_synth.filters.thresholds import _AtLeast, _AtMost, _Between, _char_ratio, _objects, _Vectorised
from curator_synth.filters.words import SEGMENTED_LANGUAGES, word_splitter

__all__ = [
    "CommonEnglishWordsFilter",
    "LongWordFilter",
    "MeanWordLengthFilter",
    "NonAlphaNumericFilter",
    "NumbersFilter",
    "ParenthesesFilter",
    "PornographicUrlsFilter",
    "SymbolsToWordsFilter",
    "UrlsFilter",
    "WhiteSpaceFilter",
    "WordCountFilter",
    "WordsWithoutAlphabetsFilter",
]

ELLIPSIS_MARKS = ("...", "[...]", "…", "(...)", "[…]", "-»", "read more..", "read more")
COMMON_ENGLISH_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})
ALPHANUMERIC = r"[a-zA-Z0-9\n?!,.]"
URL = r"https?://(?:[a-zA-Z]|[0-9]|[$-_@.&+]|[!*\(\),]|(?:%[0-9a-fA-F][0-9a-fA-F]))+"
WHITE_SPACE = r"[\t\n\r\x08 ]"
PARENTHESES = r"[{}⟨⟩\[\]()]"
_HASH = re.compile(r"#")
_URL = re.compile(URL)
_ALPHA = re.compile(r"[^\W\d_]")


# ------------------------------------------------------------------------------------ character ratios
@register_filter
class NonAlphaNumericFilter(_Vectorised, _AtMost):
    """Drop if more than 25% of the characters are not alphanumeric (newlines and ``?!,.`` count as such)."""

    name = "alpha_numeric"

    def __init__(self, max_non_alpha_numeric_to_text_ratio: float = 0.25) -> None:
        super().__init__()
        self.max_non_alpha_numeric_to_text_ratio = self._limit = max_non_alpha_numeric_to_text_ratio

    def score_batch(self, texts: pd.Series) -> pd.Series:
        ratio = _char_ratio(texts, ALPHANUMERIC)
        return (1.0 - ratio).where(_objects(texts).str.len() > 0, 1.0)


@register_filter
class NumbersFilter(_Vectorised, _AtMost):
    """Drop if more than 15% of the characters are digits."""

    name = "numbers_ratio"

    def __init__(self, max_number_to_text_ratio: float = 0.15) -> None:
        super().__init__()
        self.max_number_to_text_ratio = self._limit = max_number_to_text_ratio

    def score_batch(self, texts: pd.Series) -> pd.Series:
        return _char_ratio(texts, r"\d")


@register_filter
class UrlsFilter(_Vectorised, _AtMost):
    """Drop if more than 20% of the characters belong to URLs."""

    name = "urls_ratio"

    def __init__(self, max_url_to_text_ratio: float = 0.2) -> None:
        super().__init__()
        self.max_url_to_text_ratio = self._limit = max_url_to_text_ratio

    def score_batch(self, texts: pd.Series) -> pd.Series:
        texts = _objects(texts)
        nchar = texts.str.len().to_numpy(dtype=float)
        without = texts.str.replace(URL, "", regex=True).str.len().to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return pd.Series(np.where(nchar > 0, (nchar - without) / nchar, 1.0), index=texts.index)


@register_filter
class PornographicUrlsFilter(_AtMost):
    """Drop documents with a URL containing ``porn`` (any case). The score is 1 for such a document, else 0."""

    name = "pornographic_urls"

    def __init__(self) -> None:
        super().__init__()
        self._limit = 0

    def score_document(self, text: Any) -> int:
        return int(any("porn" in url.lower() for url in _URL.findall(str(text))))


@register_filter
class WhiteSpaceFilter(_Vectorised, _AtMost):
    """Drop if more than 25% of the characters are white space (leading/trailing included)."""

    name = "white_space"

    def __init__(self, max_white_space_ratio: float = 0.25) -> None:
        super().__init__()
        self.max_white_space_ratio = self._limit = max_white_space_ratio

    def score_batch(self, texts: pd.Series) -> pd.Series:
        return _char_ratio(texts, WHITE_SPACE)


@register_filter
class ParenthesesFilter(_Vectorised, _AtMost):
    """Drop if more than 10% of the characters are brackets of any kind."""

    name = "parentheses_ratio"

    def __init__(self, max_parentheses_ratio: float = 0.1) -> None:
        super().__init__()
        self.max_parentheses_ratio = self._limit = max_parentheses_ratio

    def score_batch(self, texts: pd.Series) -> pd.Series:
        return _char_ratio(texts, PARENTHESES)


# ------------------------------------------------------------------------------------------------ words
@register_filter
class WordCountFilter(_Vectorised, _Between):
    """Keep documents with ``min_words`` to ``max_words`` words (reasons too_short/too_long). Words are separated
    by white space, except in ``lang="zh"`` (jieba) and ``"ja"`` (MeCab): :func:`~curator_synth.filters.words.
    word_splitter`."""

    name = "word_count"
    _reasons = ("too_short", "too_long")

    def __init__(self, min_words: int = 50, max_words: int = 100000, lang: str = "en") -> None:
        super().__init__()
        self.min_words = self._low = min_words
        self.max_words = self._high = max_words
        self.lang = lang
        self._split = word_splitter(lang) if lang.lower() in SEGMENTED_LANGUAGES else None

    def score_batch(self, texts: pd.Series) -> pd.Series:
        if self._split is None:
            return _objects(texts).str.count(r"\S+").astype("int64")
        return pd.Series([len(self._split(text.strip())) for text in texts], index=texts.index, dtype="int64")


@register_filter
class MeanWordLengthFilter(_Vectorised, _Between):
    """Keep documents whose mean word length is within [3, 10] characters (an empty text scores 0)."""

    name = "mean_word_length"
    _reasons = ("too_short", "too_long")

    def __init__(self, min_mean_word_length: float = 3, max_mean_word_length: float = 10) -> None:
        super().__init__()
        self.min_mean_word_length = self._low = min_mean_word_length
        self.max_mean_word_length = self._high = max_mean_word_length

    def score_batch(self, texts: pd.Series) -> pd.Series:
        texts = _objects(texts)
        words = texts.str.count(r"\S+").to_numpy(dtype=float)
        chars = texts.str.count(r"\S").to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return pd.Series(np.where(words > 0, chars / words, 0.0), index=texts.index)


@register_filter
class LongWordFilter(_AtMost):
    """Drop documents containing a word longer than 1000 characters (minified code, base64 blobs)."""

    name = "max_word_length"

    def __init__(self, max_word_length: int = 1000) -> None:
        super().__init__()
        self.max_word_length = self._limit = max_word_length

    def score_document(self, text: Any) -> int:
        return max(map(len, str(text).split()), default=0)


@register_filter
class SymbolsToWordsFilter(_AtMost):
    """Drop if more than 10% of the words are ellipses or mostly ``#`` symbols."""

    name = "symbol_to_word"

    def __init__(self, max_symbol_to_word_ratio: float = 0.1) -> None:
        super().__init__()
        self.max_symbol_to_word_ratio = self._limit = max_symbol_to_word_ratio

    def score_document(self, text: Any) -> float:
        words = str(text).split()
        if not words:
            return 1.0
        symbols = sum(1 for w in words if w in ELLIPSIS_MARKS or len(_HASH.findall(w)) / len(w) > 0.5)
        return symbols / len(words)


@register_filter
class CommonEnglishWordsFilter(_AtLeast):
    """Keep documents with at least 2 lowercase common English words (the, be, to, of, and, that, have, with).

    ``stop_at_false`` stops counting once the minimum is reached (the score is then capped at it).
    """

    name = "common_english_words"

    def __init__(self, min_num_common_words: int = 2, stop_at_false: bool = True) -> None:
        super().__init__()
        self.min_num_common_words = self._limit = min_num_common_words
        self.stop_at_false = stop_at_false

    def score_document(self, text: Any) -> int:
        count = 0
        for word in str(text).split():
            count += word in COMMON_ENGLISH_WORDS
            if self.stop_at_false and count >= self.min_num_common_words:
                break
        return count


@register_filter
class WordsWithoutAlphabetsFilter(_AtLeast):
    """Keep documents where at least 80% of the words contain a letter."""

    name = "words_without_alphabets"

    def __init__(self, min_words_with_alphabets: float = 0.8) -> None:
        super().__init__()
        self.min_words_with_alphabets = self._limit = min_words_with_alphabets

    def score_document(self, text: Any) -> float:
        words = str(text).split()
        return sum(1 for w in words if _ALPHA.search(w)) / len(words) if words else 0.0
