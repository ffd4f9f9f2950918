"""``report.html``: one self-contained page (inline CSS, PNGs as base64 ``data:`` URIs, no scripts, no links).

Every piece of text that comes from the data (stage and filter names, reasons, info values, labels) goes
through :func:`html.escape`. Without PNGs (matplotlib missing) each chart is shown as a table of its bins.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from typing import Any

from curator_synth._version import __version__
from curator_synth.report.stats import Chart

__all__ = ["render_html"]

#: A chart shown as a table lists at most this many rows (all of them are in stats.json).
MAX_TABLE_ROWS = 50

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 60rem;
       color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f4f4f4; }
.cards { display: flex; flex-wrap: wrap; gap: 0.75rem; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.5rem 0.9rem; min-width: 8rem; }
.card .value { font-size: 1.3rem; font-weight: 600; } .card .label { font-size: 0.8rem; color: #666; }
.figures { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0.5rem 0; width: 29rem; max-width: 100%; } figure img { width: 100%; }
figcaption { font-size: 0.8rem; color: #666; text-align: center; }
.bar { background: #4c72b0; height: 0.7rem; display: inline-block; }
.note { background: #fff8e1; border: 1px solid #f0d98c; padding: 0.5rem 0.8rem; border-radius: 4px; }
footer { margin-top: 3rem; font-size: 0.8rem; color: #888; }
table.examples { table-layout: fixed; width: 100%; } table.examples td:first-child { width: 9rem; }
table.examples td { vertical-align: top; overflow-wrap: anywhere; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:.4g}"
    return _e(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[bool] | None = None) -> str:
    numeric = numeric or [False] * len(headers)
    head = "".join(f"<th{' class=num' if n else ''}>{_e(h)}</th>" for h, n in zip(headers, numeric, strict=True))
    body = []
    for row in rows:
        cells = "".join(
            f"<td class=num>{_num(cell)}</td>" if n else f"<td>{_e(cell)}</td>"
            for cell, n in zip(row, numeric, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _chart_table(chart: Chart) -> str:
    peak = max(chart.counts, default=0) or 1
    rows = [
        f"<tr><td>{_e(label)}</td><td class=num>{_num(count)}</td>"
        f'<td><span class=bar style="width:{round(12 * count / peak, 2)}rem"></span></td></tr>'
        for label, count in list(zip(chart.labels, chart.counts, strict=True))[:MAX_TABLE_ROWS]
    ]
    more = len(chart.counts) - MAX_TABLE_ROWS
    if more > 0:
        rows.append(f"<tr><td colspan=3>… {more:,} more rows in stats.json</td></tr>")
    heading = "bin" if chart.kind == "histogram" else _e(chart.xlabel)
    return (
        f"<table><caption>{_e(chart.title)}</caption><thead><tr><th>{heading}</th><th class=num>records</th>"
        f"<th></th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _figure(chart: Chart, images: Mapping[str, bytes]) -> str:
    png = images.get(chart.name)
    if png is None:
        return _chart_table(chart)
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{data}" alt="{_e(chart.title)}"></figure>'  # titled in the PNG


def _summary_rows(distributions: Mapping[str, Any]) -> list[list[Any]]:
    keys = ("count", "mean", "std", "min", "median", "p90", "max")
    return [[name, *(stats.get(k) for k in keys)] for name, stats in distributions.items() if isinstance(stats, dict)]


_SUMMARY_HEADERS = ["", "count", "mean", "std", "min", "median", "p90", "max"]
_SUMMARY_NUMERIC = [False] + [True] * 7


def _cost(value: float | None, currency: str | None) -> str:
    return "not priced" if value is None else f"{value:,.4f} {currency or ''}".strip()


def _cards(stats: Mapping[str, Any]) -> str:
    headline, usage = stats["headline"], stats["usage"]["total"]
    resumed = headline["resumed_stages"]
    cards = [
        ("records loaded or generated", _num(headline["records"])),
        ("records kept", _num(headline["kept"])),
        ("rejected by filters", _num(headline["rejected_by_filters"])),
        ("duplicates removed", _num(headline["duplicates"])),
        ("not sampled", _num(headline["not_sampled"])),
        ("other drops", _num(headline["other_drops"])),
        (f"seconds{f' ({resumed} stages resumed)' if resumed else ''}", f"{headline['seconds']:,.1f}"),
        ("tokens", _num(usage["total_tokens"])),
        ("cost", _e(_cost(usage["cost"], usage["currency"]))),
    ]
    items = "".join(f"<div class=card><div class=value>{v}</div><div class=label>{_e(k)}</div></div>" for k, v in cards)
    return f"<div class=cards>{items}</div>"


def _stages(stats: Mapping[str, Any]) -> list[str]:
    if not stats["stages"]:
        return ["<h2>Stages</h2>", "<p>No stages were recorded.</p>"]
    rows = [
        [s["name"] + (" (resumed)" if s.get("resumed") else ""), s["records_in"], s["records_out"],
         f"{s['records_out'] - s['records_in']:+,}", s["seconds"]]
        for s in stats["stages"]
    ]  # fmt: skip
    headers = ["stage", "records in", "records out", "change", "seconds"]
    parts = ["<h2>Stages</h2>", _table(headers, rows, [False, True, True, False, True])]
    if any(s.get("resumed") for s in stats["stages"]):
        parts.append("<p>(resumed): loaded from an earlier run of the same recipe; its seconds are that run's.</p>")
    return parts


def _rejections(stats: Mapping[str, Any]) -> list[str]:
    parts = []
    if stats["rejections"]:
        rows = [[name, reason, n] for name, reasons in stats["rejections"].items() for reason, n in reasons.items()]
        parts += ["<h2>Rejections by filter</h2>", _table(["filter", "reason", "records"], rows, [False, False, True])]
    kinds = {"dedup": "duplicate removed", "sample": "not sampled", "other": "dropped"}
    rows = [
        [kinds.get(kind, kind), name, reason, n]
        for kind, names in stats.get("drops", {}).items()
        for name, reasons in names.items()
        for reason, n in reasons.items()
    ]
    if rows:
        parts += ["<h2>Other drops</h2>", _table(["kind", "stage", "reason", "records"], rows, [False] * 3 + [True])]
    return parts


def _distributions(
    title: str, distributions: Mapping[str, Any], prefix: str, charts: Mapping[str, Chart], images: Mapping[str, bytes]
) -> list[str]:
    if not distributions:
        return []
    parts = [f"<h2>{_e(title)}</h2>", _table(_SUMMARY_HEADERS, _summary_rows(distributions), _SUMMARY_NUMERIC)]
    figures = [_figure(charts[prefix + name], images) for name in distributions if prefix + name in charts]
    return [*parts, f"<div class=figures>{''.join(figures)}</div>"] if figures else parts


def _novelty(stats: Mapping[str, Any], charts: Mapping[str, Chart], images: Mapping[str, bytes]) -> list[str]:
    rouge = stats["rouge_l_to_seed"]
    if not rouge["count"]:
        return []
    return [
        "<h2>Novelty: ROUGE-L to the nearest seed</h2>",
        _table(_SUMMARY_HEADERS, _summary_rows({"ROUGE-L F1": rouge}), _SUMMARY_NUMERIC),
        _figure(charts["rouge_l_to_seed"], images),
    ]


def _diversity(stats: Mapping[str, Any], charts: Mapping[str, Chart], images: Mapping[str, bytes]) -> list[str]:
    if not stats["diversity"] and not stats["cluster_sizes"]:
        return []
    parts = ["<h2>Diversity</h2>"]
    if stats["diversity"]:
        parts.append(_table(["metric", "value"], [[k, v] for k, v in stats["diversity"].items()], [False, True]))
    if "cluster_sizes" in charts:
        parts.append(_figure(charts["cluster_sizes"], images))
    return parts


def _sources(stats: Mapping[str, Any]) -> list[str]:
    """Records by source (the model that wrote them, the file they came from): in the first stage and kept."""
    sources = stats.get("sources") or {}
    if len(sources) < 2:
        return []
    rows = [
        [name, counts["in"], counts["out"], 100 * counts["out"] / counts["in"] if counts["in"] else None]
        for name, counts in sorted(sources.items(), key=lambda item: -item[1]["out"])
    ]
    return [
        "<h2>Records by source</h2>",
        _table(["source", "records in", "kept", "kept %"], rows, [False] + [True] * 3),
    ]


def _clusters(stats: Mapping[str, Any]) -> list[str]:
    """The final records' clusters: size, the words that set them apart, two members."""
    clusters = stats.get("clusters") or []
    if not clusters:
        return []
    rows = [
        [c["label"], c["size"], ", ".join(c["terms"]), " | ".join(_short(m, 100) for m in c["members"])]
        for c in clusters
    ]
    return ["<h3>Clusters</h3>", _table(["cluster", "records", "distinctive terms", "two members"], rows,
                                        [False, True, False, False])]  # fmt: skip


def _examples(stats: Mapping[str, Any]) -> list[str]:
    """A few records each stage kept, and a few it dropped per reason."""
    examples = stats.get("examples") or []
    if not examples:
        return []
    parts = ["<h2>Examples</h2>"]
    for stage in examples:
        rows = [["kept", *_example(record)] for record in stage["kept"]]
        rows += [[f"dropped: {reason}", *_example(record)] for reason, records in stage["dropped"].items()
                 for record in records]  # fmt: skip
        if rows:
            table = _table(["", "instruction", "response"], rows).replace("<table>", "<table class=examples>", 1)
            parts += [f"<h3>{_e(stage['stage'])}</h3>", table]
    return parts


def _example(record: Mapping[str, Any]) -> list[str]:
    instruction = record.get("instruction") or record.get("prompt") or record.get("text") or ""
    response = record.get("response") or record.get("chosen") or ""
    return [_short(instruction, 300), _short(response, 300)]


def _short(text: Any, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bias(stats: Mapping[str, Any], charts: Mapping[str, Chart], images: Mapping[str, bytes]) -> list[str]:
    """Term mentions per field vs the seeds, balance within each group, categories vs the seeds, the chart."""
    bias = stats.get("bias") or {}
    if not bias:
        return []
    fields, seeds = bias["fields"], bias.get("seeds") is not None
    compared = f", compared with {bias['seeds']:,} seeds ({bias['compare_field']})" if seeds else ""
    parts = [
        "<h2>Bias and representation</h2>",
        f"<p class=note>{_e(bias['note'])}</p>",
        f"<p>Share of the {bias['records']:,} records mentioning each term{_e(compared)}.</p>",
    ]
    seed_headers = ["seeds %", "ratio", "difference (points)"] if seeds else []
    headers = ["group", "term", *(f"{f} %" for f in fields), *seed_headers]
    rows = [
        [t["group"], t["term"], *(100 * t["shares"][f] for f in fields)]
        + ([100 * (t["seed_share"] or 0.0), t["ratio"], 100 * (t["difference"] or 0.0)] if seeds else [])
        for t in bias["terms"]
        if any(t["counts"].values()) or t["seed_count"]
    ]
    parts.append(_table(headers, rows[:MAX_TABLE_ROWS], [False, False] + [True] * (len(headers) - 2)))
    if len(rows) > MAX_TABLE_ROWS:
        parts.append(f"<p>… {len(rows) - MAX_TABLE_ROWS:,} more terms in stats.json.</p>")
    if "bias_terms" in images:
        parts.append(_figure(charts["bias_terms"], images))
    parts += [
        "<h3>Balance within each group</h3>",
        "<p>Balance: normalised entropy of the term counts (1 = every term as often, 0 = one term only);"
        " most/least: the most over the least mentioned term (∞: a term is never mentioned).</p>",
        _balance_table(bias, fields, seeds),
    ]
    categories = bias.get("categories")
    if categories:
        seed_shares = categories["seed_shares"]
        rows = [
            [name, n, 100 * categories["shares"][name]] + ([100 * seed_shares[name]] if seed_shares else [])
            for name, n in categories["counts"].items()
        ]
        headers = [categories["source"], "records", "share %"] + (["seeds %"] if seed_shares else [])
        parts.append(f"<h3>Distribution of {_e(categories['source'])}</h3>")
        parts.append(_table(headers, rows[:MAX_TABLE_ROWS], [False] + [True] * (len(headers) - 1)))
    return parts


def _balance_table(bias: Mapping[str, Any], fields: Sequence[str], seeds: bool) -> str:
    """Within-group balance: normalised entropy (1 = even) and most/least mentioned ("∞": a term never is)."""

    def most_least(value: float | None, mentions: int, terms: int) -> Any:
        return "∞" if value is None and mentions and terms > 1 else value

    rows = []
    for g in bias["groups"]:
        row: list[Any] = [g["group"]]
        for f in fields:
            row += [
                g["mentions"][f],
                g["entropy"][f],
                most_least(g["max_min_ratio"][f], g["mentions"][f], len(g["terms"])),
            ]
        rows.append(row + ([g["seed_mentions"], g["seed_entropy"]] if seeds else []))
    headers = ["group"] + [f"{f} {h}" for f in fields for h in ("records", "balance", "most/least")]
    headers += ["seeds records", "seeds balance"] if seeds else []
    return _table(headers, rows, [False] + [True] * (len(headers) - 1))


def _usage(stats: Mapping[str, Any]) -> list[str]:
    clients, total = stats["usage"]["clients"], stats["usage"]["total"]
    if not clients:
        return []
    keys = ("requests", "from_journal", "prompt_tokens", "completion_tokens", "total_tokens")
    rows = [[name, *(u[k] for k in keys), _cost(u["cost"], u["currency"])] for name, u in clients.items()]
    rows.append(["total", *(total[k] for k in keys), _cost(total["cost"], total["currency"])])
    headers = ["client", "requests", "from journal", "prompt tokens", "completion tokens", "tokens", "cost"]
    parts = ["<h2>Token usage and cost</h2>", _table(headers, rows, [False] + [True] * 5 + [False])]
    if total["unpriced"] and total["cost"] is not None:
        parts.append(f"<p>The total leaves out what is not priced: {_e(', '.join(total['unpriced']))}.</p>")
    batched = [
        (name, u) for name, u in clients.items() if u.get("batch_prompt_tokens") or u.get("batch_completion_tokens")
    ]
    for name, u in batched:
        tokens = u["batch_prompt_tokens"] + u["batch_completion_tokens"]
        discount = f" at {u['batch_discount']:g}x the price" if u.get("batch_discount") is not None else ""
        parts.append(f"<p>{_e(name)}: {tokens:,} of its tokens went through the batch API{discount}.</p>")
    return parts


def render_html(
    stats: Mapping[str, Any], charts: Sequence[Chart], images: Mapping[str, bytes], note: str | None = None
) -> str:
    """The page for ``stats`` (from :func:`~curator_synth.report.stats.build_stats`) and its charts; a chart
    without PNG bytes in ``images`` is shown as a table. ``note`` is shown above the charts (e.g. why there
    are no plots)."""
    by_name = {chart.name: chart for chart in charts}
    parts = [f"<h1>{_e(stats['title'])}</h1>"]
    if stats["info"]:
        rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in stats["info"].items())
        parts.append(f"<table><tbody>{rows}</tbody></table>")
    parts.append(_cards(stats))
    if note:
        parts.append(f"<p class=note>{_e(note)}</p>")
    parts += _stages(stats)
    parts += _rejections(stats)
    parts += _distributions("Reward scores", stats["scores"], "score_", by_name, images)
    lengths = {name: values for name, values in stats["lengths"].items() if name != "unit"}
    parts += _distributions(f"Lengths ({stats['lengths']['unit']})", lengths, "length_", by_name, images)
    parts += _sources(stats)
    parts += _distributions("Preference pairs", stats.get("preference", {}), "preference_", by_name, images)
    parts += _novelty(stats, by_name, images)
    parts += _diversity(stats, by_name, images)
    parts += _clusters(stats)
    parts += _bias(stats, by_name, images)
    parts += _examples(stats)
    parts += _usage(stats)
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
        f"<title>{_e(stats['title'])}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n"
        f"<footer>Written by curator_synth {_e(__version__)}; every number is also in stats.json.</footer>\n"
        "</body>\n</html>\n"
    )
