"""NeMo Curator's repetition filters (Gopher): repeated lines/paragraphs and repeating n-grams, with NeMo's
class names, ``name``s and default thresholds.

Lines are ``\\n``-separated, paragraphs ``\\n\\n``-separated, words whitespace-separated. A document too short
to hold one n-gram scores 1.0 (dropped), as in NeMo.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from curator_synth.filters.base import register_filter
from curator_synth.filters.thresholds import _AtLeast, _AtMost

__all__ = [
    "RepeatedLinesByCharFilter",
    "RepeatedLinesFilter",
    "RepeatedParagraphsByCharFilter",
    "RepeatedParagraphsFilter",
    "RepeatingDuplicateNGramsFilter",
    "RepeatingTopNGramsFilter",
]


def _unique_share(parts: list[str]) -> float:
    return len(set(parts)) / len(parts)


def _unique_char_share(parts: list[str]) -> float:
    total = sum(map(len, parts))
    return sum(map(len, set(parts))) / total if total else 0.0


@register_filter
class RepeatedLinesFilter(_AtLeast):
    """Keep if at least 70% of the lines are distinct (score: distinct lines / lines)."""

    name = "repeated_lines"

    def __init__(self, max_repeated_line_fraction: float = 0.7) -> None:
        super().__init__()
        self.max_repeated_line_fraction = self._limit = max_repeated_line_fraction

    def score_document(self, text: Any) -> float:
        return _unique_share(str(text).split("\n"))


@register_filter
class RepeatedParagraphsFilter(_AtLeast):
    """Keep if at least 70% of the paragraphs are distinct."""

    name = "repeated_paragraphs"

    def __init__(self, max_repeated_paragraphs_ratio: float = 0.7) -> None:
        super().__init__()
        self.max_repeated_paragraphs_ratio = self._limit = max_repeated_paragraphs_ratio

    def score_document(self, text: Any) -> float:
        return _unique_share(str(text).split("\n\n"))


@register_filter
class RepeatedLinesByCharFilter(_AtLeast):
    """Keep if distinct lines hold at least 80% of the characters of all lines."""

    name = "repeated_lines_char"

    def __init__(self, max_repeated_lines_char_ratio: float = 0.8) -> None:
        super().__init__()
        self.max_repeated_lines_char_ratio = self._limit = max_repeated_lines_char_ratio

    def score_document(self, text: Any) -> float:
        return _unique_char_share(str(text).split("\n"))


@register_filter
class RepeatedParagraphsByCharFilter(_AtLeast):
    """Keep if distinct paragraphs hold at least 80% of the characters of all paragraphs."""

    name = "repeated_paragraphs_char"

    def __init__(self, max_repeated_paragraphs_char_ratio: float = 0.8) -> None:
        super().__init__()
        self.max_repeated_paragraphs_char_ratio = self._limit = max_repeated_paragraphs_char_ratio

    def score_document(self, text: Any) -> float:
        return _unique_char_share(str(text).split("\n\n"))


@register_filter
class RepeatingTopNGramsFilter(_AtMost):
    """Drop if the most frequent word n-gram covers more than the ratio of the characters.

    NeMo's defaults by n: 2 → 0.20, 3 → 0.18, 4 → 0.16 (``max_repeating_ngram_ratio``). Instance names are
    ``repeating_top_{n}grams``.
    """

    name = "repeating_top_ngrams"

    def __init__(self, n: int = 2, max_repeating_ngram_ratio: float = 0.2) -> None:
        super().__init__()
        self.n = n
        self.max_repeating_ngram_ratio = self._limit = max_repeating_ngram_ratio
        self.name = f"repeating_top_{n}grams"

    def score_document(self, text: Any) -> float:
        text = str(text)
        words = text.split()
        if len(words) < self.n or not text:
            return 1.0
        grams = Counter(tuple(words[i : i + self.n]) for i in range(len(words) - self.n + 1))
        top = " ".join(grams.most_common(1)[0][0])
        return (len(text) - len(text.replace(top, ""))) / len(text)


@register_filter
class RepeatingDuplicateNGramsFilter(_AtMost):
    """Drop if words inside repeated n-grams (every occurrence after the first) cover more than the ratio of the
    characters. NeMo's defaults by n: 5 → 0.15, 6 → 0.14, 7 → 0.13, 8 → 0.12, 9 → 0.11, 10 → 0.10
    (``max_repeating_duplicate_ngram_ratio``). Instance names are ``repeating_dup_{n}gram``.
    """

    name = "repeating_dup_ngram"

    def __init__(self, n: int = 2, max_repeating_duplicate_ngram_ratio: float = 0.2) -> None:
        super().__init__()
        self.n = n
        self.max_repeating_duplicate_ngram_ratio = self._limit = max_repeating_duplicate_ngram_ratio
        self.name = f"repeating_dup_{n}gram"

    def score_document(self, text: Any) -> float:
        text = str(text)
        words = text.split()
        if len(words) < self.n or not text:
            return 1.0
        seen: set[tuple[str, ...]] = set()
        duplicated = [False] * len(words)
        for i in range(len(words) - self.n + 1):
            gram = tuple(words[i : i + self.n])
            if gram in seen:
                duplicated[i : i + self.n] = [True] * self.n
            else:
                seen.add(gram)
        chars = sum(len(w) for w, d in zip(words, duplicated, strict=True) if d)
        spaces = sum(1 for j in range(1, len(words)) if duplicated[j] and duplicated[j - 1])
        return (chars + spaces) / len(text)
