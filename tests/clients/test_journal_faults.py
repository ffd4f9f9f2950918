"""The journal under real faults: a full disk, a damaged file, many processes opening a new directory, answers of
another endpoint, answers that could not be used (issue 13, defects 3, 4, 9 and 15)."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from curator_synth.clients import AsyncOpenAIClient, Journal, QueryRequest, RetryPolicy
from curator_synth.clients.journal import FILENAME
from curator_synth.errors import ConfigError, JournalCorruptError, JournalError, ResponseParseError
from curator_synth.generators.base import BaseGenerator
from curator_synth.testing import Echo, FakeLLMServer, Fixed

FAST = RetryPolicy(max_retries=1, initial_backoff=0.01, max_backoff=0.05)


def _requests(n: int, tag: str = "q") -> list[QueryRequest]:
    return [QueryRequest([{"role": "user", "content": f"{tag} {i}"}], "m") for i in range(n)]


async def _run_all(client: AsyncOpenAIClient, requests: list[QueryRequest]) -> list[Any]:
    return [result async for result in client.query_many(requests, ordered=False)]


# ------------------------------------------------------------------------------------ defect 9: concurrent open
def _open_and_ask(directory: str, base_url: str, worker: int, barrier: Any, out: Any) -> None:
    async def ask() -> int:
        client = AsyncOpenAIClient(base_url=base_url, api_key="k", cache_dir=directory, retry=FAST)
        async with client:
            results = await _run_all(client, _requests(10, f"worker {worker}"))
        return sum(1 for result in results if result.ok)

    barrier.wait()  # every process opens the new directory at the same moment
    try:
        out.put((worker, asyncio.run(ask()), None))
    except Exception as error:
        out.put((worker, 0, repr(error)))


def test_eight_processes_opening_a_new_cache_dir_at_once_all_succeed(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    barrier, out = context.Barrier(8), context.Queue()
    directory = tmp_path / "fresh"
    with FakeLLMServer(Echo(), mode="process") as server:
        workers = [
            context.Process(target=_open_and_ask, args=(str(directory), server.base_url, i, barrier, out))
            for i in range(8)
        ]
        for worker in workers:
            worker.start()
        results = [out.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
    assert [error for _, _, error in results if error] == []
    assert sum(ok for _, ok, _ in results) == 80
    assert len(list(Journal.read(directory))) == 80


# ----------------------------------------------------------------------------- defect 3: endpoints, re-asking
async def test_answers_of_one_endpoint_are_never_replayed_for_another(tmp_path: Path) -> None:
    with FakeLLMServer(Fixed("from A")) as first, FakeLLMServer(Fixed("from B")) as second:
        async with AsyncOpenAIClient(base_url=first.base_url, api_key="k", cache_dir=tmp_path) as client:
            assert await client.query_model(messages=[{"role": "user", "content": "hi"}], model="m") == ["from A"]
        async with AsyncOpenAIClient(base_url=second.base_url, api_key="k", cache_dir=tmp_path) as client:
            assert await client.query_model(messages=[{"role": "user", "content": "hi"}], model="m") == ["from B"]
        async with AsyncOpenAIClient(base_url=first.base_url + "/", api_key="k", cache_dir=tmp_path) as client:
            assert await client.query_model(messages=[{"role": "user", "content": "hi"}], model="m") == ["from A"]
            assert client.stats.requests_sent == 0  # the same endpoint (a trailing slash is no other server)
        assert first.stats()["requests"] == 1
        assert second.stats()["requests"] == 1
        assert {record.endpoint for record in Journal.read(tmp_path)} == {first.base_url, second.base_url}


class _NumberAsker(BaseGenerator):
    """A generator whose items parse the answer as an integer (a stand-in for any parser)."""

    async def numbers(self, prompts: list[str]) -> tuple[list[int], int]:
        async def one(prompt: str) -> int:
            answer = (await self.client.query_model(messages=[{"role": "user", "content": prompt}], model="m"))[0]
            try:
                return int(answer)
            except ValueError:
                raise ResponseParseError(f"not a number: {answer!r}") from None

        result = await self.fan_out(one, prompts)
        return result.items, len(result.failures)


class _FirstGarbage:
    """Answers garbage to each prompt the first time it is asked, then its number."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, request: Any) -> str:
        if request.prompt in self.seen:
            return request.prompt.split()[-1]
        self.seen.add(request.prompt)
        return "no idea"


async def test_an_answer_that_failed_to_parse_is_asked_again_by_the_next_run(tmp_path: Path) -> None:
    prompts = [f"say {i}" for i in range(5)]
    with FakeLLMServer(_FirstGarbage()) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="k", cache_dir=tmp_path) as client:
            items, failed = await _NumberAsker(client).numbers(prompts)
        assert (items, failed) == ([], 5)
        # reask_failed=False: the journaled (unusable) answers are re-parsed only, nothing is sent
        async with AsyncOpenAIClient(
            base_url=server.base_url, api_key="k", cache_dir=tmp_path, reask_failed=False
        ) as client:
            assert await _NumberAsker(client).numbers(prompts) == ([], 5)
            assert client.stats.requests_sent == 0
        # the default: they are asked again, once; the good answers are then replayed for free
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="k", cache_dir=tmp_path) as client:
            assert await _NumberAsker(client).numbers(prompts) == ([0, 1, 2, 3, 4], 0)
            assert client.stats.requests_sent == 5
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="k", cache_dir=tmp_path) as client:
            assert await _NumberAsker(client).numbers(prompts) == ([0, 1, 2, 3, 4], 0)
            assert client.stats.requests_sent == 0
    assert len(list(Journal.read(tmp_path))) == 10  # both raw answers of every prompt are kept


async def test_empty_choices_are_not_journaled_and_a_rerun_asks_again(tmp_path: Path) -> None:
    from curator_synth.testing import Faults

    with FakeLLMServer(Fixed("fine"), faults=Faults(script=["empty_choices"] * 2)) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="k", cache_dir=tmp_path, retry=FAST) as c:
            with pytest.raises(Exception, match="empty 'choices'"):
                await c.query_model(messages=[{"role": "user", "content": "hi"}], model="m")
        assert list(Journal.read(tmp_path)) == []
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="k", cache_dir=tmp_path) as c:
            assert await c.query_model(messages=[{"role": "user", "content": "hi"}], model="m") == ["fine"]


# ------------------------------------------------------------------------------------- defect 15: a damaged file
async def test_a_damaged_journal_is_one_clear_error_naming_the_file(tmp_path: Path) -> None:
    with FakeLLMServer(Echo()) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="k", cache_dir=tmp_path) as client:
            await _run_all(client, _requests(300))  # a few pages of rows
        data = bytearray((tmp_path / FILENAME).read_bytes())
        data[8192:16384] = b"\xff" * 8192  # wipe the second and third pages (the table's b-tree)
        (tmp_path / FILENAME).write_bytes(data)
        (tmp_path / f"{FILENAME}-wal").unlink(missing_ok=True)
        client = AsyncOpenAIClient(base_url=server.base_url, api_key="k", cache_dir=tmp_path)
        with pytest.raises(JournalCorruptError) as caught:
            async with client:
                await client.query_model(messages=[{"role": "user", "content": "q 1"}], model="m")
    assert str(tmp_path / FILENAME) in str(caught.value)
    assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)
    assert not caught.value.transient  # a re-run does not fix a damaged file: the message says what does


# ---------------------------------------------------------------------------------------- defect 4: a full disk
async def test_a_full_disk_stops_the_sending_and_keeps_what_was_paid_for(small_disks: Any) -> None:
    disk = small_disks.make("3m")
    text = "word " * 400  # ~2 KB per answer: the disk fills after a few hundred
    requests = _requests(600)
    with FakeLLMServer(Fixed(text), latency=0.005) as server:
        client = AsyncOpenAIClient(base_url=server.base_url, api_key="k", cache_dir=disk, max_concurrency=16)
        with pytest.raises(JournalError) as caught:
            async with client:
                await _run_all(client, requests)
        answered = server.stats()["responses_ok"]
        kept = len(list(Journal.read(disk)))
        print(f"full disk: sent {client.stats.requests_sent}, answered {answered}, journaled {kept}", file=sys.stderr)
        message = str(caught.value)
        assert "no space left on device" in message
        assert str(disk) in message
        assert answered < 600, "the client kept sending after the disk was full"
        assert answered - kept <= 16, f"{answered - kept} paid answers were thrown away (window 16)"

        small_disks.resize(disk, "16m")  # free space, then re-run: only what the journal lacks is paid for
        server.reset_stats()
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="k", cache_dir=disk) as again:
            results = await _run_all(again, requests)
        assert all(result.ok for result in results)
        assert server.stats()["requests"] == 600 - kept
        assert again.stats.from_journal == kept


def test_a_journal_whose_schema_is_not_written_yet_reads_as_absent_not_damaged(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / FILENAME).execute("PRAGMA journal_mode=WAL").close()  # as a killed creator leaves it
    with pytest.raises(ConfigError, match="its schema is not written"):
        list(Journal.read(tmp_path))
    journal = Journal(tmp_path)  # the next run migrates it
    journal.close()
    assert list(Journal.read(tmp_path)) == []
