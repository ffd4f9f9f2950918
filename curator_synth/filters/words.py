"""Words of a text by language (NeMo Curator's splitting): Chinese is segmented with jieba, Japanese with MeCab,
every other language on white space. The segmenters are the ``cjk`` extra (``pip install 'curator_synth[cjk]'``),
imported on first use."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from curator_synth.errors import MissingDependencyError

__all__ = ["SEGMENTED_LANGUAGES", "word_splitter"]

#: Languages whose words are not separated by spaces, with the module that segments them (the ``cjk`` extra).
SEGMENTED_LANGUAGES = {"zh": "jieba", "ja": "MeCab"}


def word_splitter(lang: str = "en") -> Callable[[str], list[str]]:
    """A function splitting a text into its words in ``lang`` (an ISO 639-1 code, any case). For ``zh``/``ja`` the
    segmenter is imported here, so a missing one fails when the filter is built, naming what to install."""
    code = lang.lower()
    if code not in SEGMENTED_LANGUAGES:
        return str.split
    module = SEGMENTED_LANGUAGES[code]
    try:  # fail now, not on a worker
        importlib.import_module(module)
    except ImportError as error:
        raise MissingDependencyError(module, "cjk", f"Splitting words of {code!r} text") from error
    return _Jieba() if code == "zh" else _MeCab()


class _Jieba:
    """jieba's segmentation, keeping every token it yields (punctuation included, as NeMo counts them). Holds no
    module, so it pickles to Dask workers."""

    def __call__(self, text: str) -> list[str]:
        return list(importlib.import_module("jieba").cut(text))


class _MeCab:
    """MeCab's morphemes: the surface form of each line of its analysis, up to ``EOS``."""

    def __call__(self, text: str) -> list[str]:
        lines = importlib.import_module("MeCab").Tagger().parse(text).strip().split("\n")
        return [line.split("\t")[0] for line in lines if line and line != "EOS"]
