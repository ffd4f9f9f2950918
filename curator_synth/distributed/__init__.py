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

from curator_synth.distributed.cluster import cluster, get_client
from curator_synth.distributed.parts import PartitionStats, PartitionTask, StageTotals, stage_stats
from curator_synth.distributed.stage import checked_partition, run_llm_stage, stage_failure

__all__ = [
    "PartitionStats",
    "PartitionTask",
    "StageTotals",
    "checked_partition",
    "cluster",
    "get_client",
    "run_llm_stage",
    "stage_failure",
    "stage_stats",
]
