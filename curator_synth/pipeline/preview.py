"""``preview``: a recipe run end to end on a few records, to read what it makes before paying for a whole run.

Every stage is asked for the option changes that make it produce about ``n`` records (``Stage.preview``: the load
stage reads the first ``n`` records, Self-Instruct grows ``n`` instructions, a Nemotron prompt pipeline takes one
topic and ``n`` openlines); the others work on what they are given. The run has no exports and no report, goes to
a temporary directory (or ``output_dir``), and with ``simulate`` runs against the loopback simulator, as
``run --dry-run`` does. The result holds the records that came out and the ones each filter rejected, with the
reason, and the stages' counts.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from curator_synth.pipeline.config import PipelineConfig
from curator_synth.pipeline.summary import StageSummary

__all__ = ["Preview", "preview", "preview_config"]

#: Characters of a text shown in a cell of the preview's tables.
CELL = 240


@dataclass
class Preview:
    """What a preview made: ``records`` (the final records), ``rejected`` (rows a filter dropped, with the stage
    and reason), and each stage's summary."""

    recipe: str
    records: pd.DataFrame
    rejected: pd.DataFrame
    stages: list[StageSummary] = field(default_factory=list)
    simulated: bool = False

    def tables(self) -> list[Any]:
        """Rich renderables: the stages' counts, the records, the rejected rows."""
        from rich.table import Table

        counts = Table(title=f"preview of {self.recipe!r}" + (" (simulated endpoint)" if self.simulated else ""))
        for column in ("stage", "records", "dropped or flagged"):
            counts.add_column(column)
        for summary in self.stages:
            reasons = ", ".join(
                f"{name}/{reason} {n}" for name, found in summary["rejections"].items() for reason, n in found.items()
            )
            counts.add_row(summary["stage"], f"{summary['records_in']} -> {summary['records_out']}", reasons)
        tables: list[Any] = [counts, _records_table("records", self.records)]
        if len(self.rejected):
            tables.append(_records_table("rejected", self.rejected, lead=("stage", "reason")))
        return tables


def preview_config(config: PipelineConfig, n: int) -> PipelineConfig:
    """``config`` for a preview of about ``n`` records: each stage's :meth:`~curator_synth.pipeline.stages.Stage.
    preview` options applied, no exports, no report."""
    from curator_synth.pipeline.stages import STAGES

    stages = []
    for spec, raw in zip(config.stage_specs(), config.stages, strict=True):
        stage = STAGES.get(spec.name)(spec.options)
        stages.append({**raw, **stage.preview(n)})
    report = config.report.model_copy(update={"enabled": False})
    return config.model_copy(update={"stages": stages, "exports": [], "report": report})


def preview(
    config: PipelineConfig,
    n: int = 5,
    *,
    simulate: bool = False,
    output_dir: str | os.PathLike[str] | None = None,
    client: Any = None,
) -> Preview:
    """Run ``config`` on about ``n`` records (see the module) and return what came out."""
    from curator_synth.pipeline.dryrun import simulator
    from curator_synth.pipeline.runner import SyntheticDataPipeline

    small = preview_config(config, n)
    with tempfile.TemporaryDirectory(prefix="preview-") as temp:
        out = Path(output_dir) if output_dir is not None else Path(temp)
        if simulate:
            with simulator(small) as (simulated, _):
                result = SyntheticDataPipeline(None, simulated).run(output_dir=out)
        else:
            result = SyntheticDataPipeline(client, small).run(output_dir=out)
        records = result.dataset.to_pandas()
        rejected = _rejected(out)
    return Preview(config.name, records, rejected, result.stages, simulated=simulate)


def _rejected(out: Path) -> pd.DataFrame:
    """The rows each filter stage dropped (``stages/*/rejected.jsonl``), with its stage and reason."""
    frames = []
    for path in sorted(out.glob("stages/*/rejected.jsonl")):
        frame = pd.read_json(path, lines=True, dtype=False)
        if len(frame):
            stage = path.parent.name.split("-", 1)[-1]
            frames.append(frame.assign(stage=stage, reason=frame.get("filter_reason", "")))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _records_table(title: str, frame: pd.DataFrame, lead: tuple[str, ...] = ()) -> Any:
    from rich.table import Table

    table = Table(title=f"{title} ({len(frame)})", show_lines=True)
    scores = [column for column in frame.columns if column.startswith("reward_") and column != "reward_error"]
    texts = [
        column for column in ("instruction", "input", "response", "prompt", "chosen", "rejected") if column in frame
    ]
    texts = [column for column in texts if frame[column].astype(str).str.strip().any()]
    columns = [*lead, *texts, *(["scores"] if scores else []), *(["source"] if "source" in frame else [])]
    for column in columns:
        table.add_column(column, overflow="fold")
    for _, row in frame.iterrows():
        cells = [_cell(row[column]) for column in (*lead, *texts)]
        if scores:
            cells.append(", ".join(f"{c.removeprefix('reward_')} {row[c]:.2f}" for c in scores if pd.notna(row[c])))
        if "source" in frame:
            cells.append(str(row["source"]))
        table.add_row(*cells)
    return table


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    text = text.strip()
    return text if len(text) <= CELL else text[: CELL - 1] + "…"
