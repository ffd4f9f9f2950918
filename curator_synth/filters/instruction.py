"""Filters for instruction data: refusals, unfinished or runaway responses, empty and echoed answers,
instruction/response overlap, and language.

Single-text filters read the response column: ``ScoreFilter(RefusalFilter(), text_field="output")``.
Pair filters (:class:`~curator_synth.filters.base.PairFilter`) read two columns, the instruction (or the whole
prompt) first: ``ScoreFilter(EchoFilter(), text_field=("instruction", "output"))``.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from curator_synth.errors import MissingDependencyError
from curator_synth.filters.base import DocumentFilter, PairFilter, register_filter
from curator_synth.filters.thresholds import _AtLeast, _AtMost, _objects

__all__ = [
    "EchoFilter",
    "EmptyResponseFilter",
    "FewShotContinuationFilter",
    "InstructionOverlapFilter",
    "LanguageFilter",
    "RefusalFilter",
    "TruncatedResponseFilter",
]

REFUSAL_PATTERNS = (
    r"^\W*(?:i'?m|i am) (?:sorry|afraid),? (?:but )?(?:i|as an)",
    r"^\W*(?:sorry|unfortunately),? (?:but )?i (?:can(?:no|')t|am (?:not able|unable)|won'?t|will not)",
    r"^\W*i (?:can(?:no|')t|am (?:not able|unable)|won'?t|will not|must decline) (?:help|assist|provide|comply|"
    r"fulfil|do that|answer|write|create|generate|complete|support)",
    r"\bi (?:can(?:no|')t|won'?t) (?:help|assist) with (?:that|this)\b",
    r"\b(?:against|violates?) (?:my|the|openai'?s) (?:guidelines|policies|policy|programming)\b",
)
AI_DISCLAIMER_PATTERNS = (
    r"\bas an? (?:ai|artificial intelligence)(?: (?:language )?model| assistant| chatbot)?\b",
    r"\bas an? (?:large )?language model\b",
    r"\bi(?:'m| am) (?:just |only )?an? (?:ai|artificial intelligence|language model|large language model)\b",
    r"\bi (?:do not|don'?t) have (?:personal )?(?:opinions|feelings|emotions|access to (?:real-time|the internet))",
)
_END = (*".!?\"')]}`*>»”’…;:", "---")
_DANGLING = frozenset(
    ("a", "an", "the", "and", "or", "but", "to", "of", "with", "for", "in", "on", "at", "by", "as", "that", "which")
)
_FEW_SHOT = re.compile(r"^\s*(?:input|output|instruction|question|answer|example \d+|task \d+)\s*:", re.I | re.M)
_WORD = re.compile(r"\w+")
_LETTER_WORD = re.compile(r"[^\W\d_]{2,}")
_URL = re.compile(r"\S+://\S+|www\.\S+")


@register_filter
class RefusalFilter(DocumentFilter):
    """Drop refusals ("I'm sorry, but I can't...") and AI disclaimers ("As an AI language model...").

    Score: 0 = fine, 1 = refusal, 2 = AI disclaimer (the drop reasons ``refusal``/``ai_disclaimer``). Refusal
    patterns are anchored at the start of the response, so "I'm sorry to hear that" in a letter passes.
    ``extra_patterns`` adds case-insensitive regexes counted as refusals.
    """

    name = "refusal"

    def __init__(self, extra_patterns: Iterable[str] = ()) -> None:
        super().__init__()
        self.extra_patterns = tuple(extra_patterns)
        self._refusal = "|".join(f"(?:{p})" for p in (*REFUSAL_PATTERNS, *self.extra_patterns))
        self._disclaimer = "|".join(f"(?:{p})" for p in AI_DISCLAIMER_PATTERNS)

    def score_batch(self, texts: pd.Series) -> pd.Series:
        texts = _objects(texts).str.strip()
        refusal = texts.str.contains(self._refusal, case=False, regex=True).to_numpy(dtype=bool)
        disclaimer = texts.str.contains(self._disclaimer, case=False, regex=True).to_numpy(dtype=bool)
        return pd.Series(np.where(disclaimer, 2, np.where(refusal, 1, 0)), index=texts.index, dtype="int64")

    def score_document(self, text: Any) -> int:
        return int(self.score_batch(pd.Series([text], dtype=object)).iloc[0])

    def keep_document(self, score: Any) -> bool:
        return bool(score == 0)

    def reject_reason(self, score: Any) -> str | None:
        return None if score == 0 else "ai_disclaimer" if score == 2 else "refusal"

    def keep_batch(self, scores: pd.Series) -> pd.Series:
        return scores == 0

    def reason_batch(self, scores: pd.Series) -> pd.Series:
        return pd.Series(np.where(scores == 2, "ai_disclaimer", "refusal"), index=scores.index, dtype=object)


@register_filter
class TruncatedResponseFilter(DocumentFilter):
    """Drop responses cut off mid-way (a generation stopped at ``max_tokens``).

    Score: 0 = finished, 1 = ends mid-sentence (the last line has at least ``min_words`` words and no end
    mark, or ends on a comma or a word like "the"/"and"), 2 = an unclosed ``` code block. Short last lines
    without end marks (list items, one-word answers, code) count as finished. Reasons ``mid_sentence`` and
    ``unclosed_code_block``; empty responses score 0 (see :class:`EmptyResponseFilter`).
    """

    name = "truncated_response"
    _reasons: ClassVar[dict[int, str]] = {1: "mid_sentence", 2: "unclosed_code_block"}

    def __init__(self, min_words: int = 6) -> None:
        super().__init__()
        self.min_words = min_words

    def score_document(self, text: Any) -> int:
        text = str(text).rstrip()
        if not text:
            return 0
        if text.count("```") % 2:
            return 2
        last = text.rsplit("\n", 1)[-1].strip()
        if last.endswith(_END):
            return 0
        words = last.split()
        dangling = last.endswith(",") or (len(words) > 1 and words[-1].lower() in _DANGLING)
        return 1 if dangling or len(words) >= self.min_words else 0

    def keep_document(self, score: Any) -> bool:
        return bool(score == 0)

    def reject_reason(self, score: Any) -> str | None:
        return None if score == 0 else self._reasons.get(int(score), "truncated")


@register_filter
class FewShotContinuationFilter(_AtMost):
    """Drop responses that run on into invented few-shot examples ("\\n\\nInput: ... Output: ..."), the typical
    failure of base models given an ``Input:/Output:`` prompt. Score: the number of such marker lines."""

    name = "few_shot_continuation"

    def __init__(self, max_markers: int = 0) -> None:
        super().__init__()
        self.max_markers = self._limit = max_markers

    def score_document(self, text: Any) -> int:
        return len(_FEW_SHOT.findall(str(text)))


@register_filter
class EmptyResponseFilter(_AtLeast):
    """Drop responses with fewer than ``min_chars`` non-whitespace characters. Score: that count."""

    name = "empty_response"

    def __init__(self, min_chars: int = 1) -> None:
        super().__init__()
        self.min_chars = self._limit = min_chars

    def score_batch(self, texts: pd.Series) -> pd.Series:
        return _objects(texts).str.count(r"\S").astype("int64")

    def score_document(self, text: Any) -> int:
        return sum(1 for c in str(text) if not c.isspace())


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    n = min(n, len(words))
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)} if n else set()


@register_filter
class EchoFilter(PairFilter):
    """Drop responses that repeat the instruction (or the prompt, with its input) instead of answering.

    Score: the share of the response's word trigrams (unigrams for responses under three words) found in
    the instruction; 1.0 when both are equal once lowercased and stripped of punctuation. Keep when below
    ``max_copied_fraction``; reasons ``full_echo`` (all of the response is copied) / ``partial_echo``.
    Empty responses score 0 (see :class:`EmptyResponseFilter`).
    """

    name = "echo"

    def __init__(self, max_copied_fraction: float = 0.8, n: int = 3) -> None:
        super().__init__()
        self.max_copied_fraction = max_copied_fraction
        self.n = n

    def score_pair(self, instruction: str, response: str) -> float:
        said, asked = _words(response), _words(instruction)
        if not said:
            return 0.0
        if said == asked:
            return 1.0
        n = self.n if len(said) >= self.n else 1
        grams = [tuple(said[i : i + n]) for i in range(len(said) - n + 1)]
        source = _ngrams(asked, n)
        return sum(1 for g in grams if g in source) / len(grams)

    def keep_document(self, score: Any) -> bool:
        return bool(score < self.max_copied_fraction)

    def reject_reason(self, score: Any) -> str | None:
        if score < self.max_copied_fraction:
            return None
        return "full_echo" if score >= 1.0 else "partial_echo"


@register_filter
class InstructionOverlapFilter(PairFilter):
    """Drop pairs whose instruction and response share too much vocabulary (the answer restates the question).

    Score: Jaccard similarity of the two sets of lowercased words; keep when ``<= max_overlap``. Pairs where
    either side has fewer than ``min_words`` words score 0 (too short to judge).
    """

    name = "instruction_overlap"

    def __init__(self, max_overlap: float = 0.8, min_words: int = 3) -> None:
        super().__init__()
        self.max_overlap = max_overlap
        self.min_words = min_words

    def score_pair(self, instruction: str, response: str) -> float:
        a, b = set(_words(instruction)), set(_words(response))
        if len(a) < self.min_words or len(b) < self.min_words:
            return 0.0
        return len(a & b) / len(a | b)

    def keep_document(self, score: Any) -> bool:
        return bool(score <= self.max_overlap)


@functools.lru_cache(maxsize=8)
def _identifier(languages: tuple[str, ...] | None) -> Any:
    """One langid model per process (loading takes ~1.5 s); results do not depend on the cache."""
    from langid.langid import LanguageIdentifier, model

    identifier = LanguageIdentifier.from_modelstring(model, norm_probs=True)
    if languages:
        identifier.set_languages(list(languages))
    return identifier


@register_filter
class LanguageFilter(_AtLeast):
    """Keep texts in ``languages`` (ISO 639-1 codes), identified offline with ``langid``.

    Score: langid's probability that the text (URLs removed) is in one of ``languages``; keep when
    ``>= min_score``. Texts with fewer than ``min_words`` words of letters score 1.0: lists of names, code,
    tables and one-word answers are too short to identify reliably. ``candidate_languages`` restricts
    langid's choice (faster, more accurate when the set of possible languages is known). Needs the
    ``curation`` extra.
    """

    name = "language"

    def __init__(
        self,
        languages: Iterable[str] = ("en",),
        min_score: float = 0.5,
        min_words: int = 8,
        candidate_languages: Iterable[str] | None = None,
    ) -> None:
        super().__init__()
        if importlib.util.find_spec("langid") is None:
            raise MissingDependencyError("langid", "curation", "LanguageFilter")
        self.languages = tuple(languages)
        self.min_score = self._limit = min_score
        self.min_words = min_words
        self.candidate_languages = tuple(candidate_languages) if candidate_languages else None

    def score_document(self, text: Any) -> float:
        text = _URL.sub(" ", str(text))
        if len(_LETTER_WORD.findall(text)) < self.min_words:
            return 1.0
        ranking = _identifier(self.candidate_languages).rank(text)
        return float(sum(p for lang, p in ranking if lang in self.languages))

    def reason_batch(self, scores: pd.Series) -> pd.Series:
        return pd.Series(f"not_{'_'.join(self.languages)}", index=scores.index, dtype=object)
