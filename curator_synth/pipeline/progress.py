"""What a running pipeline has done so far, stage by stage, for a progress display: :class:`RunStatus`.

The runner keeps one :class:`StageStatus` per stage of the recipe, from ``waiting`` through ``running`` to
``done``, ``resumed`` (loaded from an earlier run) or ``failed``. A running stage's requests and tokens are read
live from the clients of this process (:class:`~curator_synth.clients.stats.UsageMeter`: the driver's client and
those of partitions on Dask's threads); partitions on a cluster's workers add theirs when they finish. A display
(``curator-synth run``) polls :attr:`SyntheticDataPipeline.status <curator_synth.pipeline.SyntheticDataPipeline>`
from its own thread: every figure here is a plain attribute, read without locks.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from curator_synth.clients.stats import TOTALS

if TYPE_CHECKING:
    from curator_synth.clients.stats import UsageMeter
    from curator_synth.distributed import PartitionStats

__all__ = ["RunStatus", "StageStatus"]

State = Literal["waiting", "running", "done", "resumed", "failed"]


@dataclass
class StageStatus:
    """One stage: its state, records in / done / out, the time it took, and what it sent (:attr:`usage`)."""

    number: int
    name: str
    uses_llm: bool = False
    state: State = "waiting"
    records_in: int | None = None
    records_out: int | None = None
    partitions: int = 0
    partitions_done: int = 0
    started: float | None = None
    seconds: float | None = None
    meter: UsageMeter | None = None
    finished_parts: dict[str, int] = field(default_factory=dict)
    final_usage: dict[str, int] | None = None

    @property
    def elapsed(self) -> float:
        if self.seconds is not None:
            return self.seconds
        return time.monotonic() - self.started if self.started is not None else 0.0

    @property
    def records_done(self) -> int | None:
        """Records whose work is finished: all of them once the stage is; for a partitioned stage, the share of
        its finished partitions; None while a stage that is not partitioned runs."""
        if self.state in ("done", "resumed"):
            return self.records_in
        if self.partitions and self.records_in is not None:
            return round(self.records_in * self.partitions_done / self.partitions)
        return None

    @property
    def usage(self) -> dict[str, int]:
        """Requests (``requests``, ``ok``, ``retries``, ``failed``, ``from_journal``) and tokens
        (``prompt_tokens``, ``completion_tokens``) so far: the live counters of this process's clients, or the
        finished partitions' when those are more (a cluster's workers)."""
        if self.final_usage is not None:
            return self.final_usage
        live = self.meter.totals() if self.meter is not None else {}
        return {key: max(live.get(key, 0), self.finished_parts.get(key, 0)) for key in TOTALS}

    def eta(self) -> float | None:
        """Seconds left, from the pace of the finished share (None: not known yet)."""
        if self.state != "running" or not self.partitions or not self.partitions_done:
            return None
        return self.elapsed * (self.partitions - self.partitions_done) / self.partitions_done

    def tokens_per_second(self) -> float | None:
        usage, elapsed = self.usage, self.elapsed
        tokens = usage["prompt_tokens"] + usage["completion_tokens"]
        return tokens / elapsed if tokens and elapsed > 0 else None


@dataclass
class RunStatus:
    """Every stage of a run (:class:`StageStatus`), and the prices of ``pricing:`` to show spend so far."""

    stages: list[StageStatus]
    pricing: Any = None  # curator_synth.report.Pricing, or None

    @classmethod
    def of(cls, names: Sequence[tuple[str, bool]], pricing: Any = None) -> RunStatus:
        """``names``: each stage's ``(name, uses_llm)``; ``pricing``: the recipe's section (or None)."""
        stages = [StageStatus(number, name, uses_llm) for number, (name, uses_llm) in enumerate(names)]
        return cls(stages, pricing.pricing() if pricing is not None else None)

    @property
    def currency(self) -> str:
        return self.pricing.currency if self.pricing is not None else "USD"

    @property
    def current(self) -> StageStatus | None:
        return next((stage for stage in self.stages if stage.state == "running"), None)

    def spend(self, usage: dict[str, int]) -> float | None:
        """The price of ``usage`` (None without ``pricing:``)."""
        return self.pricing.cost_of(usage) if self.pricing is not None else None

    # ------------------------------------------------------------------------------------- the runner's calls
    def start(self, number: int, records_in: int, meter: UsageMeter) -> StageStatus:
        stage = self.stages[number]
        stage.state, stage.records_in, stage.meter, stage.started = "running", records_in, meter, time.monotonic()
        return stage

    def partition_done(self, number: int, done: int, total: int, stats: PartitionStats | None = None) -> None:
        stage = self.stages[number]
        stage.partitions, stage.partitions_done = total, done
        if stats is not None:
            for key, value in _partition_usage(stats).items():
                stage.finished_parts[key] = stage.finished_parts.get(key, 0) + value

    def finish(self, number: int, summary: Mapping[str, Any], *, resumed: bool = False) -> None:
        """The stage ended (``summary``: its ``StageSummary``: records in and out, seconds)."""
        stage = self.stages[number]
        if not resumed:
            stage.final_usage = stage.usage
        stage.state = "resumed" if resumed else "done"
        stage.records_in, stage.records_out = summary["records_in"], summary["records_out"]
        stage.seconds = float(summary["seconds"])
        stage.meter = None

    def fail(self, number: int) -> None:
        stage = self.stages[number]
        stage.final_usage, stage.seconds, stage.state, stage.meter = stage.usage, stage.elapsed, "failed", None


def _partition_usage(stats: PartitionStats) -> dict[str, int]:
    return {
        "requests": stats.requests_sent,
        "from_journal": stats.from_journal,
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "batch_prompt_tokens": stats.batch_prompt_tokens,
        "batch_completion_tokens": stats.batch_completion_tokens,
        "retries": sum(stats.retries.values()),
        "failed": sum(stats.failures.values()),
        "ok": stats.requests_sent - sum(stats.failures.values()),
    }
