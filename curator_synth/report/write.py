"""``write_report``: ``stats.json``, ``plots/*.png`` and a self-contained ``report.html`` in one directory.

Files are written into a hidden staging directory inside ``out_dir`` and moved into place with ``os.replace``,
PNGs first and ``report.html`` last: a file at a final name is always complete, and a ``report.html`` is only
ever next to the plots and stats it was written with. The staging directory is removed whatever happens.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

from curator_synth.errors import ConfigError, MissingDependencyError
from curator_synth.report.data import ReportData
from curator_synth.report.html import render_html
from curator_synth.report.plots import render_charts
from curator_synth.report.stats import build_charts, build_stats

__all__ = ["PLOTS_DIR", "write_report"]

#: The subdirectory of the output directory holding the PNGs.
PLOTS_DIR = "plots"


def write_report(data: ReportData, out_dir: str | os.PathLike[str], *, plots: bool = True) -> Path:
    """Write the report of ``data`` into ``out_dir`` (created if needed) and return the path of ``report.html``.

    ``stats.json`` holds every number. PNG histograms (scores per attribute, lengths, ROUGE-L to seeds) and the
    cluster-size bar chart go to ``plots/`` and are embedded in the HTML. Without matplotlib (the ``report``
    extra), or with ``plots=False``, the charts are shown as tables, with a note saying how to get the plots.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"out_dir must be a directory, {os.fspath(out)!r} is a file")
    charts = build_charts(data)
    images: dict[str, bytes] = {}
    note = None
    if plots and charts:
        try:
            images = render_charts(charts)
        except MissingDependencyError as exc:
            note = f"{exc} (The charts are shown as tables.)"
    stats = build_stats(data, [f"{PLOTS_DIR}/{name}.png" for name in images])
    page = render_html(stats, charts, images, note)

    out.mkdir(parents=True, exist_ok=True)
    staging = out / f".report-{uuid.uuid4().hex[:12]}"
    (staging / PLOTS_DIR).mkdir(parents=True)
    try:
        moves: list[tuple[Path, Path]] = []
        for name, png in images.items():
            moves.append(_put(staging / PLOTS_DIR / f"{name}.png", png, out / PLOTS_DIR / f"{name}.png"))
        text = json.dumps(stats, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        moves.append(_put(staging / "stats.json", text.encode("utf-8"), out / "stats.json"))
        moves.append(_put(staging / "report.html", page.encode("utf-8"), out / "report.html"))
        if images:
            (out / PLOTS_DIR).mkdir(exist_ok=True)
        for temp, final in moves:
            os.replace(temp, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out / "report.html"


def _put(temp: Path, content: bytes, final: Path) -> tuple[Path, Path]:
    with open(temp, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    return temp, final
