"""What a run returns (:class:`PipelineResult`), and the rule that a run without records is a failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import StageError
from curator_synth.pipeline.summary import StageSummary

__all__ = ["PipelineResult", "require_records"]


@dataclass
class PipelineResult:
    """What a run produced: the final dataset, where it and the report are, and per-stage figures (``stages``:
    each stage's summary, with ``resumed`` True when it was loaded from an earlier run instead of run)."""

    dataset: DocumentDataset
    output_dir: Path
    report_path: Path | None
    stages: list[StageSummary] = field(default_factory=list)
    exports: dict[str, Path] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.dataset)

    def to_hf_dataset(self) -> Any:
        """The final records as a Hugging Face ``datasets.Dataset`` (the ``hub`` extra)."""
        try:
            import datasets
        except ImportError as error:
            from curator_synth.errors import MissingDependencyError

            raise MissingDependencyError("datasets", "hub", "PipelineResult.to_hf_dataset") from error
        return datasets.Dataset.from_pandas(self.dataset.to_pandas(), preserve_index=False)


def require_records(data: DocumentDataset, stages: list[StageSummary]) -> None:
    """A run whose records were all dropped is a failure (exit 1), not an empty dataset written as a success:
    the error names the stage that dropped the last records and why."""
    if len(data):
        return
    emptied = next((s for s in stages if s["records_out"] == 0), stages[-1])
    rejections = emptied["rejections"].items()
    reasons = ", ".join(f"{name}/{reason} {n}" for name, why in rejections for reason, n in why.items())
    detail = f" ({reasons})" if reasons else ""
    raise StageError(
        f"the run produced no records: stage {emptied['stage']!r} kept 0 of {emptied['records_in']}{detail};"
        " nothing was exported"
    )
