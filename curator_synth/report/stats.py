"""The report's numbers: :func:`build_stats` (everything ``stats.json`` holds) and :func:`build_charts` (the
data of every plot, drawn by ``plots.py`` or shown as a table when matplotlib is missing)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Literal

import numpy as np

from curator_synth.diversity import Histogram, histogram
from curator_synth.report.data import ReportData, TokenUsage
from curator_synth.reward.scores import ATTRIBUTES

__all__ = ["Chart", "bias_chart", "build_charts", "build_stats", "summarise"]

#: Scales the values usually have; a histogram uses the scale when every value fits in it, else the data's range.
_SCORE_SCALES: dict[str, tuple[float, float]] = {name: (0.0, 4.0) for name in ATTRIBUTES} | {"overall": (0.0, 1.0)}
_UNIT_SCALE = (0.0, 1.0)


@dataclass(frozen=True)
class Chart:
    """One plot's data: a histogram (``edges`` has one more item than ``counts``), a bar chart, or grouped
    bars (``series``, e.g. seed vs generated shares per term; ``counts`` empty)."""

    name: str  # file stem of the PNG, e.g. "score_helpfulness"
    title: str
    xlabel: str
    kind: Literal["histogram", "bar", "grouped"]
    labels: tuple[str, ...]  # one per bar or bin
    counts: tuple[int, ...]
    edges: tuple[float, ...] = ()
    series: tuple[tuple[str, tuple[float, ...]], ...] = ()  # "grouped": (name, one value per label) per series


def summarise(values: Sequence[float]) -> dict[str, float | int]:
    """``count``, ``mean``, ``std`` (population), ``min``, ``p25``, ``median``, ``p75``, ``p90``, ``max``."""
    if not values:
        return {"count": 0}
    array = np.asarray(values, dtype=np.float64)
    p25, median, p75, p90 = (float(q) for q in np.percentile(array, [25, 50, 75, 90]))
    return {
        "count": len(array),
        "mean": float(array.mean()),
        "std": float(array.std()),
        "min": float(array.min()),
        "p25": p25,
        "median": median,
        "p75": p75,
        "p90": p90,
        "max": float(array.max()),
    }


def _value_range(values: Sequence[float], scale: tuple[float, float] | None) -> tuple[float, float]:
    low, high = float(min(values)), float(max(values))
    if scale is not None and scale[0] <= low and high <= scale[1]:
        return scale
    if low == high:
        return (low - 0.5, high + 0.5)
    return (low, high)


def _histogram(values: Sequence[float], bins: int, scale: tuple[float, float] | None) -> Histogram:
    return histogram(values, bins=bins, value_range=_value_range(values, scale))


def _number(value: float) -> str:
    return f"{value:.4g}"


def _histogram_chart(name: str, title: str, xlabel: str, hist: Histogram) -> Chart:
    labels = tuple(f"{_number(low)} – {_number(high)}" for low, high in pairwise(hist.edges))
    return Chart(name, title, xlabel, "histogram", labels, tuple(hist.counts), tuple(hist.edges))


def _distribution(values: Sequence[float], bins: int, scale: tuple[float, float] | None) -> dict[str, Any]:
    stats: dict[str, Any] = dict(summarise(values))
    if values:
        hist = _histogram(values, bins, scale)
        stats["histogram"] = {"edges": hist.edges, "counts": hist.counts}
    return stats


def _usage(usage: TokenUsage) -> dict[str, Any]:
    pricing = usage.pricing
    return {
        "requests": usage.requests,
        "from_journal": usage.from_journal,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "batch_prompt_tokens": usage.batch_prompt_tokens,
        "batch_completion_tokens": usage.batch_completion_tokens,
        "cost": usage.cost,
        "currency": pricing.currency if pricing else None,
        "prompt_price_per_1m": pricing.prompt_per_1m if pricing else None,
        "completion_price_per_1m": pricing.completion_per_1m if pricing else None,
        "batch_discount": pricing.batch_discount if pricing else None,
    }


def _usage_total(data: ReportData) -> dict[str, Any]:
    usages = list(data.usage.values())
    priced = [u for u in usages if u.pricing is not None]
    currencies = sorted({u.pricing.currency for u in priced if u.pricing is not None})
    return {
        "requests": sum(u.requests for u in usages),
        "from_journal": sum(u.from_journal for u in usages),
        "prompt_tokens": sum(u.prompt_tokens for u in usages),
        "completion_tokens": sum(u.completion_tokens for u in usages),
        "total_tokens": sum(u.total_tokens for u in usages),
        "batch_prompt_tokens": sum(u.batch_prompt_tokens for u in usages),
        "batch_completion_tokens": sum(u.batch_completion_tokens for u in usages),
        # A sum over mixed currencies means nothing: then, and when nothing is priced, there is no total.
        "cost": sum(u.cost or 0.0 for u in priced) if priced and len(currencies) == 1 else None,
        "currency": currencies[0] if len(currencies) == 1 else None,
        "unpriced": [name for name, u in data.usage.items() if u.pricing is None],
    }


def build_stats(data: ReportData, plots: Sequence[str] = ()) -> dict[str, Any]:
    """Every number of the report as JSON-ready values (``None`` for not-a-number); ``plots``: the PNG paths."""
    stages = [
        {
            "name": s.name,
            "records_in": s.records_in,
            "records_out": s.records_out,
            "dropped": s.dropped,
            "seconds": s.seconds,
            **({"resumed": True} if s.resumed else {}),  # loaded from an earlier run: its seconds are that run's
        }
        for s in data.stages
    ]
    stats: dict[str, Any] = {
        "title": data.title,
        "info": dict(data.info),
        "stages": stages,
        "totals": {
            "records_in": data.stages[0].records_in if data.stages else None,
            "records_out": data.stages[-1].records_out if data.stages else None,
            "seconds": sum(s.seconds for s in data.stages),
        },
        "headline": _headline(data),
        "rejections": {name: dict(reasons) for name, reasons in data.rejections.items()},
        "rejected": sum(sum(reasons.values()) for reasons in data.rejections.values()),
        "drops": {kind: {name: dict(r) for name, r in names.items()} for kind, names in data.drops.items()},
        "sources": {name: dict(counts) for name, counts in data.sources.items()},
        "examples": list(data.examples),
        "clusters": list(data.clusters),
        "preference": {name: _distribution(values, data.bins, None) for name, values in data.preference.items()},
        "scores": {
            name: _distribution(values, data.bins, _SCORE_SCALES.get(name)) for name, values in data.scores.items()
        },
        "lengths": {
            "unit": data.length_unit,
            **{name: _distribution(values, data.bins, None) for name, values in data.lengths.items()},
        },
        "rouge_l_to_seed": _distribution(data.rouge_l_to_seed, data.bins, _UNIT_SCALE),
        "diversity": dict(data.diversity),
        "cluster_sizes": dict(data.cluster_sizes),
        "usage": {
            "clients": {name: _usage(usage) for name, usage in data.usage.items()},
            "total": _usage_total(data),
        },
        "bias": dict(data.bias),
        "plots": list(plots),
    }
    return _json_ready(stats)


def _headline(data: ReportData) -> dict[str, Any]:
    """The report's cards: records loaded or generated (the first stage's output when it starts from nothing),
    records kept, what filters rejected, duplicates removed, records not sampled, other drops (failed requests,
    unpaired instructions...), and the time this run took (stages resumed from an earlier run apart)."""
    first = data.stages[0] if data.stages else None

    def dropped(kind: str) -> int:
        return sum(sum(reasons.values()) for reasons in data.drops.get(kind, {}).values())

    return {
        "records": (first.records_out if first.records_in == 0 else first.records_in) if first else None,
        "kept": data.stages[-1].records_out if data.stages else None,
        "rejected_by_filters": sum(sum(reasons.values()) for reasons in data.rejections.values()),
        "duplicates": dropped("dedup"),
        "not_sampled": dropped("sample"),
        "other_drops": dropped("other"),
        "seconds": sum(s.seconds for s in data.stages if not s.resumed),
        "resumed_stages": sum(s.resumed for s in data.stages),
    }


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_json_ready(v) for v in value]
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def build_charts(data: ReportData) -> list[Chart]:
    """The plots of the report, in display order: scores, lengths, ROUGE-L to seeds, cluster sizes, bias terms."""
    charts: list[Chart] = []
    for name, values in data.scores.items():
        if values:
            hist = _histogram(values, data.bins, _SCORE_SCALES.get(name))
            charts.append(_histogram_chart(f"score_{name}", f"Reward score: {name}", name, hist))
    for name, lengths in data.lengths.items():
        if lengths:
            hist = _histogram(lengths, data.bins, (0.0, float(max(lengths)) or 1.0))
            title = f"{name} length ({data.length_unit})"
            charts.append(_histogram_chart(f"length_{name}", title, data.length_unit, hist))
    if data.rouge_l_to_seed:
        hist = _histogram(data.rouge_l_to_seed, data.bins, _UNIT_SCALE)
        charts.append(_histogram_chart("rouge_l_to_seed", "ROUGE-L F1 to the nearest seed", "ROUGE-L F1", hist))
    if data.cluster_sizes:
        ordered = sorted(data.cluster_sizes.items(), key=lambda item: -item[1])
        terms = {str(cluster["label"]): cluster["terms"] for cluster in data.clusters}
        labels = tuple(f"{label}: {', '.join(terms[label][:2])}" if terms.get(label) else label for label, _ in ordered)
        counts = tuple(size for _, size in ordered)
        charts.append(Chart("cluster_sizes", "Cluster sizes (largest first)", "cluster", "bar", labels, counts))
    titles = {"chosen_score": "Chosen responses' scores", "rejected_score": "Rejected responses' scores",
              "margin": "Margin: chosen minus rejected score"}  # fmt: skip
    for name, values in data.preference.items():
        if values:
            hist = _histogram(values, data.bins, None)
            charts.append(_histogram_chart(f"preference_{name}", titles[name], name.replace("_", " "), hist))
    if data.bias.get("top_terms"):
        charts.append(bias_chart(data.bias))
    return charts


def bias_chart(bias: Mapping[str, Any]) -> Chart:
    """The report's chart of a ``bias`` section (:meth:`BiasSummary.to_dict`): for each of its ``top_terms``,
    the percentage of records mentioning it in the seeds and in each field."""
    by_key = {(t["group"], t["term"]): t for t in bias["terms"]}
    top = [by_key[(group, term)] for group, term in bias["top_terms"] if (group, term) in by_key]
    series = [("seeds", tuple(100 * (t["seed_share"] or 0.0) for t in top))] if bias.get("seeds") else []
    series += [(field, tuple(100 * t["shares"][field] for t in top)) for field in bias["fields"]]
    labels = tuple(f"{t['group']}: {t['term']}" for t in top)
    title = "Records mentioning each term: seeds vs generated" if bias.get("seeds") else "Records mentioning each term"
    return Chart("bias_terms", title, "% of records", "grouped", labels, (), series=tuple(series))
