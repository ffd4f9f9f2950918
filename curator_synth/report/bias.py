"""Bias and representation screening: how often lists of demographic and sensitive terms are mentioned in the
instructions and responses, compared with the seeds; the balance inside each group (he vs she...); and the
distribution of categories (or of the diversity clusters) compared with the seeds. The term lists and their
matching are in :mod:`curator_synth.report.terms`; the report's chart of this section is built with the others
(:mod:`curator_synth.report.stats`).

Word-list counts are a screening signal, not a fairness audit: they flag skews worth a human look (a group
mentioned five times as often as in the seeds, one gender absent), and say nothing about how people are
portrayed, about stereotypes, or about what a list does not name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from curator_synth.report.terms import TermMatcher, Terms, default_terms, normalise_terms

__all__ = [
    "BiasSummary",
    "CategoryShares",
    "GroupBalance",
    "TermShare",
    "bias_summary",
    "normalised_entropy",
]

#: What the HTML section, stats.json and the docs say about these numbers.
SCREENING_NOTE = (
    "Word-list counts are a screening signal, not a fairness audit: they show how often listed terms are"
    " mentioned, not how people are portrayed."
)


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
