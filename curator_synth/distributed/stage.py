"""Running a :class:`~curator_synth.distributed.parts.PartitionTask` over every partition of a dataset: the
shared budget, the jobs on the workers, and what a stage with failed partitions raises (see the package)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import pickle
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dask
import pandas as pd

from curator_synth._files import atomic_write
from curator_synth.clients.base import AsyncLLMClient
from curator_synth.clients.defaults import RequestDefaults, request_defaults
from curator_synth.clients.factory import ClientSpec
from curator_synth.clients.stats import ClientStats
from curator_synth.dataset import DocumentDataset
from curator_synth.distributed.cluster import active_client
from curator_synth.distributed.parts import (
    PartitionStats,
    PartitionTask,
    Progress,
    check_manifest,
    part_path,
)
from curator_synth.errors import ConfigError, CuratorSynthError, IncompleteStageError

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["checked_partition", "run_llm_stage", "stage_failure"]

logger = logging.getLogger("curator_synth.distributed")


@dataclass(frozen=True)
class _Job:
    partition: int
    task: PartitionTask
    spec: ClientSpec
    output_dir: str
    slots: int
    semaphore: Any = None  # a distributed.Semaphore, or None on the local scheduler
    defaults: RequestDefaults | None = None  # the stage's request defaults, set on the worker
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
    part = part_path(job.output_dir, job.partition)
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
        call = _call(job.task, frame, client, job.defaults)
        result = checked_partition(job.task.name, client, lambda: asyncio.run(call))
        client_stats = client.stats  # requests, journal hits, tokens, retries, failures
        counts = client_stats.as_dict() if client_stats is not None else {}
        counts = {key: value for key, value in counts.items() if key in PartitionStats.__dataclass_fields__}
        worker, seconds = f"{socket.gethostname()}:{os.getpid()}", round(time.perf_counter() - started, 3)
        stats = PartitionStats(job.partition, len(frame), len(result), **counts, seconds=seconds, worker=worker)
        stats_file = part_path(job.output_dir, job.partition, ".stats.json")
        atomic_write(stats_file, lambda temp: temp.write_text(json.dumps(asdict(stats))))
        atomic_write(part, lambda temp: result.to_parquet(temp, index=False))
    return stats


def checked_partition(name: str, client: Any, call: Callable[[], Any]) -> pd.DataFrame:
    """``call()`` — which runs the partition task ``name`` with ``client`` — and its frame; or
    :class:`IncompleteStageError` if any of the client's requests failed transiently meanwhile (the part must then
    not be written: its answers are journaled and a re-run asks the failed requests again)."""
    stats = client.stats
    before = Counter(stats.transient_failures) if stats is not None else Counter()
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


async def _call(
    task: PartitionTask, frame: pd.DataFrame, client: AsyncLLMClient, defaults: RequestDefaults | None = None
) -> Any:
    async with client:  # closes the connections and commits the journal, even on failure
        with request_defaults(defaults):
            return await task(frame, client)


def run_llm_stage(
    dataset: DocumentDataset,
    task: PartitionTask,
    spec: ClientSpec,
    output_dir: str | os.PathLike[str],
    *,
    slots: int | None = None,
    dask_client: Client | None = None,
    progress: Progress | None = None,
    defaults: RequestDefaults | None = None,
) -> DocumentDataset:
    """Run ``task`` on every partition of ``dataset``; the output dataset, one partition per input partition.

    - ``spec``: the client for the whole stage; its budget is shared by all partitions running at once.
    - ``slots``: how many partitions run at once (default: the cluster's worker threads, or the CPU count on
      the local scheduler, at most the partitions left); capped at ``spec.max_concurrency``.
    - ``dask_client``: the ``distributed.Client`` to run on (default: the one Dask would use, e.g. the one made
      by :func:`get_client`; without one, Dask's local threads).
    - ``progress``: called in this thread with the :class:`PartitionStats` of every partition as it finishes
      (done ones from an earlier run first, ``skipped=True``).
    - ``defaults``: request defaults (finish-reason policy, seed salt) for every request of the stage, set on
      the workers (:mod:`curator_synth.clients.defaults`).

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
    check_manifest(out, task.name, npartitions)
    pending = [i for i in range(npartitions) if not part_path(out, i).exists()]
    report = progress or (lambda stats: None)
    for partition in range(npartitions):
        if partition not in pending:
            report(PartitionStats.read(out, partition))
    if pending:
        client = dask_client if dask_client is not None else active_client()
        threads = sum(client.nthreads().values()) if client is not None else (os.cpu_count() or 1)
        chosen = max(1, min(slots or min(threads, len(pending)), spec.max_concurrency))
        prefix = f"llm-stage-{task.name}-{uuid.uuid4().hex[:8]}"
        jobs = [_Job(i, task, spec, str(out), chosen, stop_key=prefix, defaults=defaults) for i in pending]
        parts = dataset.df.to_delayed()
        if client is None:
            failures = _run_local(parts, jobs, prefix, report)
        else:
            failures = _run_distributed(client, parts, jobs, prefix, report)
        if failures:
            raise stage_failure(task.name, failures, out)
    return DocumentDataset.read_parquet([str(part_path(out, i)) for i in range(npartitions)], files_per_partition=1)


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
