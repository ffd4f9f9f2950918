"""LLM stages over Dask partitions (``curator_synth.distributed``) against a real FakeLLMServer and a real
process-based ``LocalCluster``: the same output as the local scheduler, idempotent re-runs that cost nothing,
lost parts answered from their journal, the cluster-wide concurrency budget, the key never pickled."""

from __future__ import annotations

import asyncio
import os
import pickle
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask
import pandas as pd
import pytest

from curator_synth.clients.base import AsyncLLMClient
from curator_synth.clients.factory import ClientSpec
from curator_synth.dataset import DocumentDataset
from curator_synth.distributed import PartitionStats, cluster, get_client, run_llm_stage, stage_stats
from curator_synth.errors import AuthenticationError, ConfigError, ConnectError
from curator_synth.testing import Echo, FakeLLMServer, count_tokens

distributed = pytest.importorskip("distributed")

SECRET = "sk-distributed-SECRET-4242"
KEY_ENV = "CURATOR_SYNTH_TEST_DISTRIBUTED_KEY"
WRONG_KEY_ENV = "CURATOR_SYNTH_TEST_DISTRIBUTED_WRONG_KEY"
PREFIX = "echo: "
LATENCY = 0.05
ROWS, PARTITIONS = 120, 6


@dataclass(frozen=True)
class AskPerRow:
    """One request per row (all of a partition at once; the client's window bounds what is in flight)."""

    name: str = "ask-per-row"
    model: str = "fake-model"

    async def __call__(self, frame: pd.DataFrame, client: AsyncLLMClient) -> pd.DataFrame:
        async def ask(text: str) -> str:
            return (await client.query_model(messages=[{"role": "user", "content": text}], model=self.model))[0]

        answers = await asyncio.gather(*(ask(text) for text in frame["text"]))
        return frame.assign(answer=list(answers))


@dataclass(frozen=True)
class KeepOdd:
    """Asks per row, keeps odd ids only: partitions shrink, and one of them becomes empty."""

    name: str = "keep-odd"

    async def __call__(self, frame: pd.DataFrame, client: AsyncLLMClient) -> pd.DataFrame:
        answered = await AskPerRow()(frame, client)
        return answered[answered["id"] % 2 == 1]


@dataclass(frozen=True)
class FailOnce:
    """Asks per row, but fails the partition holding id 5 while the file ``trap`` exists."""

    trap: str
    name: str = "fail-once"

    async def __call__(self, frame: pd.DataFrame, client: AsyncLLMClient) -> pd.DataFrame:
        answered = await AskPerRow()(frame, client)
        if 5 in set(frame["id"]) and await asyncio.to_thread(os.path.exists, self.trap):
            raise ValueError("row 5 is cursed")
        return answered


def _dataset(rows: int = ROWS, npartitions: int = PARTITIONS) -> DocumentDataset:
    texts = [f"row {i}: say something about topic {i % 7}" for i in range(rows)]
    return DocumentDataset.from_pandas(pd.DataFrame({"id": range(rows), "text": texts}), npartitions=npartitions)


@pytest.fixture(scope="module")
def key_in_environment() -> Iterator[None]:
    """The key lives only in the environment, which the cluster's worker processes inherit."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_ENV, SECRET)
        patch.setenv(WRONG_KEY_ENV, "sk-not-the-right-one")
        yield


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(Echo(prefix=PREFIX), latency=LATENCY, api_key=SECRET) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(key_in_environment: None) -> Iterator[Any]:
    with cluster(n_workers=2, threads_per_worker=1) as active:
        active.wait_for_workers(2)
        yield active


@pytest.fixture
def spec(server: FakeLLMServer) -> ClientSpec:
    server.reset_stats()
    return ClientSpec(base_url=server.base_url, api_key_env=KEY_ENV, max_concurrency=8, max_retries=1)


def _parts(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.glob("part-*.parquet"))


def _check_answers(frame: pd.DataFrame, rows: int = ROWS) -> None:
    assert len(frame) == rows
    assert sorted(frame["id"]) == list(range(rows)), "every input row exactly once"
    assert (frame["answer"] == PREFIX + frame["text"]).all()


# ------------------------------------------------------------------------------------------ same results
def test_same_output_on_the_local_scheduler_and_on_the_cluster(
    spec: ClientSpec, server: FakeLLMServer, client: Any, tmp_path: Path
) -> None:
    with dask.config.set(scheduler="threads"):  # the module's cluster client is the default one otherwise
        local = run_llm_stage(_dataset(), AskPerRow(), spec, tmp_path / "local")
    assert server.stats()["responses_ok"] == ROWS
    seen: list[PartitionStats] = []
    on_cluster = run_llm_stage(_dataset(), AskPerRow(), spec, tmp_path / "cluster", progress=seen.append)

    assert on_cluster.npartitions == local.npartitions == PARTITIONS
    local_frame, cluster_frame = local.to_pandas(), on_cluster.to_pandas()
    pd.testing.assert_frame_equal(local_frame, cluster_frame)
    _check_answers(cluster_frame)
    assert list(cluster_frame["id"]) == list(range(ROWS)), "parts are read back in partition order"
    assert _parts(tmp_path / "cluster") == [f"part-{i:05d}.parquet" for i in range(PARTITIONS)]
    assert server.stats()["responses_ok"] == 2 * ROWS  # two output directories, two journals: both paid

    assert sorted(stats.partition for stats in seen) == list(range(PARTITIONS))
    assert not any(stats.skipped for stats in seen)
    workers = {stats.worker.rsplit(":", 1)[1] for stats in seen}
    assert str(os.getpid()) not in workers, "the partitions ran in the worker processes"
    totals = stage_stats(tmp_path / "cluster")
    assert (totals.partitions, totals.rows_in, totals.rows_out) == (PARTITIONS, ROWS, ROWS)
    assert (totals.requests_sent, totals.from_journal, totals.skipped) == (ROWS, 0, 0)
    texts = list(cluster_frame["text"])
    assert totals.prompt_tokens == sum(count_tokens(text) for text in texts)
    assert totals.completion_tokens == sum(count_tokens(PREFIX + text) for text in texts)
    assert stage_stats(tmp_path / "local").as_dict() | {"seconds": 0} == totals.as_dict() | {"seconds": 0}


def test_tasks_may_drop_rows_and_leave_empty_parts(spec: ClientSpec, tmp_path: Path) -> None:
    ids = [0, 2, 4, 1, 3, 5, 6, 7, 8]  # partition 0 holds even ids only: its output part is empty
    frame = pd.DataFrame({"id": ids, "text": [f"row {i}" for i in ids]})
    data = DocumentDataset.from_pandas(frame, npartitions=3)
    with dask.config.set(scheduler="threads"):
        out = run_llm_stage(data, KeepOdd(), spec, tmp_path, slots=1)
        result = out.to_pandas()
    assert out.npartitions == 3
    assert list(result["id"]) == [1, 3, 5, 7]
    assert (result["answer"] == PREFIX + result["text"]).all()
    assert stage_stats(tmp_path).rows_out == 4


# ------------------------------------------------------------------------------------------ idempotency
def test_a_rerun_costs_nothing_and_a_lost_part_comes_from_its_journal(
    spec: ClientSpec, server: FakeLLMServer, client: Any, tmp_path: Path
) -> None:
    out = tmp_path / "stage"
    first = run_llm_stage(_dataset(), AskPerRow(), spec, out, dask_client=client).to_pandas()
    paid = server.stats()["requests"]
    assert paid == ROWS

    seen: list[PartitionStats] = []
    again = run_llm_stage(_dataset(), AskPerRow(), spec, out, dask_client=client, progress=seen.append)
    pd.testing.assert_frame_equal(again.to_pandas(), first)
    assert server.stats()["requests"] == paid, "a re-run sent requests"
    assert len(seen) == PARTITIONS
    assert all(stats.skipped for stats in seen)
    assert all(stats.requests_sent == ROWS // PARTITIONS for stats in seen), "the part's own cost is kept"

    (out / "part-00002.parquet").unlink()  # a lost output: redone, and answered from the partition's journal
    seen.clear()
    redone = run_llm_stage(_dataset(), AskPerRow(), spec, out, dask_client=client, progress=seen.append)
    pd.testing.assert_frame_equal(redone.to_pandas(), first)
    assert server.stats()["requests"] == paid, "the journaled requests were paid for again"
    (fresh,) = [stats for stats in seen if not stats.skipped]
    assert (fresh.partition, fresh.requests_sent, fresh.from_journal) == (2, 0, ROWS // PARTITIONS)
    assert stage_stats(out).from_journal == ROWS // PARTITIONS


def test_an_output_dir_belongs_to_one_stage(spec: ClientSpec, tmp_path: Path) -> None:
    with dask.config.set(scheduler="threads"):
        run_llm_stage(_dataset(8, 2), AskPerRow(), spec, tmp_path)
        with pytest.raises(ConfigError, match="holds stage 'ask-per-row' over 2 partitions"):
            run_llm_stage(_dataset(8, 2), KeepOdd(), spec, tmp_path)
        with pytest.raises(ConfigError, match="over 2 partitions, not 'ask-per-row' over 4"):
            run_llm_stage(_dataset(8, 4), AskPerRow(), spec, tmp_path)
        with pytest.raises(ConfigError, match="PartitionTask"):
            run_llm_stage(_dataset(8, 2), lambda frame, client: frame, spec, tmp_path / "x")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ the budget
@pytest.mark.parametrize(("max_concurrency", "slots"), [(4, 1), (8, None)])
def test_the_cluster_never_exceeds_the_concurrency_budget(
    server: FakeLLMServer, client: Any, tmp_path: Path, max_concurrency: int, slots: int | None
) -> None:
    """Two worker threads run partitions. With ``slots=1`` the semaphore lets one run at a time, with its whole
    budget (4); by default each of the two holds half (4 of 8). Without the semaphore or the split, 8 and 16."""
    spec = ClientSpec(base_url=server.base_url, api_key_env=KEY_ENV, max_concurrency=max_concurrency)
    server.reset_stats()
    seen: list[PartitionStats] = []
    result = run_llm_stage(_dataset(), AskPerRow(), spec, tmp_path, slots=slots, progress=seen.append)
    _check_answers(result.to_pandas())
    peak = server.stats()["max_in_flight"]
    assert peak <= max_concurrency, f"{peak} requests in flight, over the budget of {max_concurrency}"
    if slots == 1:
        assert peak == max_concurrency, "one partition at a time gets the whole budget"
    assert len({stats.worker for stats in seen}) == 2, "both worker threads ran partitions"


# ------------------------------------------------------------------------------------------ secrets, errors
def test_the_key_is_read_on_the_workers_and_never_pickled(spec: ClientSpec, client: Any) -> None:
    blob = pickle.dumps(spec)
    assert SECRET.encode() not in blob
    assert SECRET not in repr(spec)
    assert pickle.loads(blob) == spec

    def key_seen_by_worker(spec: ClientSpec) -> bool:
        built = spec.build()
        return built.connection.api_key.reveal() == SECRET  # type: ignore[attr-defined]

    assert all(client.run(key_seen_by_worker, spec).values())


def test_a_key_variable_missing_on_the_workers_fails_the_stage_clearly(
    server: FakeLLMServer, client: Any, tmp_path: Path
) -> None:
    spec = ClientSpec(base_url=server.base_url, api_key_env="CURATOR_SYNTH_TEST_UNSET_KEY")
    with pytest.raises(ConfigError, match=r"CURATOR_SYNTH_TEST_UNSET_KEY .* is not set"):
        run_llm_stage(_dataset(8, 2), AskPerRow(), spec, tmp_path)
    assert _parts(tmp_path) == []


def test_an_api_error_crosses_from_the_workers_without_the_key(
    server: FakeLLMServer, client: Any, tmp_path: Path
) -> None:
    spec = ClientSpec(base_url=server.base_url, api_key_env=WRONG_KEY_ENV)  # the server answers 401
    with pytest.raises(AuthenticationError, match=r"HTTP 401") as caught:  # its own class, across processes
        run_llm_stage(_dataset(8, 2), AskPerRow(), spec, tmp_path)
    assert caught.value.status_code == 401
    assert "sk-not-the-right-one" not in str(caught.value)
    assert _parts(tmp_path) == []


@pytest.mark.parametrize("where", ["local", "cluster"])
def test_a_failed_partition_does_not_stop_the_others_and_is_redone_alone(
    spec: ClientSpec, server: FakeLLMServer, client: Any, tmp_path: Path, where: str
) -> None:
    trap = tmp_path / "trap"
    trap.touch()
    scheduler = "threads" if where == "local" else client
    with dask.config.set(scheduler=scheduler), pytest.raises(ValueError, match="row 5 is cursed"):
        run_llm_stage(_dataset(8, 4), FailOnce(str(trap)), spec, tmp_path / "out")
    assert _parts(tmp_path / "out") == ["part-00000.parquet", "part-00001.parquet", "part-00003.parquet"]
    assert server.stats()["requests"] == 8, "the failed partition's answers were paid for"

    trap.unlink()
    seen: list[PartitionStats] = []
    with dask.config.set(scheduler=scheduler):
        out = run_llm_stage(_dataset(8, 4), FailOnce(str(trap)), spec, tmp_path / "out", progress=seen.append)
    _check_answers(out.to_pandas(), rows=8)
    assert [stats.partition for stats in seen if not stats.skipped] == [2]
    assert server.stats()["requests"] == 8, "the redone partition's answers come from its journal"


def test_get_client_names_an_address_nobody_answers() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    with pytest.raises(ConnectError, match=f"Dask scheduler at '{address}'"):
        get_client(address, timeout=1)
