"""NeMo Curator's line-, paragraph- and token-level heuristic filters (same class names, ``name``s, defaults).

Text is split the way NeMo splits English: "sentences" (really lines) on ``\\n``, paragraphs on ``\\n\\n``.
Word- and character-level filters live in :mod:`curator_synth.filters.heuristic`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from curator_synth.errors import ConfigError
from curator_synth.filters.base import register_filter
from curator_synth.filters.heuristic import ELLIPSIS_MARKS
from curator_synth.filters.thresholds import _AtMost, _Between, _objects, _Vectorised

__all__ = [
    "BoilerPlateStringFilter",
    "BulletsFilter",
    "EllipsisFilter",
    "PunctuationFilter",
    "SubstringFilter",
    "TokenCountFilter",
]

END_MARKS = (".", "?", "!", '"', "'")
BULLETS = ("•", "‣", "⁃", "⁌", "⁍", "∙", "○", "●", "◘", "◦", "⦾", "⦿")
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
_POSITIONS: dict[str, Callable[[pd.Series, str], pd.Series]] = {
    "prefix": lambda texts, sub: texts.str.startswith(sub),
    "suffix": lambda texts, sub: texts.str.endswith(sub),
    "any": lambda texts, sub: texts.str.contains(sub, regex=False),
}


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
        if position not in _POSITIONS:
            raise ConfigError(f"position must be one of {sorted(_POSITIONS)}, not {position!r}")
        self.substring = substring
        self.position = position

    def score_batch(self, texts: pd.Series) -> pd.Series:
        return _POSITIONS[self.position](_objects(texts), self.substring).astype("int64")

    def keep_document(self, score: Any) -> bool:
        return bool(score == 1)

    def keep_batch(self, scores: pd.Series) -> pd.Series:
        return scores == 1
