"""``dry_run``: run a recipe against the loopback simulator and say what a real run would send and cost.

The recipe runs for real — every stage, the partitions, the journals, the exports, the report — but its
endpoint is a :class:`~curator_synth.testing.FakeLLMServer` answering with
:class:`~curator_synth.testing.Plausible` (parser-shaped nonsense), so nothing is paid and no key is needed.
What comes out is the plan: requests, prompt tokens and completion tokens per stage, and a cost estimate from
the recipe's ``pricing:``. Prompt tokens are close to a real run's (the prompts are real; the simulator counts
whitespace tokens, a real tokenizer gives somewhat more); completion tokens are given twice, as the simulated
answers' and as the ceiling the requests' ``max_tokens`` allow. Stages whose request count depends on the
answers (Self-Instruct keeps asking until it has enough novel instructions) are estimates.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator_synth.pipeline.config import ClientConfig, PipelineConfig

__all__ = ["DryRunPlan", "StagePlan", "dry_run", "simulator"]

#: The simulator's "key" (not a secret): set for the dry run so no real key from the environment is sent.
_KEY_ENV = "CURATOR_SYNTH_DRY_RUN_KEY"
_COUNTERS = (
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "batch_requests",
    "batch_prompt_tokens",
    "batch_completion_tokens",
    "completion_token_limit",
    "unlimited_choices",
    "unlimited_completion_tokens",
)


@dataclass(frozen=True)
class StagePlan:
    """One stage of a dry run: records in and out, and what it sent to the simulator."""

    stage: str
    records_in: int
    records_out: int
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    batch_requests: int = 0  # the part of the requests (and tokens) sent through the batch API
    batch_prompt_tokens: int = 0
    batch_completion_tokens: int = 0
    completion_token_limit: int = 0
    unlimited_choices: int = 0
    unlimited_completion_tokens: int = 0

    @property
    def completion_ceiling(self) -> int:
        """Completion tokens if every answer reached its ``max_tokens``; answers asked without one count at
        their simulated length (see ``unlimited_choices``)."""
        return self.completion_token_limit + self.unlimited_completion_tokens


@dataclass
class DryRunPlan:
    """What a real run of the recipe would send; :meth:`format` is what ``curator-synth run --dry-run`` prints."""

    recipe: str
    model: str | None
    stages: list[StagePlan]
    records: int
    pricing: Any = None  # curator_synth.report.Pricing or None
    output_dir: Path | None = None
    notes: list[str] = field(default_factory=list)

    def total(self, counter: str) -> int:
        return sum(int(getattr(stage, counter)) for stage in self.stages)

    def cost(self) -> tuple[float, float] | None:
        """(cost with the simulated answers' lengths, ceiling with every answer at ``max_tokens``); None without
        pricing. Answers asked without ``max_tokens`` count at their simulated length in the ceiling too."""
        if self.pricing is None:
            return None
        simulated = ceiling = 0.0
        for stage in self.stages:
            simulated += self.pricing.cost(
                stage.prompt_tokens, stage.completion_tokens, stage.batch_prompt_tokens, stage.batch_completion_tokens
            )
            # At most: a batch stage's answers at max_tokens are batch-priced too.
            share = stage.batch_requests / stage.requests if stage.requests else 0.0
            full = self.pricing.cost(stage.prompt_tokens, stage.completion_ceiling)
            ceiling += full * (1 - share + share * self.pricing.batch_discount)
        return simulated, ceiling

    def format(self) -> str:
        header = f"{'stage':<22}{'records':>16}{'requests':>10}{'prompt tok':>12}{'completion tok (sim / max)':>30}"
        lines = [
            f"dry run of {self.recipe!r} (model {self.model or '-'}) against the loopback simulator:"
            " no endpoint was called",
            header,
        ]
        for number, stage in enumerate(self.stages):
            records = f"{stage.records_in} -> {stage.records_out}"
            lines.append(
                f"{number:02d} {stage.stage:<19}{records:>16}{stage.requests:>10,}{stage.prompt_tokens:>12,}"
                f"{_completion(stage.completion_tokens, stage.completion_ceiling, stage.unlimited_choices):>30}"
            )
        ceiling = sum(stage.completion_ceiling for stage in self.stages)
        completion = _completion(self.total("completion_tokens"), ceiling, self.total("unlimited_choices"))
        lines.append(f"{'total':<38}{self.total('requests'):>10,}{self.total('prompt_tokens'):>12,}{completion:>30}")
        cost = self.cost()
        if cost is None:
            lines.append("cost: no `pricing:` in the recipe (prompt_per_1m, completion_per_1m) to estimate it")
        else:
            currency = self.pricing.currency
            lines.append(
                f"cost estimate: {cost[0]:.4f} {currency} with answers as long as the simulated ones, at most"
                f" {cost[1]:.4f} {currency} with every answer at max_tokens"
                f" ({self.pricing.prompt_per_1m:g}/{self.pricing.completion_per_1m:g} per 1M prompt/completion)"
            )
            batched = self.total("batch_requests")
            if batched:
                lines.append(
                    f"* {batched:,} requests go through the batch API, priced at {self.pricing.batch_discount:g}x"
                    " (pricing.batch_discount)"
                )
        unlimited = self.total("unlimited_choices")
        if unlimited:
            lines.append(
                f"* {unlimited:,} answers were asked without max_tokens: counted at their simulated length in the"
                " ceiling; a real endpoint's own limit applies"
            )
        lines.append(f"{self.records:,} records would come out (with the simulator's answers)")
        lines.extend(self.notes)
        return "\n".join(lines)


def _completion(simulated: int, ceiling: int, unlimited: int) -> str:
    return f"{simulated:,} / {ceiling:,}{'*' if unlimited else ''}" if simulated or ceiling else "-"


def dry_run(
    config: PipelineConfig,
    *,
    seed_file: str | os.PathLike[str] | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> DryRunPlan:
    """Run ``config`` against a FakeLLMServer with the Plausible responder and return the plan.

    The recipe's endpoint, key and rate limits are replaced by the simulator's; its Dask settings are kept,
    except a ``scheduler_address`` (remote workers cannot reach this machine's loopback), which becomes a
    LocalCluster. ``output_dir``: keep the run there (default: a temporary directory, removed afterwards).
    """
    from curator_synth.pipeline.runner import SyntheticDataPipeline

    notes = []
    if config.dask.scheduler_address is not None:
        notes.append(f"(ran on a LocalCluster instead of the scheduler at {config.dask.scheduler_address})")
    with simulator(config) as (simulated, server), tempfile.TemporaryDirectory(prefix="dry-run-") as temp:
        snapshots: list[dict[str, Any]] = [server.stats()]

        def on_progress(name: str, done: int, total: int) -> None:
            if name == "stages":
                snapshots.append(server.stats())
            if progress is not None:
                progress(name, done, total)

        pipeline = SyntheticDataPipeline(None, simulated, progress=on_progress)
        out = Path(output_dir) if output_dir is not None else Path(temp)
        result = pipeline.run(seed_file, output_dir=out)
        records = len(result)
    stages = [
        StagePlan(
            summary["stage"],
            summary["records_in"],
            summary["records_out"],
            **{key: int(after[key]) - int(before[key]) for key in _COUNTERS},
        )
        for summary, before, after in zip(result.stages, snapshots[:-1], snapshots[1:], strict=True)
    ]
    return DryRunPlan(
        recipe=config.name,
        model=config.model,
        stages=stages,
        records=records,
        pricing=_pricing(config),
        output_dir=out if output_dir is not None else None,
        notes=notes,
    )


@contextlib.contextmanager
def simulator(config: PipelineConfig) -> Iterator[tuple[PipelineConfig, Any]]:
    """For the block: a :class:`~curator_synth.testing.FakeLLMServer` answering like the recipe's endpoint would
    (:class:`~curator_synth.testing.Plausible`), and ``config`` pointed at it (no key, no rate limits, no remote
    scheduler, no pre-flight)."""
    from curator_synth.testing import FakeLLMServer, Plausible

    with FakeLLMServer(responder=Plausible()) as server, _environ(_KEY_ENV, "dry-run"):
        yield _simulated(config, server.base_url), server


def _simulated(config: PipelineConfig, base_url: str) -> PipelineConfig:
    """The recipe pointed at the simulator: no key, no rate limits, no remote scheduler."""
    client = config.client or ClientConfig.model_validate({})
    # No pre-flight: it would only check the simulator (which lists none of the recipe's models).
    # The simulator completes a batch at once: poll it often.
    update: dict[str, Any] = {"base_url": base_url, "api_key_env": _KEY_ENV, "rpm": None, "tpm": None, "check": False}
    update["batch_poll_seconds"] = 0.02
    client = client.model_copy(update=update)
    dask = config.dask
    if dask.scheduler_address is not None:
        dask = dask.model_copy(update={"scheduler_address": None, "cluster": "local"})
    # Stage by stage: the requests of each stage are told apart by the server's counts between stages.
    return config.model_copy(update={"client": client, "dask": dask, "streaming": False})


@contextlib.contextmanager
def _environ(name: str, value: str) -> Iterator[None]:
    """``name=value`` in this process's environment (and in the workers it starts) for the block."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def _pricing(config: PipelineConfig) -> Any:
    return config.pricing.pricing() if config.pricing is not None else None
