"""Term lists for the bias screening (:mod:`curator_synth.report.bias`): loading and checking them, and matching
them in texts.

Matching is whole-word and case-insensitive: a text is lower-cased and cut into words (runs of letters, marks,
digits and ``_``, what a regex ``\\b`` sees as a word), so ``he`` is not found in ``the``, and a term of several
words (``old people``, ``non-binary``) is found as those words in a row. All groups are matched in one
vectorised pass per field (Arrow compute: one tokenisation, a set lookup per phrase length), not one regex scan
per term, which keeps 100k records within seconds.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from curator_synth.errors import ConfigError

__all__ = ["TermMatcher", "Terms", "default_terms", "default_terms_path", "load_terms", "normalise_terms"]

#: Arrow (RE2) pattern of what separates words: anything but letters, marks, digits and "_".
_SEPARATOR = r"[^\p{L}\p{M}\p{N}_]+"
_PY_WORDS = re.compile(r"\w+")  # the same words in Python, for the terms themselves
#: Normalised term lists: group -> label -> phrases (lower-case words joined by one space).
Terms = dict[str, dict[str, tuple[str, ...]]]


def default_terms_path() -> str:
    """The packaged term lists (``curator_synth/prompt_templates/bias_terms.yaml``)."""
    return str(files("curator_synth") / "prompt_templates" / "bias_terms.yaml")


def default_terms() -> Terms:
    return load_terms(default_terms_path())


def load_terms(path: str | os.PathLike[str]) -> Terms:
    """Term lists from a YAML file (format: ``bias_terms.yaml``); errors name the file and the group."""
    from curator_synth._yaml import load_yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read bias terms {os.fspath(path)}: {error.strerror or error}") from error
    return normalise_terms(load_yaml(text, os.fspath(path)), str(path))


def normalise_terms(terms: Mapping[str, Any], source: str = "terms") -> Terms:
    """``group -> [terms]`` (each term its own label) or ``group -> {label: [terms]}``, checked and normalised
    (lower case, words joined by one space). Errors name ``source`` and the group."""
    if not isinstance(terms, Mapping):
        raise ConfigError(f"{source}: expected a mapping group -> terms, got {type(terms).__name__}")
    normalised: Terms = {}
    for group, value in terms.items():
        labels = {str(t): [t] for t in value} if isinstance(value, (list, tuple)) else value
        if not isinstance(labels, Mapping) or not labels:
            raise ConfigError(f"{source}: group {group!r} needs a list of terms or a mapping label -> terms")
        normalised[str(group)] = {
            str(label): _phrases(words, f"{source}: {group}.{label}") for label, words in labels.items()
        }
    return normalised


def _phrases(words: Any, where: str) -> tuple[str, ...]:
    items = [words] if isinstance(words, str) else words
    if not isinstance(items, (list, tuple)) or not items or not all(isinstance(w, str) for w in items):
        raise ConfigError(f"{where}: expected a term or a non-empty list of terms, got {words!r}")
    phrases = tuple(dict.fromkeys(" ".join(_PY_WORDS.findall(w.lower())) for w in items))
    if "" in phrases:
        raise ConfigError(f"{where}: a term without any letter or digit in {items}")
    return phrases


class TermMatcher:
    """Term lists compiled once: phrases by number of words, each mapped to its (group, label)s."""

    def __init__(self, terms: Terms) -> None:
        self.terms = terms
        rows = [(p, g, label) for g, labels in terms.items() for label, ps in labels.items() for p in ps]
        self.vocabulary = pd.DataFrame(rows, columns=["phrase", "group", "term"])
        lengths = self.vocabulary["phrase"].str.count(" ") + 1
        self._phrases = {
            int(n): pa.array(sorted(set(self.vocabulary["phrase"][lengths == n])), pa.large_string())
            for n in sorted(set(lengths))
        }
        self._first_words = {
            n: pa.array(sorted({p.split(" ")[0] for p in ps.to_pylist()}), pa.large_string())
            for n, ps in self._phrases.items()
        }
        first = sorted({w for ws in self._first_words.values() for w in ws.to_pylist()}, key=len, reverse=True)
        edge = _SEPARATOR[:-1]  # one separator character
        self._any = f"(?:^|{edge})(?:{'|'.join(re.escape(w) for w in first)})(?:$|{edge})" if first else "$^"

    def mentions(self, texts: Sequence[Any] | pd.Series) -> pd.DataFrame:
        """One row per (text position, group, term) mentioned at least once: columns ``row``, ``group``, ``term``.

        One combined regex finds the texts holding any term's first word (usually a small part of them); only
        those are cut into words, and the phrases of each length are looked up among consecutive words."""
        lower = pc.utf8_lower(_arrow_texts(texts))
        candidates = np.flatnonzero(pc.match_substring_regex(lower, self._any).to_numpy(zero_copy_only=False))
        tokens = pc.split_pattern_regex(pc.take(lower, pa.array(candidates, pa.int64())), _SEPARATOR)
        words = pc.list_flatten(tokens)
        parents = candidates[pc.list_parent_indices(tokens).to_numpy()]
        found = [self._matches(words, parents, n) for n in self._phrases]
        if not found:  # no terms at all
            return pd.DataFrame({"row": np.empty(0, np.int64), "group": [], "term": []})
        merged = pd.concat(found, ignore_index=True).merge(self.vocabulary, on="phrase")[["row", "group", "term"]]
        return merged.drop_duplicates(ignore_index=True)

    def _matches(self, words: pa.Array, parents: np.ndarray, n: int) -> pd.DataFrame:
        starts = np.flatnonzero(pc.is_in(words, value_set=self._first_words[n]).to_numpy(zero_copy_only=False))
        starts = starts[starts + n - 1 < len(words)]
        starts = starts[parents[starts] == parents[starts + n - 1]]  # all n words in the same text
        phrase = pc.take(words, pa.array(starts))
        for offset in range(1, n):
            following = pc.take(words, pa.array(starts + offset))
            phrase = pc.binary_join_element_wise(phrase, following, pa.scalar(" ", pa.large_string()))
        hit = pc.is_in(phrase, value_set=self._phrases[n]).to_numpy(zero_copy_only=False)
        return pd.DataFrame({"row": parents[starts[hit]], "phrase": phrase.filter(pa.array(hit)).to_pylist()})


def _arrow_texts(texts: Sequence[Any] | pd.Series) -> pa.Array:
    series = pd.Series(texts, dtype=object) if not isinstance(texts, pd.Series) else texts
    array = pa.array(series.fillna("").astype(str).reset_index(drop=True))
    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    return array.cast(pa.large_string())
