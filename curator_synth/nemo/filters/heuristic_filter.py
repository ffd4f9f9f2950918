"""NeMo's ``nemo_curator.filters.heuristic_filter``: curator_synth's heuristic filters under the same names, NeMo's
bitext ``LengthRatioFilter``, and ``HistogramFilter`` over NLLB's character histograms (which nothing here
downloads: see :class:`HistogramFilter`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from curator_synth.errors import ConfigError
from curator_synth.filters.base import DocumentFilter
from curator_synth.filters.bitext import LengthRatioFilter as _NativeLengthRatio
from curator_synth.filters.heuristic import (
    CommonEnglishWordsFilter,
    LongWordFilter,
    MeanWordLengthFilter,
    NonAlphaNumericFilter,
    NumbersFilter,
    ParenthesesFilter,
    PornographicUrlsFilter,
    SymbolsToWordsFilter,
    UrlsFilter,
    WhiteSpaceFilter,
    WordCountFilter,
    WordsWithoutAlphabetsFilter,
)
from curator_synth.filters.heuristic_lines import (
    BoilerPlateStringFilter,
    BulletsFilter,
    EllipsisFilter,
    PunctuationFilter,
    SubstringFilter,
    TokenCountFilter,
)
from curator_synth.filters.repetition import (
    RepeatedLinesByCharFilter,
    RepeatedLinesFilter,
    RepeatedParagraphsByCharFilter,
    RepeatedParagraphsFilter,
    RepeatingDuplicateNGramsFilter,
    RepeatingTopNGramsFilter,
)
from curator_synth.nemo.filters.bitext_filter import BitextFilter

__all__ = [
    "BoilerPlateStringFilter",
    "BulletsFilter",
    "CommonEnglishWordsFilter",
    "EllipsisFilter",
    "HistogramFilter",
    "LengthRatioFilter",
    "LongWordFilter",
    "MeanWordLengthFilter",
    "NonAlphaNumericFilter",
    "NumbersFilter",
    "ParenthesesFilter",
    "PornographicUrlsFilter",
    "PunctuationFilter",
    "RepeatedLinesByCharFilter",
    "RepeatedLinesFilter",
    "RepeatedParagraphsByCharFilter",
    "RepeatedParagraphsFilter",
    "RepeatingDuplicateNGramsFilter",
    "RepeatingTopNGramsFilter",
    "SubstringFilter",
    "SymbolsToWordsFilter",
    "TokenCountFilter",
    "UrlsFilter",
    "WhiteSpaceFilter",
    "WordCountFilter",
    "WordsWithoutAlphabetsFilter",
]

#: Where NLLB's histograms are published; this package never fetches them itself.
HISTOGRAMS_URL = "https://dl.fbaipublicfiles.com/m2m_100/histograms.tar.gz"
_HISTOGRAM_PATH = ("histograms", "checkpoint", "edunov", "cc60_multilingual", "clean_hists")


class LengthRatioFilter(BitextFilter):
    """Keep pairs whose word counts differ by less than ``max_ratio`` times either way (Moses' length-ratio
    cleaning; :class:`curator_synth.filters.bitext.LengthRatioFilter` scores). ``kwargs`` are ``BitextFilter``'s."""

    name = "length_ratio"

    def __init__(self, max_ratio: float = 3.0, src_lang: str = "en", tgt_lang: str = "en", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pair_filter = _NativeLengthRatio(max_ratio, src_lang, tgt_lang)

    def score_bitext(self, src: Any, tgt: Any, **kwargs: Any) -> float:
        return self.pair_filter.score_pair(str(src), str(tgt))

    def keep_bitext(self, score: Any) -> bool:
        return self.pair_filter.keep_document(score)


class HistogramFilter(DocumentFilter):
    """Keep texts of which more than ``threshold`` of the characters are in ``lang``'s character histogram (NLLB's
    cheap language check). The histograms are read from ``<cache_dir>/histograms/checkpoint/edunov/
    cc60_multilingual/clean_hists/<lang>`` (each line a character; the line starting with ``threshold_char`` ends
    the list); ``cache_dir`` defaults to the user's cache directory (``$XDG_CACHE_HOME`` or ``~/.cache``), as in
    NeMo. curator_synth downloads nothing at run time: extract :data:`HISTOGRAMS_URL` into ``cache_dir`` yourself;
    without it the filter is a :class:`~curator_synth.errors.ConfigError` saying so."""

    name = "histogram"

    def __init__(
        self, lang: str = "en", threshold: float = 0.8, cache_dir: str | None = "", threshold_char: str = "]"
    ) -> None:
        super().__init__()
        self.lang = lang
        self.threshold = threshold
        # NeMo's default, the user's cache directory: histograms NeMo downloaded there are found.
        self.cache_dir = cache_dir or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        self.threshold_char = threshold_char
        path = Path(self.cache_dir, *_HISTOGRAM_PATH, lang)
        if not path.is_file():
            raise ConfigError(
                f"HistogramFilter needs NLLB's character histogram for {lang!r} at {path}, and curator_synth does not"
                f" download at run time: extract {HISTOGRAMS_URL} into {self.cache_dir} (or pass cache_dir=)"
            )
        chars: set[str] = set()
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line[:1] == threshold_char:
                    break
                chars.add(line[:1])
        self._chars = frozenset(chars)

    def score_document(self, text: Any) -> float:
        source = str(text).strip()
        return sum(char in self._chars for char in source) / len(source) if source else 0.0

    def keep_document(self, score: Any) -> bool:
        return bool(score > self.threshold)
