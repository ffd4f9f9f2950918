"""Bias and representation screening: how often lists of demographic and sensitive terms are mentioned in the
instructions and responses, compared with the seeds; the balance inside each group (he vs she...); and the
distribution of categories (or of the diversity clusters) compared with the seeds.

Word-list counts are a screening signal, not a fairness audit: they flag skews worth a human look (a group
mentioned five times as often as in the seeds, one gender absent), and say nothing about how people are
portrayed, about stereotypes, or about what a list does not name.

Matching is whole-word and case-insensitive: a text is lower-cased and cut into words (runs of letters, marks,
digits and ``_``, what a regex ``\\b`` sees as a word), so ``he`` is not found in ``the``, and a term of several
words (``old people``, ``non-binary``) is found as those words in a row. All groups are matched in one
vectorised pass per field (Arrow compute: one tokenisation, a set lookup per phrase length), not one regex scan
per term, which keeps 100k records within seconds.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from curator_synth.errors import ConfigError

if TYPE_CHECKING:
    from curator_synth.report.stats import Chart

__all__ = [
    "BiasSummary",
    "CategoryShares",
    "GroupBalance",
    "TermMatcher",
    "TermShare",
    "bias_chart",
    "bias_summary",
    "default_terms",
    "default_terms_path",
    "load_terms",
    "normalise_terms",
    "normalised_entropy",
]

#: What the HTML section, stats.json and the docs say about these numbers.
SCREENING_NOTE = (
    "Word-list counts are a screening signal, not a fairness audit: they show how often listed terms are"
    " mentioned, not how people are portrayed."
)
#: Arrow (RE2) pattern of what separates words: anything but letters, marks, digits and "_".
_SEPARATOR = r"[^\p{L}\p{M}\p{N}_]+"
_PY_WORDS = re.compile(r"\w+")  # the same words in Python, for the terms themselves
#: Normalised term lists: group -> label -> phrases (lower-case words joined by one space).
Terms = dict[str, dict[str, tuple[str, ...]]]


# ------------------------------------------------------------------------------------------ term lists
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


# --------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class TermShare:
    """One term (label) of a group: records mentioning it per field (count and share of all records), in the
    seeds, and the generated share (``compare_field``) over the seed share (``ratio``, None when the seeds never
    mention it) and minus it (``difference``, in share points)."""

    group: str
    term: str
    counts: dict[str, int]
    shares: dict[str, float]
    seed_count: int | None
    seed_share: float | None
    ratio: float | None
    difference: float | None


@dataclass(frozen=True)
class GroupBalance:
    """Balance inside a group, per field (and in the seeds): records mentioning any of its terms, normalised
    entropy of the term counts (1.0 = every term equally often, 0.0 = one term only; None without mentions),
    the most-over-least mentioned ratio (None when a term is never mentioned: see ``absent``)."""

    group: str
    terms: tuple[str, ...]
    mentions: dict[str, int]
    entropy: dict[str, float | None]
    max_min_ratio: dict[str, float | None]
    absent: dict[str, list[str]]
    seed_mentions: int | None
    seed_entropy: float | None
    seed_max_min_ratio: float | None


@dataclass(frozen=True)
class CategoryShares:
    """Records per category (``source``: the category column, or ``clusters``), shares, and the seeds' shares
    when the seeds have categories; entropies normalised by the log of the number of categories."""

    source: str
    counts: dict[str, int]
    shares: dict[str, float]
    seed_shares: dict[str, float] | None
    entropy: float | None
    seed_entropy: float | None


@dataclass(frozen=True)
class BiasSummary:
    """Everything :func:`bias_summary` measured; :meth:`to_dict` is the report's ``bias`` section."""

    records: int
    seeds: int | None
    fields: tuple[str, ...]
    compare_field: str | None
    terms: tuple[TermShare, ...]
    groups: tuple[GroupBalance, ...]
    categories: CategoryShares | None

    def term(self, group: str, term: str) -> TermShare:
        for item in self.terms:
            if item.group == group and item.term == term:
                return item
        raise KeyError(f"{group}.{term}")

    def top_terms(self, n: int = 20) -> list[TermShare]:
        """The ``n`` terms with the largest share anywhere (any field or the seeds), never-mentioned ones left out."""
        peak = [max([*t.shares.values(), t.seed_share or 0.0], default=0.0) for t in self.terms]
        order = sorted(range(len(self.terms)), key=lambda i: -peak[i])
        return [self.terms[i] for i in order[:n] if peak[i] > 0]

    def to_frame(self) -> pd.DataFrame:
        """The terms as a table: group, term, ``<field>_share`` per field, seed_share, ratio, difference."""
        rows = [
            {"group": t.group, "term": t.term, **{f"{f}_share": s for f, s in t.shares.items()}}
            | {"seed_share": t.seed_share, "ratio": t.ratio, "difference": t.difference}
            for t in self.terms
        ]
        return pd.DataFrame(rows)

    def to_dict(self, top_n: int = 20) -> dict[str, Any]:
        """JSON-ready values; ``top_terms`` lists the ``[group, term]`` pairs the report's chart shows."""
        return {
            "note": SCREENING_NOTE,
            "records": self.records,
            "seeds": self.seeds,
            "fields": list(self.fields),
            "compare_field": self.compare_field,
            "terms": [asdict(t) for t in self.terms],
            "groups": [asdict(g) for g in self.groups],
            "categories": asdict(self.categories) if self.categories is not None else None,
            "top_terms": [[t.group, t.term] for t in self.top_terms(top_n)],
        }


# --------------------------------------------------------------------------------------------- summary
def bias_summary(
    records: pd.DataFrame,
    seeds: Sequence[str] | None = None,
    *,
    terms: Mapping[str, Any] | TermMatcher | None = None,
    fields: Sequence[str] = ("instruction", "response"),
    category_field: str | None = None,
    seed_categories: Sequence[Any] | None = None,
    cluster_sizes: Mapping[str, int] | None = None,
) -> BiasSummary:
    """Term mentions in ``fields`` of ``records`` (absent fields are skipped) and in the ``seeds`` (compared with
    the first field present, the instructions by default). ``terms``: group -> terms or group -> {label: terms}
    (default: :func:`default_terms`), or a :class:`TermMatcher` to reuse. Categories: the values of
    ``category_field`` (vs ``seed_categories`` when given), else ``cluster_sizes`` (e.g. the report's)."""
    matcher = terms if isinstance(terms, TermMatcher) else TermMatcher(_terms(terms))
    present = tuple(f for f in fields if f in records.columns)
    total = len(records)
    counts = {f: _counts(matcher, records[f]) for f in present}
    seed_counts = _counts(matcher, list(seeds)) if seeds is not None else None
    compare = present[0] if present else None
    shares = []
    for group, labels in matcher.terms.items():
        for label in labels:
            shares.append(_term_share(group, label, counts, total, seed_counts, len(seeds or ()), compare))
    groups = tuple(_balance(group, tuple(labels), counts, seed_counts) for group, labels in matcher.terms.items())
    return BiasSummary(
        records=total,
        seeds=len(seeds) if seeds is not None else None,
        fields=present,
        compare_field=compare,
        terms=tuple(shares),
        groups=groups,
        categories=_categories(records, category_field, seed_categories, cluster_sizes),
    )


def _terms(terms: Mapping[str, Any] | None) -> Terms:
    if terms is None:
        return default_terms()
    return normalise_terms(terms)


@dataclass(frozen=True)
class _Counts:
    terms: dict[tuple[str, str], int]  # (group, term) -> records mentioning it
    groups: dict[str, int]  # group -> records mentioning any of its terms


def _counts(matcher: TermMatcher, texts: Sequence[Any] | pd.Series) -> _Counts:
    found = matcher.mentions(texts)
    by_term = found.groupby(["group", "term"]).size()
    by_group = found.drop_duplicates(["row", "group"]).groupby("group").size()
    return _Counts(
        {(str(g), str(t)): int(n) for (g, t), n in by_term.items()}, {str(g): int(n) for g, n in by_group.items()}
    )


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0


def _term_share(
    group: str,
    term: str,
    counts: Mapping[str, _Counts],
    total: int,
    seeds: _Counts | None,
    n_seeds: int,
    compare: str | None,
) -> TermShare:
    field_counts = {f: c.terms.get((group, term), 0) for f, c in counts.items()}
    field_shares = {f: _share(n, total) for f, n in field_counts.items()}
    seed_count = seeds.terms.get((group, term), 0) if seeds is not None else None
    seed_share = _share(seed_count, n_seeds) if seed_count is not None else None
    generated = field_shares.get(compare) if compare is not None else None
    comparable = generated is not None and seed_share is not None
    return TermShare(
        group=group,
        term=term,
        counts=field_counts,
        shares=field_shares,
        seed_count=seed_count,
        seed_share=seed_share,
        ratio=generated / seed_share if comparable and seed_share else None,  # type: ignore[operator]
        difference=generated - seed_share if comparable else None,  # type: ignore[operator]
    )


def normalised_entropy(counts: Sequence[int]) -> float | None:
    """Shannon entropy of the counts over log(len(counts)): 1.0 when even, 0.0 when one has everything; None
    without any count or with fewer than two categories."""
    values = np.asarray(counts, dtype=np.float64)
    if len(values) < 2 or values.sum() <= 0:
        return None
    p = values[values > 0] / values.sum()
    return float(-(p * np.log(p)).sum() / math.log(len(values)) + 0.0)


def _max_min(counts: Sequence[int]) -> float | None:
    return max(counts) / min(counts) if len(counts) > 1 and min(counts) > 0 else None


def _balance(group: str, labels: tuple[str, ...], counts: Mapping[str, _Counts], seeds: _Counts | None) -> GroupBalance:
    per_field = {f: [c.terms.get((group, label), 0) for label in labels] for f, c in counts.items()}
    seed_terms = [seeds.terms.get((group, label), 0) for label in labels] if seeds is not None else None
    return GroupBalance(
        group=group,
        terms=labels,
        mentions={f: c.groups.get(group, 0) for f, c in counts.items()},
        entropy={f: normalised_entropy(v) for f, v in per_field.items()},
        max_min_ratio={f: _max_min(v) for f, v in per_field.items()},
        absent={f: [label for label, n in zip(labels, v, strict=True) if n == 0] for f, v in per_field.items()},
        seed_mentions=seeds.groups.get(group, 0) if seeds is not None else None,
        seed_entropy=normalised_entropy(seed_terms) if seed_terms is not None else None,
        seed_max_min_ratio=_max_min(seed_terms) if seed_terms is not None else None,
    )


def _categories(
    records: pd.DataFrame,
    field: str | None,
    seed_categories: Sequence[Any] | None,
    cluster_sizes: Mapping[str, int] | None,
) -> CategoryShares | None:
    if field is not None and field in records.columns:
        counts = _value_counts(records[field])
        seed_counts = _value_counts(pd.Series(seed_categories, dtype=object)) if seed_categories is not None else None
        source = field
    elif cluster_sizes:
        counts, seed_counts, source = {str(k): int(v) for k, v in cluster_sizes.items()}, None, "clusters"
    else:
        return None
    total = sum(counts.values())
    seed_total = sum(seed_counts.values()) if seed_counts is not None else 0
    labels = list(counts) + [k for k in (seed_counts or {}) if k not in counts]
    return CategoryShares(
        source=source,
        counts={k: counts.get(k, 0) for k in labels},
        shares={k: _share(counts.get(k, 0), total) for k in labels},
        seed_shares={k: _share(seed_counts.get(k, 0), seed_total) for k in labels} if seed_counts is not None else None,
        entropy=normalised_entropy([counts.get(k, 0) for k in labels]),
        seed_entropy=normalised_entropy([seed_counts.get(k, 0) for k in labels]) if seed_counts is not None else None,
    )


def _value_counts(values: pd.Series) -> dict[str, int]:
    labels = values.astype(object).where(values.notna(), "(missing)").astype(str)
    return {str(k): int(v) for k, v in labels.value_counts().items()}


# ----------------------------------------------------------------------------------------------- chart
def bias_chart(bias: Mapping[str, Any]) -> Chart:
    """The report's chart of a ``bias`` section (:meth:`BiasSummary.to_dict`): for each of its ``top_terms``,
    the percentage of records mentioning it in the seeds and in each field."""
    from curator_synth.report.stats import Chart

    by_key = {(t["group"], t["term"]): t for t in bias["terms"]}
    top = [by_key[(group, term)] for group, term in bias["top_terms"] if (group, term) in by_key]
    series = [("seeds", tuple(100 * (t["seed_share"] or 0.0) for t in top))] if bias.get("seeds") else []
    series += [(field, tuple(100 * t["shares"][field] for t in top)) for field in bias["fields"]]
    labels = tuple(f"{t['group']}: {t['term']}" for t in top)
    title = "Records mentioning each term: seeds vs generated" if bias.get("seeds") else "Records mentioning each term"
    return Chart("bias_terms", title, "% of records", "grouped", labels, (), series=tuple(series))
