"""The journal: content addressing, newest-wins, migrations, crash-safe commits, re-runs that cost no HTTP."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from curator_synth.clients import AsyncOpenAIClient, Journal, OpenAIClient, journal_namespace
from curator_synth.clients.journal import FILENAME, MIGRATIONS, request_key
from curator_synth.errors import ConfigError, JournalError, TruncatedResponseError
from curator_synth.testing import Echo, FakeLLMServer, Faults

USER = [{"role": "user", "content": "hello journal"}]


def test_key_is_content_addressed() -> None:
    body = b'{"messages":[],"model":"m"}'
    assert request_key("", "chat/completions", body) == request_key("", "chat/completions", body)
    assert request_key("", "chat/completions", body) != request_key("tmpl@1", "chat/completions", body)
    assert request_key("", "chat/completions", body) != request_key("", "completions", body)
    assert len(request_key("", "p", body)) == 32


def test_record_lookup_newest_wins_and_records(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    key = request_key("ns", "chat/completions", b"{}")
    assert journal.lookup(key) is None
    journal.record(key, "ns", "chat/completions", b"{}", b'{"first": 1}')
    journal.record(key, "ns", "chat/completions", b"{}", b'{"second": 2}')
    journal.flush()
    assert journal.lookup(key) == b'{"second": 2}'
    assert len(journal) == 2
    assert [r.response for r in journal.records("ns")] == [b'{"first": 1}', b'{"second": 2}']
    assert list(journal.records("other")) == []
    assert journal.schema_version() == len(MIGRATIONS)
    journal.close()
    journal.close()  # idempotent
    with pytest.raises(ConfigError, match="closed"):
        journal.record(key, "ns", "p", b"", b"")


def test_committed_rows_survive_reopen(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    key = request_key("", "p", b"x")
    journal.record(key, "", "p", b"x", b"answer")
    journal.close()  # close commits what is queued
    reopened = Journal(tmp_path)
    assert reopened.lookup(key) == b"answer"
    reopened.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    Journal(tmp_path).close()
    with sqlite3.connect(tmp_path / FILENAME) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(ConfigError, match="newer than this curator_synth"):
        Journal(tmp_path)


def test_with_closes_the_journal_and_its_writer_thread(tmp_path: Path) -> None:
    def writers() -> int:
        return sum(thread.name == f"journal-writer:{tmp_path / FILENAME}" for thread in threading.enumerate())

    key = request_key("", "p", b"x")
    with Journal(tmp_path) as journal:
        journal.record(key, "", "p", b"x", b"kept")
        assert writers() == 1
    assert writers() == 0
    with pytest.raises(ConfigError):
        journal.record(key, "", "p", b"x", b"")
    assert [record.response for record in Journal.read(tmp_path)] == [b"kept"]


def test_garbage_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / FILENAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ConfigError, match="not a usable journal"):
        Journal(tmp_path)


def test_open_shares_one_writer_per_directory(tmp_path: Path) -> None:
    first, second = Journal.open(tmp_path), Journal.open(tmp_path / "." / "")
    assert first is second
    first.release()
    key = request_key("", "p", b"x")
    second.record(key, "", "p", b"x", b"still open")
    second.release()  # last user: commits and closes
    with pytest.raises(ConfigError):
        second.record(key, "", "p", b"x", b"")
    with Journal(tmp_path) as reopened:
        assert reopened.lookup(key) == b"still open"


async def test_rerun_is_answered_from_the_journal_with_zero_http(tmp_path: Path) -> None:
    with FakeLLMServer(responder=Echo()) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path) as client:
            first = await client.query_model(messages=USER, model="m", temperature=0.7, seed=3)
        assert server.stats()["requests"] == 1
        async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path) as client:
            again = await client.query_model(messages=USER, model="m", temperature=0.7, seed=3)
            assert client.stats.from_journal == 1
            assert client.stats.requests_sent == 0
            different = await client.query_model(messages=USER, model="m", temperature=0.7, seed=4)
        assert again == first
        assert different == first  # Echo ignores the seed, but the request differs, so it was sent
        assert server.stats()["requests"] == 2


def test_namespace_is_part_of_the_key(tmp_path: Path) -> None:
    with FakeLLMServer(responder=Echo()) as server, OpenAIClient(base_url=server.base_url, cache_dir=tmp_path) as c:
        c.query_model(messages=USER, model="m")
        with journal_namespace("open_qa@2"):
            c.query_model(messages=USER, model="m")
        with journal_namespace("open_qa@2"):
            c.query_model(messages=USER, model="m")
        assert server.stats()["requests"] == 2
        assert c.stats.from_journal == 1


async def test_truncated_answer_is_kept_and_retried_when_asked(tmp_path: Path) -> None:
    with FakeLLMServer(responder=Echo(), faults=Faults(script=["truncate"])) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path, on_truncated="raise") as client:
            with pytest.raises(TruncatedResponseError) as info:
                await client.query_model(messages=USER, model="m")
        assert info.value.raw is not None
        # The paid-for truncated answer is in the journal: a lenient re-run uses it without paying again.
        async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path) as client:
            assert await client.query_model(messages=USER, model="m") == ["hello"]
        assert server.stats()["requests"] == 1
        # A strict re-run that retries truncation asks again, and the whole answer becomes the newest entry.
        async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path, on_truncated="retry") as client:
            assert await client.query_model(messages=USER, model="m") == ["hello journal"]
        async with AsyncOpenAIClient(base_url=server.base_url, cache_dir=tmp_path, on_truncated="retry") as client:
            assert await client.query_model(messages=USER, model="m") == ["hello journal"]
        assert server.stats()["requests"] == 2


def test_bad_cache_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    client = AsyncOpenAIClient(base_url="http://127.0.0.1:9/v1", cache_dir=blocker / "journal")
    with pytest.raises(ConfigError, match="cannot create the journal directory"):
        assert client._engine.journal is not None


def test_a_failed_commit_is_reported_not_swallowed(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    key = request_key("", "p", b"x")
    journal.record(key, "", "p", b"x", b"kept")
    journal.flush()
    # Simulate a disk that stops accepting writes: the table becomes read-only under the writer's feet.
    with sqlite3.connect(tmp_path / FILENAME) as db:
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON responses BEGIN SELECT RAISE(FAIL, 'disk full'); END")
    journal.record(request_key("", "p", b"y"), "", "p", b"y", b"lost")
    with pytest.raises(JournalError, match="disk full"):
        journal.flush(timeout=5)
    with pytest.raises(JournalError):
        journal.record(request_key("", "p", b"z"), "", "p", b"z", b"refused")
    journal.close()
    with Journal(tmp_path) as reopened:
        assert reopened.lookup(key) == b"kept"


def test_wait_for_room_returns_once_the_writer_has_caught_up(tmp_path: Path) -> None:
    journal = Journal(tmp_path, max_backlog=10, flush_interval=0.2)
    for i in range(50):
        journal.record(request_key("", "p", str(i).encode()), "", "p", b"", b"r")
    assert journal.backlog > journal.max_backlog  # the writer is still sleeping on its interval
    journal.wait_for_room(timeout=10)
    assert journal.backlog <= journal.max_backlog // 2
    journal.close()
    assert sum(1 for _ in Journal.read(tmp_path)) == 50


def test_on_commit_runs_after_the_row_is_on_disk_without_waiting_for_a_batch(tmp_path: Path) -> None:
    import threading

    journal = Journal(tmp_path, flush_interval=30.0)  # a batch would gather for 30 s: the callback must not wait
    key = request_key("", "p", b"x")
    seen: list[object] = []
    done = threading.Event()

    def committed(error: BaseException | None) -> None:
        seen.append(error)
        seen.append(sum(1 for _ in Journal.read(tmp_path)))  # what another process would find now
        done.set()

    journal.record(key, "", "p", b"x", b"answer", on_commit=committed)
    assert done.wait(timeout=5)
    assert seen == [None, 1]
    journal.close()


def test_on_commit_reports_a_failed_commit(tmp_path: Path) -> None:
    import threading

    journal = Journal(tmp_path)
    with sqlite3.connect(tmp_path / FILENAME) as db:
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON responses BEGIN SELECT RAISE(FAIL, 'disk full'); END")
    outcome: list[BaseException | None] = []
    done = threading.Event()
    journal.record(
        request_key("", "p", b"y"), "", "p", b"y", b"lost", on_commit=lambda e: (outcome.append(e), done.set())
    )
    assert done.wait(timeout=5)
    assert isinstance(outcome[0], sqlite3.Error)
    assert "disk full" in str(outcome[0])
    journal.close()


async def test_engine_reports_a_journal_that_cannot_commit_as_a_journal_error(tmp_path: Path) -> None:
    with FakeLLMServer(responder=Echo()) as server:
        client = AsyncOpenAIClient(base_url=server.base_url, api_key="k", cache_dir=tmp_path)
        await client.query_model(messages=USER, model="m")  # opens and writes the journal
        with sqlite3.connect(tmp_path / FILENAME) as db:
            db.execute("CREATE TRIGGER refuse BEFORE INSERT ON responses BEGIN SELECT RAISE(FAIL, 'disk full'); END")
        with pytest.raises(JournalError, match="disk full"):
            await client.query_model(messages=[{"role": "user", "content": "another"}], model="m")
        await client.aclose()


async def test_identical_requests_in_flight_pay_once(tmp_path: Path) -> None:
    """Two records with the same prompt at the same time: the second waits for the first and is answered from the
    journal, as it would be one after the other (a streamed chain sends both at once)."""
    import asyncio

    with FakeLLMServer(Echo(), latency=0.2) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, api_key="sk-test", cache_dir=tmp_path) as client:
            ask = [{"role": "user", "content": "the same question"}]
            other = [{"role": "user", "content": "another question"}]
            answers = await asyncio.gather(*(client.query_model(messages=m, model="m") for m in (ask, ask, other, ask)))
            stats = client.stats
        assert server.stats()["requests"] == 2
    assert answers[0] == answers[1] == answers[3] != answers[2]
    assert (stats.requests_sent, stats.from_journal) == (2, 2)
