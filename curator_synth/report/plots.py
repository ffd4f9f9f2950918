"""PNG plots of the report's charts, drawn with matplotlib's Agg canvas (the ``report`` extra).

matplotlib is imported on first use, and only through ``Figure`` and the Agg canvas: no ``pyplot``, so the
caller's backend and global figure state are never touched and no display is needed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from curator_synth.errors import MissingDependencyError
from curator_synth.report.stats import Chart

__all__ = ["render_charts", "render_png"]

#: Above this many bars the cluster labels are not written under the bars.
MAX_BAR_LABELS = 40
_COLOR = "#4c72b0"


def _matplotlib() -> tuple[Any, Any]:
    """``(Figure, FigureCanvasAgg)``, or :class:`MissingDependencyError` with the pip hint."""
    try:
        import matplotlib  # noqa: F401  (imported first: a missing package fails here, not on a submodule)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingDependencyError("matplotlib", "report", "Report plots") from exc
    return Figure, FigureCanvasAgg


def render_png(chart: Chart, figure_cls: Any = None, canvas_cls: Any = None) -> bytes:
    """One chart as PNG bytes."""
    if figure_cls is None or canvas_cls is None:
        figure_cls, canvas_cls = _matplotlib()
    figure = figure_cls(figsize=(6.4, 3.6), dpi=100)
    canvas_cls(figure)
    axes = figure.add_subplot()
    _DRAW[chart.kind](figure, axes, chart)
    axes.set_title(chart.title)
    if chart.kind == "histogram":  # short labels: fixed margins (a layout pass costs as much as the drawing)
        figure.subplots_adjust(left=0.11, right=0.97, bottom=0.16, top=0.9)
    else:
        figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _histogram(figure: Any, axes: Any, chart: Chart) -> None:
    """One filled step outline over the bins (one artist, not a patch per bar: half the drawing time)."""
    from matplotlib.ticker import MaxNLocator

    edges = list(chart.edges)
    axes.stairs(chart.counts, edges, fill=True, color=_COLOR)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlim(edges[0], edges[-1])
    axes.set_xlabel(chart.xlabel)
    axes.set_ylabel("records")


def _bars(figure: Any, axes: Any, chart: Chart) -> None:
    positions = list(range(len(chart.counts)))
    axes.bar(positions, chart.counts, color=_COLOR)
    if len(positions) <= MAX_BAR_LABELS:
        axes.set_xticks(positions, labels=list(chart.labels), rotation=45 if len(positions) > 10 else 0)
    else:
        axes.set_xticks([])
    axes.set_xlabel(chart.xlabel)
    axes.set_ylabel("records")


def _grouped(figure: Any, axes: Any, chart: Chart) -> None:
    """Horizontal bars, one group per label (first label on top), one bar per series; values in percent."""
    figure.set_size_inches(6.4, max(3.6, 0.32 * len(chart.labels) * max(1, len(chart.series)) / 2 + 1.2))
    height = 0.8 / max(1, len(chart.series))
    for number, ((name, values), color) in enumerate(zip(chart.series, _SERIES_COLORS, strict=False)):
        positions = [i + (number - (len(chart.series) - 1) / 2) * height for i in range(len(values))]
        axes.barh(positions, values, height=height, color=color, label=name)
    axes.set_yticks(range(len(chart.labels)), labels=list(chart.labels), fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel(chart.xlabel)
    axes.legend(fontsize=8)


_SERIES_COLORS = ("#999999", _COLOR, "#dd8452", "#55a868", "#c44e52", "#8172b3")
#: How each kind of chart is drawn.
_DRAW = {"histogram": _histogram, "bar": _bars, "grouped": _grouped}


def render_charts(charts: Sequence[Chart]) -> dict[str, bytes]:
    """PNG bytes by chart name; raises :class:`MissingDependencyError` when matplotlib is not installed."""
    figure_cls, canvas_cls = _matplotlib()
    return {chart.name: render_png(chart, figure_cls, canvas_cls) for chart in charts}
