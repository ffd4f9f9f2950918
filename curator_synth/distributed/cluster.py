"""Where LLM stages run: a ``distributed.Client`` of a running cluster, or of a new ``LocalCluster``."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import dask

from curator_synth.errors import ConnectError

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["active_client", "cluster", "get_client", "run_cluster"]


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


def active_client() -> Client | None:
    """The distributed client Dask itself would use now (config or default client), or None."""
    if "distributed" not in sys.modules:  # no client can exist
        return None
    from distributed import Client

    scheduler = dask.base.get_scheduler()
    owner = getattr(scheduler, "__self__", scheduler)
    return owner if isinstance(owner, Client) else None


@contextlib.contextmanager
def run_cluster(settings: Any, needed: bool) -> Iterator[Any]:
    """A run's distributed client for its LLM stages (``settings``: a recipe's ``dask:`` section): the configured
    scheduler, or a LocalCluster when asked for (``cluster: local``); None (Dask's local threads in this
    process) otherwise, or when nothing needs one."""
    if not needed or (settings.scheduler_address is None and settings.cluster != "local"):
        yield None
        return
    with cluster(
        settings.scheduler_address, n_workers=settings.n_workers, threads_per_worker=settings.threads_per_worker
    ) as client:
        yield client
