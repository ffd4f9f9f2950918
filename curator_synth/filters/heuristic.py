"""NeMo Curator's heuristic document filters (Gopher, C4), same class names, ``name``s and default thresholds.

Character-ratio and word-count filters are vectorised (pandas ``str`` methods over a whole partition);
line- and n-gram-based ones loop in Python. Text is split the way NeMo splits English: words on whitespace,
"sentences" (really lines) on ``\\n``, paragraphs on ``\\n\\n``. Empty documents get the score that drops them.
Repetition filters live in :mod:`curator_synth.filters.repetition`.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from curator_synth.errors import ConfigError
from curator_synth.filters.base import DocumentFilter, register_filter

__all__ = [
    "BoilerPlateStringFilter",
    "BulletsFilter",
    "CommonEnglishWordsFilter",
    "EllipsisFilter",
    "LongWordFilter",
    "MeanWordLengthFilter",
    "NonAlphaNumericFilter",
    "NumbersFilter",
    "ParenthesesFilter",
    "PunctuationFilter",
    "SubstringFilter",
    "SymbolsToWordsFilter",
    "TokenCountFilter",
    "UrlsFilter",
    "WhiteSpaceFilter",
    "WordCountFilter",
    "WordsWithoutAlphabetsFilter",
]

END_MARKS = (".", "?", "!", '"', "'")
ELLIPSIS_MARKS = ("...", "[...]", "…", "(...)", "[…]", "-»", "read more..", "read more")
BULLETS = ("•", "‣", "⁃", "⁌", "⁍", "∙", "○", "●", "◘", "◦", "⦾", "⦿")
COMMON_ENGLISH_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})
POLICY_SUBSTRINGS = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "privacy overview",
    "use of cookies",
    "use cookies",
    "privacy & cookies policy",
    "privacy and cookies policy",
)
ALPHANUMERIC = r"[a-zA-Z0-9\n?!,.]"
URL = r"https?://(?:[a-zA-Z]|[0-9]|[$-_@.&+]|[!*\(\),]|(?:%[0-9a-fA-F][0-9a-fA-F]))+"
WHITE_SPACE = r"[\t\n\r\x08 ]"
PARENTHESES = r"[{}⟨⟩\[\]()]"
_HASH = re.compile(r"#")
_ALPHA = re.compile(r"[^\W\d_]")


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
    """Keep documents with ``min_words`` to ``max_words`` whitespace-separated words (reasons too_short/too_long)."""

    name = "word_count"
    _reasons = ("too_short", "too_long")

    def __init__(self, min_words: int = 50, max_words: int = 100000) -> None:
        super().__init__()
        self.min_words = self._low = min_words
        self.max_words = self._high = max_words

    def score_batch(self, texts: pd.Series) -> pd.Series:
        return _objects(texts).str.count(r"\S+").astype("int64")


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


# ------------------------------------------------------------------------------------------------ lines
def _lines(text: Any) -> list[str]:
    return str(text).split("\n")


@register_filter
class BulletsFilter(_AtMost):
    """Drop if more than 90% of the lines start with a bullet character."""

    name = "bullet_ratio"

    def __init__(self, max_bullet_lines_ratio: float = 0.9) -> None:
        super().__init__()
        self.max_bullet_lines_ratio = self._limit = max_bullet_lines_ratio

    def score_document(self, text: Any) -> float:
        lines = _lines(text)
        return sum(1 for line in lines if line.strip().startswith(BULLETS)) / len(lines)


@register_filter
class PunctuationFilter(_AtMost):
    """Drop if more than 85% of the lines do not end with an end mark (``. ? ! " '``)."""

    name = "punctuation"

    def __init__(self, max_num_sentences_without_endmark_ratio: float = 0.85) -> None:
        super().__init__()
        self.max_num_sentences_without_endmark_ratio = self._limit = max_num_sentences_without_endmark_ratio

    def score_document(self, text: Any) -> float:
        lines = _lines(text)
        return sum(1 for line in lines if not line.strip().endswith(END_MARKS)) / len(lines)


@register_filter
class EllipsisFilter(_AtMost):
    """Drop if more than 30% of the lines end with an ellipsis (``...``, ``…``, ``read more``...)."""

    name = "ellipsis"

    def __init__(self, max_num_lines_ending_with_ellipsis_ratio: float = 0.3) -> None:
        super().__init__()
        self.max_num_lines_ending_with_ellipsis_ratio = self._limit = max_num_lines_ending_with_ellipsis_ratio

    def score_document(self, text: Any) -> float:
        lines = _lines(text)
        return sum(1 for line in lines if line.strip().lower().endswith(ELLIPSIS_MARKS)) / len(lines)


@register_filter
class BoilerPlateStringFilter(_AtMost):
    """Drop if more than 40% of the paragraphs hold boilerplate ("terms of use", "privacy policy"...);
    any "lorem ipsum" drops the document (score 1.0)."""

    name = "boilerplate_string_ratio"

    def __init__(self, remove_if_at_top_or_bottom: bool = True, max_boilerplate_string_ratio: float = 0.4) -> None:
        super().__init__()
        self.remove_if_at_top_or_bottom = remove_if_at_top_or_bottom  # accepted for NeMo compatibility
        self.max_boilerplate_string_ratio = self._limit = max_boilerplate_string_ratio

    def score_document(self, text: Any) -> float:
        paragraphs = [p.strip().lower() for p in str(text).split("\n\n")]
        if any("lorem ipsum" in p for p in paragraphs):
            return 1.0
        return sum(1 for p in paragraphs if any(s in p for s in POLICY_SUBSTRINGS)) / len(paragraphs)


# ------------------------------------------------------------------------------------- tokens, strings
@register_filter
class TokenCountFilter(_Between):
    """Keep documents with ``min_tokens`` to ``max_tokens`` tokens; ``tokenizer`` has ``encode(text)``
    (a Hugging Face tokenizer, tiktoken encoding...). Reasons ``too_short``/``too_long``."""

    name = "token_count"
    _reasons = ("too_short", "too_long")

    def __init__(self, tokenizer: Any, min_tokens: int = 0, max_tokens: float = float("inf")) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.min_tokens = self._low = min_tokens
        self.max_tokens = self._high = max_tokens

    def score_document(self, text: Any) -> int:
        return len(self.tokenizer.encode(str(text)))


@register_filter
class SubstringFilter(_Vectorised):
    """Keep documents containing ``substring`` at ``position``: ``"prefix"``, ``"suffix"`` or ``"any"``."""

    name = "substring"

    def __init__(self, substring: str, position: str = "any") -> None:
        super().__init__()
        if position not in ("prefix", "suffix", "any"):
            raise ConfigError(f"position must be 'prefix', 'suffix' or 'any', not {position!r}")
        self.substring = substring
        self.position = position

    def score_batch(self, texts: pd.Series) -> pd.Series:
        texts = _objects(texts)
        if self.position == "prefix":
            found = texts.str.startswith(self.substring)
        elif self.position == "suffix":
            found = texts.str.endswith(self.substring)
        else:
            found = texts.str.contains(self.substring, regex=False)
        return found.astype("int64")

    def keep_document(self, score: Any) -> bool:
        return bool(score == 1)

    def keep_batch(self, scores: pd.Series) -> pd.Series:
        return scores == 1
