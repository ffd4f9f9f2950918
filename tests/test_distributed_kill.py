"""kill -9 a Dask worker in the middle of an LLM stage (``curator_synth.distributed.run_llm_stage``).

A real ``dask scheduler`` and two ``dask worker --no-nanny`` processes (one thread each) run a stage of 16
partitions x 25 rows against a FakeLLMServer child process. Once a few parts are written and a partition is
under way (some of its answers committed to its journal), the worker running it is killed with SIGKILL. The
stage must finish on the other worker with every input record exactly once in the output, and pay again only
for what the killed partition had not committed to its journal.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from curator_synth.clients.base import AsyncLLMClient
from curator_synth.clients.factory import ClientSpec
from curator_synth.clients.journal import Journal
from curator_synth.dataset import DocumentDataset
from curator_synth.distributed import PartitionStats, get_client, run_llm_stage, stage_stats
from curator_synth.errors import ConfigError
from curator_synth.testing import Echo, FakeLLMServer

distributed = pytest.importorskip("distributed")

PARTITIONS, ROWS_PER_PARTITION = 16, 25
ROWS = PARTITIONS * ROWS_PER_PARTITION
MAX_CONCURRENCY = 16  # cluster-wide; 2 worker threads -> 2 slots of 8 requests in flight each
PER_SLOT = MAX_CONCURRENCY // 2
# Longer than the journal's flush interval (0.05 s): one slot gets at most one answer per flush interval.
LATENCY = 0.1
PREFIX = "echo: "
KILL_AFTER = 6  # parts written before the kill (the survivor then has about 9 partitions left to do alone)
DEADLINE = 45.0  # seconds for the whole scenario (it takes about 10)
TESTS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class AnswerEachRow:
    """One request per row. Workers import this module (``PYTHONPATH`` holds the tests folder)."""

    name: str = "answer-each-row"

    async def __call__(self, frame: pd.DataFrame, client: AsyncLLMClient) -> pd.DataFrame:
        async def ask(text: str) -> str:
            body = _body(text)
            return (await client.query_model(messages=body["messages"], model=body["model"]))[0]

        return frame.assign(answer=list(await asyncio.gather(*(ask(text) for text in frame["text"]))))


def _body(text: str) -> dict[str, Any]:
    """The JSON body sent for a row (what ``FakeLLMServer.hits`` counts)."""
    return {"model": "fake-model", "messages": [{"role": "user", "content": text}]}


def _dataset() -> DocumentDataset:
    texts = [f"record {i}: write one line about subject {i % 11}" for i in range(ROWS)]
    return DocumentDataset.from_pandas(pd.DataFrame({"id": range(ROWS), "text": texts}), npartitions=PARTITIONS)


def _wait(condition: Any, what: str, processes: dict[str, subprocess.Popen[bytes]], deadline: float) -> Any:
    """Poll ``condition()`` until it returns something truthy; fail early if one of our processes died."""
    while not (value := condition()):
        for name, process in processes.items():
            assert process.poll() is None, f"{name} exited with {process.returncode} while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
    return value


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """The processes this test starts, by name; all killed (and reaped) at the end whatever happens."""
    started: dict[str, subprocess.Popen[bytes]] = {}
    try:
        yield started
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
        for process in started.values():
            process.wait(timeout=10)


def _spawn(module: str, args: list[str], log: Path) -> subprocess.Popen[bytes]:
    paths = [str(TESTS_DIR), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", module, *args], stdout=out, stderr=subprocess.STDOUT, env=env)


def _committed_bodies(journal_dir: Path) -> list[bytes]:
    """Request bodies committed to a partition's journal so far (read-only; empty before it exists)."""
    try:
        return [record.request for record in Journal.read(journal_dir)]
    except (ConfigError, sqlite3.Error):  # not created yet, or its schema not written yet
        return []


def _victim(client: Any, out: Path) -> tuple[int, str, list[bytes]] | None:
    """Once KILL_AFTER parts are written: a partition well under way (3 to half of its answers committed, no part
    yet) and the name of the worker running it."""
    if len(list(out.glob("part-*.parquet"))) < KILL_AFTER:
        return None
    for journal in sorted((out / "journal").glob("part-*")):
        partition = int(journal.name.split("-")[1])
        bodies = _committed_bodies(journal)
        if not 3 <= len(bodies) <= ROWS_PER_PARTITION // 2 or (out / f"part-{partition:05d}.parquet").exists():
            continue
        workers = client.scheduler_info()["workers"]
        for address, keys in client.processing().items():
            if any(str(key).endswith(f"-part-{partition:05d}") for key in keys) and address in workers:
                return partition, str(workers[address]["name"]), bodies
    return None


def test_a_worker_killed_mid_stage_loses_nothing_and_repays_only_its_uncommitted_requests(
    tmp_path: Path, processes: dict[str, subprocess.Popen[bytes]]
) -> None:
    deadline = time.monotonic() + DEADLINE
    out = tmp_path / "stage"
    with FakeLLMServer(Echo(prefix=PREFIX), latency=LATENCY, mode="process") as server:
        scheduler_file = tmp_path / "scheduler.json"
        processes["scheduler"] = _spawn(
            "distributed.cli.dask_scheduler",
            ["--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
            tmp_path / "scheduler.log",
        )
        _wait(lambda: scheduler_file.exists() and scheduler_file.stat().st_size, "the scheduler", processes, deadline)
        address = json.loads(scheduler_file.read_text())["address"]
        for name in ("worker-a", "worker-b"):
            processes[name] = _spawn(
                "distributed.cli.dask_worker",
                [address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1", "--name", name],
                tmp_path / f"{name}.log",
            )
        client = get_client(address)
        spec = ClientSpec(base_url=server.base_url, max_concurrency=MAX_CONCURRENCY, max_retries=2)
        seen: list[PartitionStats] = []
        with ThreadPoolExecutor(1) as pool:
            try:  # (closing the client first makes a stage still running in the pool fail fast)
                client.wait_for_workers(2, timeout=max(1.0, deadline - time.monotonic()))
                running = pool.submit(
                    run_llm_stage, _dataset(), AnswerEachRow(), spec, out, dask_client=client, progress=seen.append
                )
                partition, victim, committed = _wait(
                    lambda: _victim(client, out), "a partition under way", processes, deadline
                )
                os.kill(processes[victim].pid, signal.SIGKILL)
                interrupted = not (out / f"part-{partition:05d}.parquet").exists()
                assert processes[victim].wait(timeout=10) == -signal.SIGKILL
                result = running.result(timeout=max(1.0, deadline - time.monotonic())).to_pandas()
            finally:
                client.close()
        assert interrupted, f"partition {partition} was written before the kill"
        survivor = next(name for name in ("worker-a", "worker-b") if name != victim)
        assert processes[survivor].poll() is None
        stats = server.stats()
        committed_hits = [server.hits(json.loads(body)) for body in committed]
        victim_rows = _dataset().df.get_partition(partition).compute()
        victim_hits = [server.hits(_body(text)) for text in victim_rows["text"]]

    # every input record exactly once, answered
    assert len(result) == ROWS
    assert result["id"].is_unique
    assert set(result["id"]) == set(range(ROWS))
    assert (result["answer"] == PREFIX + result["text"]).all()
    assert sorted(path.name for path in out.glob("part-*.parquet")) == [
        f"part-{i:05d}.parquet" for i in range(PARTITIONS)
    ]

    # The killed partition was redone on the survivor, its committed answers taken from its journal.
    redone = next(s for s in seen if s.partition == partition)
    assert redone.worker.rsplit(":", 1)[1] != str(processes[victim].pid)
    assert redone.from_journal >= len(committed), redone
    assert redone.requests_sent + redone.from_journal == ROWS_PER_PARTITION, redone
    assert committed_hits == [1] * len(committed), "a request committed to the journal before the kill was paid again"

    # Paid twice: at most what the killed partition had in flight (<= PER_SLOT) plus the answers it had received
    # but not yet committed (the journal commits every 0.05 s, and with a latency of 0.1 s each of the PER_SLOT
    # concurrent requests delivers at most one answer per commit interval).
    repaid = stats["requests"] - ROWS
    assert 0 <= repaid <= 2 * PER_SLOT, f"{repaid} requests paid twice; bound {2 * PER_SLOT}"
    assert sum(count - 1 for count in victim_hits) == repaid, "a request of another partition was paid twice"
    assert max(victim_hits) <= 2
    assert stats["responses_ok"] == stats["requests"], stats["by_status"]
    total = stage_stats(out)
    assert (total.partitions, total.rows_out) == (PARTITIONS, ROWS)
    print(
        f"\nkilled {victim} during partition {partition} ({len(committed)} answers committed); server requests "
        f"{stats['requests']} for {ROWS} rows ({repaid} paid twice); its redo took {redone.seconds:.2f} s"
    )
