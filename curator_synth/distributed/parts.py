"""The files of an LLM stage: one part per partition (written once, atomically), its stats beside it, and the
stage manifest (task name and partition count); the :class:`PartitionTask` contract."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pandas as pd

from curator_synth._files import atomic_write
from curator_synth.clients.base import AsyncLLMClient
from curator_synth.errors import ConfigError

if TYPE_CHECKING:
    pass

__all__ = [
    "MANIFEST",
    "PartitionStats",
    "PartitionTask",
    "Progress",
    "StageTotals",
    "check_manifest",
    "part_path",
    "stage_stats",
]

MANIFEST = "_stage.json"  # in output_dir: the stage's task name and partition count


@runtime_checkable
class PartitionTask(Protocol):
    """What an LLM stage does to one partition; picklable (module-level class), ``name`` identifies the stage.
    The client is built for this partition (its share of the budget, its journal); the task may query it
    concurrently and returns the output frame (any number of rows; the index is not kept)."""

    name: str

    async def __call__(self, frame: pd.DataFrame, client: AsyncLLMClient) -> pd.DataFrame: ...


@dataclass
class PartitionStats:
    """What producing one part cost; saved as ``part-{i:05d}.stats.json`` next to it. The counts are those of
    the run that wrote the part (``skipped``: this run found the part done and reused it)."""

    partition: int
    rows_in: int = 0
    rows_out: int = 0
    requests_sent: int = 0
    from_journal: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    batch_prompt_tokens: int = 0
    batch_completion_tokens: int = 0
    retries: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    worker: str = ""  # host:pid of the process that wrote the part
    skipped: bool = False

    @classmethod
    def read(cls, output_dir: str | os.PathLike[str], partition: int) -> PartitionStats:
        """The saved stats of a done partition, marked ``skipped`` (zeros if the file is missing)."""
        path = part_path(output_dir, partition, ".stats.json")
        saved = json.loads(path.read_text()) if path.exists() else {}
        known = {key: value for key, value in saved.items() if key in cls.__dataclass_fields__}
        return replace(cls(**{**known, "partition": partition}), skipped=True)


@dataclass
class StageTotals:
    """Totals of a stage over its parts (``stage_stats(output_dir)``), for reports."""

    partitions: int = 0
    skipped: int = 0
    rows_in: int = 0
    rows_out: int = 0
    requests_sent: int = 0
    from_journal: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    batch_prompt_tokens: int = 0
    batch_completion_tokens: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0  # summed over partitions (not wall time)

    def add(self, part: PartitionStats) -> None:
        self.partitions += 1
        self.skipped += part.skipped
        for name in _SUMMED:
            setattr(self, name, getattr(self, name) + getattr(part, name))
        self.retries.update(part.retries)
        self.failures.update(part.failures)
        self.seconds += part.seconds

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(retries=dict(self.retries), failures=dict(self.failures), total_tokens=self.total_tokens)
        return data


Progress = Callable[[PartitionStats], None]
_SUMMED = (
    "rows_in",
    "rows_out",
    "requests_sent",
    "from_journal",
    "prompt_tokens",
    "completion_tokens",
    "batch_prompt_tokens",
    "batch_completion_tokens",
)


def part_path(output_dir: str | os.PathLike[str], partition: int, suffix: str = ".parquet") -> Path:
    """Where partition ``partition`` of a stage writing to ``output_dir`` goes (its stats: ``.stats.json``)."""
    return Path(output_dir) / f"part-{partition:05d}{suffix}"


def check_manifest(output_dir: Path, name: str, npartitions: int) -> None:
    """One output directory holds one stage over one partitioning: a re-run must not mix parts of another."""
    path = output_dir / MANIFEST
    expected = {"task": name, "npartitions": npartitions}
    if not path.exists():
        atomic_write(path, lambda temp: temp.write_text(json.dumps(expected)))
        return
    found = json.loads(path.read_text())
    if found != expected:
        raise ConfigError(
            f"{output_dir} holds stage {found.get('task')!r} over {found.get('npartitions')} partitions, not "
            f"{name!r} over {npartitions}: give this stage its own output_dir"
        )


def stage_stats(output_dir: str | os.PathLike[str]) -> StageTotals:
    """The totals of the parts written so far in ``output_dir`` (``skipped`` counts none: nothing was run)."""
    manifest = Path(output_dir) / MANIFEST
    if not manifest.exists():
        raise ConfigError(f"{output_dir} is not the output directory of an LLM stage (no {MANIFEST})")
    total = StageTotals()
    for partition in range(json.loads(manifest.read_text())["npartitions"]):
        if part_path(output_dir, partition).exists():
            total.add(replace(PartitionStats.read(output_dir, partition), skipped=False))
    return total
