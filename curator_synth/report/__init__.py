"""The run report: :class:`ReportData` (filled by the pipeline) and :func:`write_report`, which writes
``stats.json``, PNG plots and a self-contained ``report.html``.

Plots need matplotlib (``pip install 'curator_synth[report]'``); without it the report is still written, with
tables in place of the plots.
"""

from curator_synth._lazy import lazy_getattr as _lazy_getattr
from curator_synth.report.data import NO_REASON, SCORE_NAMES, Pricing, ReportData, StageStats, TokenUsage, text_lengths
from curator_synth.report.html import render_html
from curator_synth.report.plots import render_charts, render_png
from curator_synth.report.stats import Chart, build_charts, build_stats, summarise
from curator_synth.report.write import PLOTS_DIR, write_report

# The bias summary needs pandas/pyarrow: loaded on first use, so importing the report package stays light.
_LAZY = {"BiasSummary": "curator_synth.report.bias", "bias_summary": "curator_synth.report.bias",
         "load_terms": "curator_synth.report.terms"}  # fmt: skip
__getattr__ = _lazy_getattr(__name__, _LAZY)

__all__ = [
    "NO_REASON",
    "PLOTS_DIR",
    "SCORE_NAMES",
    "BiasSummary",
    "Chart",
    "Pricing",
    "ReportData",
    "StageStats",
    "TokenUsage",
    "bias_summary",
    "build_charts",
    "build_stats",
    "load_terms",
    "render_charts",
    "render_html",
    "render_png",
    "summarise",
    "text_lengths",
    "write_report",
]
