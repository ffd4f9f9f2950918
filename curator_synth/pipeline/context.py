"""What a running stage can reach: the recipe, its directories, the client, the Dask client, the seeds."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from curator_synth.errors import ConfigError, IncompleteStageError

if TYPE_CHECKING:
    from curator_synth.clients.base import AsyncLLMClient
    from curator_synth.clients.defaults import RequestDefaults
    from curator_synth.clients.factory import ClientSpec
    from curator_synth.dataset import DocumentDataset
    from curator_synth.embeddings import Embedder
    from curator_synth.pipeline.progress import RunStatus

__all__ = ["Recipe", "RunContext", "read_seed_texts", "usage_of"]


class Recipe(Protocol):
    """What the stages read of the recipe (:class:`~curator_synth.pipeline.config.PipelineConfig` is one; the
    stages, below the recipe, see it through this view)."""

    @property
    def model(self) -> str | None: ...
    @property
    def seeds(self) -> str | None: ...
    @property
    def seed_field(self) -> str: ...
    @property
    def seed(self) -> int: ...
    @property
    def invalid_finish_reasons(self) -> list[str]: ...
    @property
    def streaming(self) -> bool | None: ...
    def resolve(self, path: str | os.PathLike[str]) -> Path: ...
    def embedder(self) -> Embedder: ...


@dataclass
class RunContext:
    """Shared by the stages of one run. ``stage_dir`` is the running stage's own directory (set by the runner).

    LLM work goes through :meth:`map_llm` (partitions on Dask, each journaled and written once) or, for
    inherently sequential generators (Self-Instruct's growing pool), through :meth:`llm_client` on the driver.
    """

    config: Recipe
    output_dir: Path
    client_spec: ClientSpec | None = None
    client: AsyncLLMClient | None = None
    dask_client: Any = None
    partitions: int = 4
    progress: Callable[[str, int, int], None] | None = None
    stage_dir: Path = field(default_factory=Path)
    #: Token usage per LLM stage (``requests``, ``prompt_tokens``, ``completion_tokens``, ``from_journal``).
    usage: dict[str, dict[str, int]] = field(default_factory=dict)
    #: The running LLM stage's request defaults (finish-reason policy, seed salt), set by the runner.
    request_defaults: RequestDefaults | None = None
    #: Whether the endpoint's pre-flight ran (:func:`curator_synth.pipeline.checks.check_endpoint`).
    checked: bool = False
    #: The run's progress by stage (:class:`~curator_synth.pipeline.progress.RunStatus`), and the running stage.
    status: RunStatus | None = None
    stage_number: int = 0
    _seeds: list[str] | None = None
    _driver_client: AsyncLLMClient | None = None

    @property
    def model(self) -> str:
        if not self.config.model:
            raise ConfigError("this recipe has stages that call a model: set `model:` in the recipe")
        return self.config.model

    @property
    def journal_dir(self) -> Path:
        return self.output_dir / "journal"

    def dataset(self, frame: pd.DataFrame) -> DocumentDataset:
        from curator_synth.dataset import DocumentDataset

        return DocumentDataset.from_pandas(
            frame.reset_index(drop=True), npartitions=max(1, min(self.partitions, len(frame)))
        )

    def seeds(self) -> list[str]:
        """The recipe's seed texts (``seeds:`` file, field ``seed_field``), read once."""
        if self._seeds is None:
            if not self.config.seeds:
                raise ConfigError("this recipe needs seeds: set `seeds:` (a .jsonl file) in the recipe")
            path = self.config.resolve(self.config.seeds)
            self._seeds = read_seed_texts(path, self.config.seed_field)
        return self._seeds

    def llm_client(self) -> AsyncLLMClient:
        """The driver's client: the one given to the pipeline, else built from the recipe (journal in the run)."""
        if self.client is not None:
            return self.client
        if self._driver_client is None:
            if self.client_spec is None:
                raise ConfigError("this recipe has stages that call a model: give a client or a `client:` section")
            self._driver_client = self.client_spec.with_cache_dir(self.journal_dir).build()
        return self._driver_client

    def endpoint(self) -> str | None:
        """The endpoint LLM stages send to (no credentials): part of their resume fingerprint, so a stage run
        against one server is never taken as done for another."""
        from curator_synth.clients.engine import endpoint_id

        if self.client is not None:
            base_url = getattr(self.client, "base_url", None)
            return endpoint_id(base_url) if isinstance(base_url, str) else type(self.client).__name__
        return self.client_spec.endpoint if self.client_spec is not None else None

    def key_variables(self) -> tuple[str, ...] | None:
        """The environment variables the recipe's clients read their key from (None with a client object)."""
        return self.client_spec.key_env_vars if self.client is None and self.client_spec is not None else None

    def driver_client(self) -> AsyncLLMClient | None:
        """The client used in this process, if one exists yet (given, or built for a driver-side stage)."""
        return self.client or self._driver_client

    def map_llm(self, data: DocumentDataset, task: Any) -> tuple[DocumentDataset, dict[str, Any]]:
        """Run ``task`` (a picklable ``PartitionTask``) over every partition, each written once to
        ``<stage_dir>/parts``: on Dask with the recipe's client spec (a share of the budget per running
        partition, per-partition journals), or in this process with a client object. A re-run keeps finished
        partitions. Returns the new dataset and the stage's usage (requests, tokens, journal hits)."""
        from curator_synth.distributed import run_llm_stage, stage_stats

        parts = self.stage_dir / "parts"
        if self.client is not None:
            return self._map_in_process(data, task, parts), {}
        if self.client_spec is None:
            raise ConfigError("this recipe has stages that call a model: give a client or a `client:` section")
        done = 0

        def progress(stats: Any) -> None:
            nonlocal done
            done += 1
            self._progress(done, data.npartitions, stats)

        result = run_llm_stage(
            data, task, self.client_spec, parts, dask_client=self.dask_client, progress=progress,
            defaults=self.request_defaults,
        )  # fmt: skip
        return result, usage_of(stage_stats(parts))

    def _map_in_process(self, data: DocumentDataset, task: Any, parts: Path) -> DocumentDataset:
        """The same contract with a client object that cannot travel to workers (e.g. an in-process model):
        partitions one after the other; one that failed transiently is not written (the others are), and the
        stage then raises as on Dask; a fatal failure (journal, error budget) stops at once."""
        import functools

        from curator_synth._files import atomic_write
        from curator_synth.dataset import DocumentDataset
        from curator_synth.distributed import checked_partition, stage_failure

        parts.mkdir(parents=True, exist_ok=True)
        client = self.client
        assert client is not None
        files = []
        failures: list[tuple[int, BaseException]] = []
        for number, partition in enumerate(data.df.to_delayed()):
            target = parts / f"part-{number:05d}.parquet"
            if not target.exists():
                call = functools.partial(_run_task, task, partition, client)
                try:
                    frame = checked_partition(task.name, client, call)
                except IncompleteStageError as error:
                    failures.append((number, error))
                    if error.stopped:
                        break
                    continue
                frame = frame.reset_index(drop=True)
                atomic_write(target, functools.partial(frame.to_parquet, index=False))
            files.append(str(target))
            self._progress(number + 1, data.npartitions)
        if failures:
            raise stage_failure(task.name, failures, parts)
        return DocumentDataset.read_parquet(files, files_per_partition=1)

    def driver_usage(self) -> dict[str, int]:
        """The request counters of the client used in this process (the one given, or the driver's built one);
        the runner charges their growth during a stage to that stage."""
        client = self.client or self._driver_client
        return usage_of(client.stats if client is not None else None)

    def _progress(self, done: int, total: int, stats: Any = None) -> None:
        """A partition finished (``stats``: its :class:`~curator_synth.distributed.PartitionStats`, if known)."""
        if self.status is not None:
            self.status.partition_done(self.stage_number, done, total, stats)
        if self.progress is not None:
            self.progress(self.stage_dir.name, done, total)

    async def aclose(self) -> None:
        if self._driver_client is not None:
            await self._driver_client.aclose()
            self._driver_client = None


def _run_task(task: Any, partition: Any, client: Any) -> Any:
    from curator_synth.clients.sync import run_sync

    return run_sync(task(partition.compute(), client))


def usage_of(stats: Any) -> dict[str, int]:
    """``requests``, ``prompt_tokens``, ``completion_tokens``, ``from_journal`` of a ClientStats or a stage's
    PartitionStats totals, and the batch-priced part of the tokens (when there is one); {} for None."""
    if stats is None:
        return {}
    usage = {
        "requests": int(stats.requests_sent),
        "prompt_tokens": int(stats.prompt_tokens),
        "completion_tokens": int(stats.completion_tokens),
        "from_journal": int(stats.from_journal),
    }
    if stats.batch_prompt_tokens or stats.batch_completion_tokens:
        usage.update(
            batch_prompt_tokens=int(stats.batch_prompt_tokens),
            batch_completion_tokens=int(stats.batch_completion_tokens),
        )
    return usage


def read_seed_texts(path: Path, field: str) -> list[str]:
    """The ``field`` of every line of a JSON Lines file (or every line of a .txt file); errors name file and line."""
    from curator_synth._files import jsonl_objects
    from curator_synth.errors import DataFormatError

    texts: list[str] = []
    try:
        if path.suffix == ".txt":
            return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for number, record in jsonl_objects(path):
            value = record.get(field)
            if not isinstance(value, str):
                raise DataFormatError(str(path), number, f"expected an object with a string {field!r}")
            texts.append(value)
    except OSError as error:
        raise ConfigError(f"cannot read seeds {path}: {error.strerror or error}") from error
    return texts
