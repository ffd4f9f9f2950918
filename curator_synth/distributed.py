"""LLM stages over Dask partitions: a cluster-wide request budget, idempotent parts, per-partition journals.

:func:`run_llm_stage` runs a :class:`PartitionTask` (an async ``(frame, client) -> frame``) on every partition
of a dataset and writes partition ``i`` to ``output_dir/part-{i:05d}.parquet``, atomically (temporary file +
``os.replace``). A partition whose part exists is never run again, so a re-run, a Dask retry or a task
recomputed after a worker died redoes nothing and duplicates nothing. Each partition journals its requests
in ``output_dir/journal/part-{i:05d}/`` (one writer per partition), so a partition re-run after a worker loss
answers the requests it had already paid for from its journal.

Budget: the spec's ``max_concurrency``/``rpm``/``tpm`` are for the whole cluster. They are split into
``slots`` equal shares; a running partition holds one lease of a ``distributed.Semaphore(max_leases=slots)``
and builds its client with one share, so however many tasks Dask runs, the cluster stays within the budget.
On Dask's local scheduler the partitions run on ``slots`` threads with the same split (no semaphore needed).

Failures (docs/reliability.md): a partition whose requests failed *transiently* (connection, 5xx, timeouts,
a journal that cannot be written, a spent error budget) is not written — its answers are in its journal — and
the stage raises :class:`~curator_synth.errors.IncompleteStageError` counting them by type once every other
partition has finished, so a re-run sends exactly the failed requests. A fatal failure (journal, error
budget) also stops partitions that have not started yet. Dask never re-runs a partition whose task failed
(the engine has already retried each request); a partition lost with a dead worker is recomputed by Dask.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import pickle
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import dask
import pandas as pd

from curator_synth._files import atomic_write
from curator_synth.clients.base import AsyncLLMClient
from curator_synth.clients.factory import ClientSpec
from curator_synth.clients.stats import ClientStats
from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError, ConnectError, CuratorSynthError, IncompleteStageError

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "PartitionStats",
    "PartitionTask",
    "StageStats",
    "checked_partition",
    "cluster",
    "get_client",
    "run_llm_stage",
    "stage_failure",
    "stage_stats",
]

logger = logging.getLogger("curator_synth.distributed")

MANIFEST = "_stage.json"  # in output_dir: the stage's task name and partition count


# ---------------------------------------------------------------------------------------------- cluster
def get_client(
    scheduler_address: str | None = None,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    processes: bool = True,
    *,
    timeout: float = 10.0,
) -> Client:
    """A ``distributed.Client``: connected to ``scheduler_address`` (e.g. ``"tcp://10.0.0.5:8786"``), else to a
    new ``LocalCluster`` on 127.0.0.1 (worker processes, no dashboard) that closes with the client.

    Raises :class:`~curator_synth.errors.ConnectError` naming the address if no scheduler answers in ``timeout``.
    """
    import distributed

    if scheduler_address is None:
        options = {"n_workers": n_workers, "threads_per_worker": threads_per_worker, "processes": processes}
        return distributed.Client(**options, dashboard_address=None, host="127.0.0.1")
    try:
        return distributed.Client(scheduler_address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConnectError(
            f"cannot connect to the Dask scheduler at {scheduler_address!r} within {timeout} s: {exc}"
        ) from exc


@contextlib.contextmanager
def cluster(
    scheduler_address: str | None = None,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    processes: bool = True,
    *,
    timeout: float = 10.0,
) -> Iterator[Client]:
    """:func:`get_client` as a context manager: the client (and a cluster it started) is closed on exit."""
    client = get_client(scheduler_address, n_workers, threads_per_worker, processes, timeout=timeout)
    try:
        yield client
    finally:
        client.close()


# ---------------------------------------------------------------------------------------------- contract
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
    retries: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    worker: str = ""  # host:pid of the process that wrote the part
    skipped: bool = False

    @classmethod
    def read(cls, output_dir: str | os.PathLike[str], partition: int) -> PartitionStats:
        """The saved stats of a done partition, marked ``skipped`` (zeros if the file is missing)."""
        path = _part_path(output_dir, partition, ".stats.json")
        saved = json.loads(path.read_text()) if path.exists() else {}
        known = {key: value for key, value in saved.items() if key in cls.__dataclass_fields__}
        return replace(cls(**{**known, "partition": partition}), skipped=True)


@dataclass
class StageStats:
    """Totals of a stage over its parts (``stage_stats(output_dir)``), for reports."""

    partitions: int = 0
    skipped: int = 0
    rows_in: int = 0
    rows_out: int = 0
    requests_sent: int = 0
    from_journal: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0  # summed over partitions (not wall time)

    def add(self, part: PartitionStats) -> None:
        self.partitions += 1
        self.skipped += part.skipped
        for name in ("rows_in", "rows_out", "requests_sent", "from_journal", "prompt_tokens", "completion_tokens"):
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


# ---------------------------------------------------------------------------------------------- files
def _part_path(output_dir: str | os.PathLike[str], partition: int, suffix: str = ".parquet") -> Path:
    """Where partition ``partition`` of a stage writing to ``output_dir`` goes (its stats: ``.stats.json``)."""
    return Path(output_dir) / f"part-{partition:05d}{suffix}"


def _check_manifest(output_dir: Path, name: str, npartitions: int) -> None:
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


def stage_stats(output_dir: str | os.PathLike[str]) -> StageStats:
    """The totals of the parts written so far in ``output_dir`` (``skipped`` counts none: nothing was run)."""
    manifest = Path(output_dir) / MANIFEST
    if not manifest.exists():
        raise ConfigError(f"{output_dir} is not the output directory of an LLM stage (no {MANIFEST})")
    total = StageStats()
    for partition in range(json.loads(manifest.read_text())["npartitions"]):
        if _part_path(output_dir, partition).exists():
            total.add(replace(PartitionStats.read(output_dir, partition), skipped=False))
    return total


# ---------------------------------------------------------------------------------------------- worker side
@dataclass(frozen=True)
class _Job:
    partition: int
    task: PartitionTask
    spec: ClientSpec
    output_dir: str
    slots: int
    semaphore: Any = None  # a distributed.Semaphore, or None on the local scheduler
    stop_key: str = ""  # local scheduler: the name of the stage's stop flag (see _STOP_FLAGS)


_Failed = tuple[int, BaseException]  # (partition, error)

#: Local scheduler: a stage's "stop" flag by key, set when a partition fails fatally, checked before one starts.
_STOP_FLAGS: dict[str, threading.Event] = {}


class _NotStarted(CuratorSynthError):
    """A partition was not started because another one failed fatally (journal, error budget)."""

    transient = True


def _run_partition(frame: pd.DataFrame, job: _Job) -> PartitionStats | _Failed:
    """Produce one part; any failure comes back as a value, so the other partitions still finish."""
    try:
        return _produce(frame, job)
    except Exception as error:
        if _fatal(error) and job.stop_key in _STOP_FLAGS:
            _STOP_FLAGS[job.stop_key].set()
        try:  # the error crosses from a worker to the driver: it must survive pickling
            pickle.loads(pickle.dumps(error))
            portable: BaseException = error
        except Exception:
            portable = CuratorSynthError(f"{type(error).__name__}: {error}")
        return (job.partition, portable)


def _produce(frame: pd.DataFrame, job: _Job) -> PartitionStats:
    part = _part_path(job.output_dir, job.partition)
    if part.exists():  # done by an earlier run or an earlier attempt of this task
        return PartitionStats.read(job.output_dir, job.partition)
    with job.semaphore if job.semaphore is not None else contextlib.nullcontext():
        if part.exists():  # finished while this attempt waited for its lease
            return PartitionStats.read(job.output_dir, job.partition)
        flag = _STOP_FLAGS.get(job.stop_key)
        if flag is not None and flag.is_set():
            raise _NotStarted(f"partition {job.partition} not started")
        started = time.perf_counter()
        journal = Path(job.output_dir) / "journal" / f"part-{job.partition:05d}"  # one writer: this task
        client = job.spec.with_cache_dir(journal).build(share=1 / job.slots)
        result = checked_partition(job.task.name, client, lambda: asyncio.run(_call(job.task, frame, client)))
        client_stats = getattr(client, "stats", None)  # requests, journal hits, tokens, retries, failures
        counts = client_stats.as_dict() if isinstance(client_stats, ClientStats) else {}
        counts = {key: value for key, value in counts.items() if key in PartitionStats.__dataclass_fields__}
        worker, seconds = f"{socket.gethostname()}:{os.getpid()}", round(time.perf_counter() - started, 3)
        stats = PartitionStats(job.partition, len(frame), len(result), **counts, seconds=seconds, worker=worker)
        stats_file = _part_path(job.output_dir, job.partition, ".stats.json")
        atomic_write(stats_file, lambda temp: temp.write_text(json.dumps(asdict(stats))))
        atomic_write(part, lambda temp: result.to_parquet(temp, index=False))
    return stats


def checked_partition(name: str, client: Any, call: Callable[[], Any]) -> pd.DataFrame:
    """``call()`` — which runs the partition task ``name`` with ``client`` — and its frame; or
    :class:`IncompleteStageError` if any of the client's requests failed transiently meanwhile (the part must then
    not be written: its answers are journaled and a re-run asks the failed requests again)."""
    stats = getattr(client, "stats", None)
    before = Counter(stats.transient_failures) if isinstance(stats, ClientStats) else Counter()
    try:
        result = call()
    except CuratorSynthError as error:
        if not error.transient:
            raise
        failed = _transient_since(stats, before) or Counter({type(error).__name__: 1})
        detail = str(error) if error.fatal else None
        raise IncompleteStageError(name, dict(failed), detail=detail, stopped=error.fatal) from error
    failed = _transient_since(stats, before)
    if failed:
        raise IncompleteStageError(name, dict(failed))
    if not isinstance(result, pd.DataFrame):
        raise ConfigError(f"task {name!r} returned a {type(result).__name__}, not a pandas DataFrame")
    return result


def _transient_since(stats: Any, before: Counter[str]) -> Counter[str]:
    if not isinstance(stats, ClientStats):
        return Counter()
    return Counter(stats.transient_failures) - before


async def _call(task: PartitionTask, frame: pd.DataFrame, client: AsyncLLMClient) -> Any:
    async with client:  # closes the connections and commits the journal, even on failure
        return await task(frame, client)


# ---------------------------------------------------------------------------------------------- driver side
def run_llm_stage(
    dataset: DocumentDataset,
    task: PartitionTask,
    spec: ClientSpec,
    output_dir: str | os.PathLike[str],
    *,
    slots: int | None = None,
    dask_client: Client | None = None,
    progress: Progress | None = None,
) -> DocumentDataset:
    """Run ``task`` on every partition of ``dataset``; the output dataset, one partition per input partition.

    - ``spec``: the client for the whole stage; its budget is shared by all partitions running at once.
    - ``slots``: how many partitions run at once (default: the cluster's worker threads, or the CPU count on
      the local scheduler, at most the partitions left); capped at ``spec.max_concurrency``.
    - ``dask_client``: the ``distributed.Client`` to run on (default: the one Dask would use, e.g. the one made
      by :func:`get_client`; without one, Dask's local threads).
    - ``progress``: called in this thread with the :class:`PartitionStats` of every partition as it finishes
      (done ones from an earlier run first, ``skipped=True``).

    If partitions fail, the others still finish (and are kept) before an error is raised; a re-run then redoes
    only the failed partitions, their answered requests from their journals. Transient failures raise
    :class:`~curator_synth.errors.IncompleteStageError` (all partitions' counts); any other failure raises the
    first partition's error. :func:`stage_stats` gives the stage's totals.
    """
    if not isinstance(task, PartitionTask) or not isinstance(task.name, str) or not task.name:
        raise ConfigError("task must be a PartitionTask: a non-empty .name and async __call__(frame, client)")
    if not isinstance(spec, ClientSpec):
        raise ConfigError(f"spec must be a ClientSpec, got {type(spec).__name__}")
    if slots is not None and (isinstance(slots, bool) or not isinstance(slots, int) or slots < 1):
        raise ConfigError(f"slots must be an int >= 1 or None, got {slots!r}")
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    npartitions = dataset.npartitions
    _check_manifest(out, task.name, npartitions)
    pending = [i for i in range(npartitions) if not _part_path(out, i).exists()]
    report = progress or (lambda stats: None)
    for partition in range(npartitions):
        if partition not in pending:
            report(PartitionStats.read(out, partition))
    if pending:
        client = dask_client if dask_client is not None else _active_client()
        threads = sum(client.nthreads().values()) if client is not None else (os.cpu_count() or 1)
        chosen = max(1, min(slots or min(threads, len(pending)), spec.max_concurrency))
        prefix = f"llm-stage-{task.name}-{uuid.uuid4().hex[:8]}"
        jobs = [_Job(i, task, spec, str(out), chosen, stop_key=prefix) for i in pending]
        parts = dataset.df.to_delayed()
        if client is None:
            failures = _run_local(parts, jobs, prefix, report)
        else:
            failures = _run_distributed(client, parts, jobs, prefix, report)
        if failures:
            raise stage_failure(task.name, failures, out)
    return DocumentDataset.read_parquet([str(_part_path(out, i)) for i in range(npartitions)], files_per_partition=1)


def stage_failure(name: str, failures: Sequence[_Failed], where: Path) -> BaseException:
    """The one error a stage with failed partitions raises: the first non-transient error (a bug, a bad
    config, an API error no re-run fixes), else an :class:`IncompleteStageError` summing the transient counts."""
    for partition, error in failures:
        logger.info("%s: partition %d failed: %s", name, partition, error)
    lasting = [(partition, error) for partition, error in failures if not getattr(error, "transient", False)]
    if lasting:
        first, error = lasting[0]
        if hasattr(error, "add_note"):  # Python >= 3.11
            error.add_note(f"{name}: {len(failures)} partition(s) failed, the first is {first}")
        return error
    counts: Counter[str] = Counter()
    details = []
    not_started = 0
    for _, error in failures:
        if isinstance(error, _NotStarted):
            not_started += 1
            continue
        detail = error.detail if isinstance(error, IncompleteStageError) else str(error)  # e.g. a part not written
        if isinstance(error, IncompleteStageError):
            counts.update(error.failures)
        if detail and detail not in details:
            details.append(detail)
    if not_started:
        details.append(f"{not_started} partition(s) not started")
    stopped = any(_fatal(error) for _, error in failures)
    return IncompleteStageError(
        name, dict(counts), where=str(where), detail="; ".join(details) or None, stopped=stopped
    )


def _active_client() -> Client | None:
    """The distributed client Dask itself would use now (config or default client), or None."""
    if "distributed" not in sys.modules:  # no client can exist
        return None
    from distributed import Client

    scheduler = dask.base.get_scheduler()
    owner = getattr(scheduler, "__self__", scheduler)
    return owner if isinstance(owner, Client) else None


def _delayed(parts: Sequence[Any], job: _Job, prefix: str) -> Any:
    key = f"{prefix}-part-{job.partition:05d}"
    return dask.delayed(_run_partition, pure=False)(parts[job.partition], job, dask_key_name=key)


def _run_local(parts: Sequence[Any], jobs: list[_Job], prefix: str, report: Progress) -> list[_Failed]:
    """On ``slots`` local threads; errors come back as values, so one failure does not stop the others."""
    from dask.callbacks import Callback

    tasks = [_delayed(parts, job, prefix) for job in jobs]
    keys = {task.key for task in tasks}

    def finished(key: Any, result: Any, *_: Any) -> None:  # called in this thread
        if key in keys and isinstance(result, PartitionStats):
            report(result)

    _STOP_FLAGS[prefix] = threading.Event()
    try:
        with Callback(posttask=finished):
            results = dask.compute(*tasks, scheduler="threads", num_workers=jobs[0].slots)
    finally:
        _STOP_FLAGS.pop(prefix, None)
    return [result for result in results if isinstance(result, tuple)]


def _run_distributed(
    client: Client, parts: Sequence[Any], jobs: list[_Job], prefix: str, report: Progress
) -> list[_Failed]:
    """On the cluster, each running partition holding one lease of the stage's semaphore. A fatal failure
    (journal, error budget) cancels the partitions that have not finished."""
    import distributed

    slots = jobs[0].slots
    semaphore = distributed.Semaphore(max_leases=slots, name=prefix, scheduler_rpc=client.scheduler, loop=client.loop)
    futures = client.compute([_delayed(parts, replace(job, semaphore=semaphore), prefix) for job in jobs])
    partition_of = {future.key: job.partition for future, job in zip(futures, jobs, strict=True)}
    failures: list[_Failed] = []
    try:
        for future in distributed.as_completed(futures):
            partition = partition_of[future.key]
            if future.status == "cancelled":
                failures.append((partition, _NotStarted(f"partition {partition} not started")))
                continue
            if future.status == "error":  # e.g. the worker died too often (KilledWorker)
                failures.append((partition, future.exception()))
                continue
            result = future.result()
            if isinstance(result, tuple):
                failures.append(result)
                if _fatal(result[1]):
                    client.cancel([f for f in futures if not f.done()])
            else:
                report(result)
    except BaseException:
        client.cancel(futures)
        raise
    finally:
        semaphore.close()
    return sorted(failures, key=lambda failed: failed[0])


def _fatal(error: BaseException) -> bool:
    """A failure after which the other partitions should not start (the journal, the error budget)."""
    return bool(getattr(error, "fatal", False)) or (isinstance(error, IncompleteStageError) and error.stopped)
