"""The journal makes a killed run resumable: what was answered is never paid for again.

Acceptance: kill -9 a run of 4000 journaled requests at about half way and re-run it; nothing the server
answered more than 0.5 s before the kill is paid for again (the in-flight window at the kill is the only
allowed re-pay), and the final results equal an uninterrupted run's, in input order.

The server runs in this process (thread mode); the client runs in a child process (``resume_child.py``) that
the test kills with SIGKILL, so nothing of the client gets to clean up: no atexit, no journal close.
"""

from __future__ import annotations

import inspect
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import resume_child as child  # a sibling module: tests/clients is on sys.path under pytest

from curator_synth.clients import AsyncOpenAIClient, Journal, QueryRequest
from curator_synth.errors import NotARewardModelError
from curator_synth.testing import Echo, FakeLLMServer

CHILD_PATH = Path(__file__).with_name("resume_child.py")
# With the child's window of 32: at most ~1070 answers/s, so a run takes about 4 s.
LATENCY = 0.03
KILL_AT = 2000  # answers received before the snapshot of what was paid for
QUIET = 0.5  # seconds between "answered" and the kill
PREFIX = "echo: "


def _start(server: FakeLLMServer, cache_dir: Path | None, out: Path) -> subprocess.Popen[bytes]:
    log = out.with_suffix(".log")
    command = [sys.executable, str(CHILD_PATH), server.base_url, str(cache_dir or "-"), str(out)]
    with log.open("wb") as stderr:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr)


def _finish(process: subprocess.Popen[bytes], out: Path, timeout: float = 60) -> tuple[dict[str, Any], list[Any]]:
    """Wait for a child to complete; its printed stats and its ordered results."""
    stdout, _ = process.communicate(timeout=timeout)
    log = out.with_suffix(".log").read_text(errors="replace")
    assert process.returncode == 0, f"child failed with {process.returncode}:\n{log[-3000:]}"
    return json.loads(stdout.decode().strip().splitlines()[-1]), json.loads(out.read_text())


def _expected_rows() -> list[list[Any]]:
    return [[i, PREFIX + child.prompt(i), None] for i in range(child.N)]


def _check_rows(rows: list[list[Any]], label: str) -> None:
    expected = _expected_rows()
    assert len(rows) == len(expected), f"{label}: {len(rows)} results instead of {len(expected)}"
    indices = [row[0] for row in rows]
    assert indices == list(range(child.N)), f"{label}: results not in input order / not each exactly once"
    wrong = [(row, want) for row, want in zip(rows, expected, strict=True) if row != want]
    assert not wrong, f"{label}: {len(wrong)} results differ from the Echo answers, e.g. {wrong[:3]}"


def test_kill9_half_way_then_resume_pays_only_the_in_flight_window(tmp_path: Path) -> None:
    journal_dir = tmp_path / "journal"
    with FakeLLMServer(Echo(prefix=PREFIX), latency=LATENCY) as server:
        # --------------------------------------------------------------------- run 1: killed half way
        out1 = tmp_path / "run1.json"
        process = _start(server, journal_dir, out1)
        try:
            deadline = time.monotonic() + 60
            while (answered := server.stats()["responses_ok"]) < KILL_AT:
                if process.poll() is not None:
                    log = out1.with_suffix(".log").read_text(errors="replace")
                    pytest.fail(f"child exited ({process.returncode}) after {answered} answers:\n{log[-3000:]}")
                assert time.monotonic() < deadline, f"only {answered} answers after 60 s"
                time.sleep(0.02)
            received = server.stats()["body_hits"]  # every body the server has received so far...
            # ...is answered once as many answers went out (fixed latency: answers leave in arrival order)
            while server.stats()["responses_ok"] < sum(received.values()):
                assert time.monotonic() < deadline, "the server did not answer the snapshot's requests"
                time.sleep(0.01)
            snapshot = set(received)  # S: answered at least QUIET seconds before the kill
            time.sleep(QUIET)
            assert process.poll() is None, f"the child finished before the kill (exit {process.returncode})"
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        process.stdout.close()  # type: ignore[union-attr]
        assert process.returncode == -signal.SIGKILL
        time.sleep(LATENCY + 0.05)  # let the server finish the requests that were in flight at the kill
        after_kill = server.stats()
        paid_run1 = after_kill["body_hits"]
        assert len(snapshot) >= KILL_AT
        assert len(paid_run1) < child.N, "the run was not interrupted: nothing left to resume"
        assert all(count == 1 for count in paid_run1.values()), "run 1 itself re-sent a request"
        assert not out1.exists(), "a killed child cannot have written its results"
        # the allowed re-pay: what the server received after the snapshot (answered < 0.5 s before the kill,
        # or still in flight at the kill)
        late = set(paid_run1) - snapshot

        # --------------------------------------------------------------------- run 2: resume, same journal
        out2 = tmp_path / "run2.json"
        stats2, rows2 = _finish(_start(server, journal_dir, out2), out2)
        hits = server.stats()["body_hits"]
        repaid = {key for key, count in hits.items() if count > 1}
        print(
            f"\nkilled after {after_kill['responses_ok']} answers ({len(snapshot)} in the snapshot, {len(late)} "
            f"late); resume: {stats2['from_journal']} from the journal, {stats2['requests_sent']} sent, "
            f"{len(repaid)} re-paid (window {child.MAX_CONCURRENCY})"
        )

        # (a) nothing answered >= 0.5 s before the kill was paid for again
        repaid_early = [key for key in snapshot if hits.get(key) != 1]
        assert not repaid_early, (
            f"{len(repaid_early)} of {len(snapshot)} requests answered >= {QUIET} s before the kill were paid for "
            f"again (hits {sorted({hits.get(key) for key in repaid_early})})"
        )
        # (b) the re-paid requests are among the late ones, each re-paid at most once, and not many: the window
        # in flight at the kill plus the answers the journal writer had not committed yet (~0.05 s worth).
        assert repaid <= late, f"{len(repaid - late)} re-paid requests were not in the late window"
        assert max(hits.values()) <= 2, "a request was paid for three times"
        bound = min(len(late), 2 * child.MAX_CONCURRENCY + 200)
        assert len(repaid) <= bound, f"{len(repaid)} requests re-paid, more than {bound} ({len(late)} late)"
        # every request paid for at least once, and the resume sent only what the journal did not hold
        assert len(hits) == child.N, f"{child.N - len(hits)} requests were never sent"
        assert stats2["requests_sent"] == sum(hits.values()) - sum(paid_run1.values()), stats2
        # (c) the resume answered from the journal at least everything of the snapshot
        assert stats2["from_journal"] >= len(snapshot), stats2
        assert stats2["from_journal"] + stats2["requests_sent"] == child.N, stats2
        assert stats2["from_journal"] == len(paid_run1) - len(repaid), stats2
        assert not stats2["failures"], stats2
        # (d) the resumed results are complete, in input order, and what the server answered
        _check_rows(rows2, "resumed run")

        # --------------------------------------------------------------------- run 3: uninterrupted reference
        server.reset_stats()
        out3 = tmp_path / "run3.json"
        stats3, rows3 = _finish(_start(server, tmp_path / "fresh-journal", out3), out3)
        assert stats3["requests_sent"] == child.N
        assert stats3["from_journal"] == 0
        _check_rows(rows3, "uninterrupted run")
        assert rows2 == rows3, "the resumed run's results differ from an uninterrupted run's"


# ------------------------------------------------------------------------------ parse failures keep the answer
CONVERSATION = [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]
REWARD_MODEL = "nvidia/nemotron-4-340b-reward"


async def test_parse_failure_keeps_raw_response_and_is_asked_again_or_reparsed(tmp_path: Path) -> None:
    with FakeLLMServer(Echo(prefix=PREFIX)) as server:  # answers text, no logprobs: not a reward model
        client = AsyncOpenAIClient(base_url=server.base_url, api_key="k", cache_dir=tmp_path)
        async with client:
            with pytest.raises(NotARewardModelError) as first:
                await client.query_reward_model(messages=CONVERSATION, model=REWARD_MODEL)
            client.flush_journal()
        assert server.stats()["requests"] == 1, "a NotARewardModelError must not be retried"
        assert first.value.raw is not None
        assert PREFIX + "2+2?" in first.value.raw

        journal = Journal(tmp_path)
        try:
            records = list(journal.records())
        finally:
            journal.close()
        assert len(records) == 1, records
        answer = json.loads(records[0].response)
        assert answer["choices"][0]["message"]["content"] == PREFIX + "2+2?"
        assert json.loads(records[0].request) == {"model": REWARD_MODEL, "messages": CONVERSATION}
        assert records[0].response.decode() == first.value.raw

        # reask_failed=False re-parses the journaled answer only: no request, the same error.
        requests_before = server.stats()["requests"]
        reparse = AsyncOpenAIClient(base_url=server.base_url, api_key="k", cache_dir=tmp_path, reask_failed=False)
        async with reparse:
            with pytest.raises(NotARewardModelError) as second:
                await reparse.query_reward_model(messages=CONVERSATION, model=REWARD_MODEL)
        assert server.stats()["requests"] == requests_before, "a re-parse paid for a journaled answer"
        assert reparse.stats.requests_sent == 0
        assert second.value.raw == first.value.raw
        assert str(second.value) == str(first.value)

        # By default an answer that could not be used is asked again (once per run), and both raw answers stay.
        again = AsyncOpenAIClient(base_url=server.base_url, api_key="k", cache_dir=tmp_path)
        async with again:
            with pytest.raises(NotARewardModelError):
                await again.query_reward_model(messages=CONVERSATION, model=REWARD_MODEL)
        assert server.stats()["requests"] == requests_before + 1
        assert again.stats.requests_sent == 1
        assert len(list(Journal.read(tmp_path))) == 2


# ------------------------------------------------------------------------------ the journal never holds the key
SECRET = "sk-JOURNAL-SECRET-123"


def _journal_bytes(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir()) if path.is_file()}


def _assert_no_secret(files: dict[str, bytes], when: str) -> None:
    for name, data in files.items():
        for needle in (SECRET, SECRET[3:], "JOURNAL-SECRET"):
            assert needle.encode() not in data, f"{when}: {name} contains {needle!r}"


async def test_api_key_never_in_journal_files(tmp_path: Path) -> None:
    prompts = [f"secret test {i}" for i in range(50)]
    with FakeLLMServer(Echo(prefix=PREFIX), api_key=SECRET) as server:
        client = AsyncOpenAIClient(base_url=server.base_url, api_key=SECRET, cache_dir=tmp_path)
        async with client:
            requests = (QueryRequest([{"role": "user", "content": p}], "m", n=2) for p in prompts)
            results = [result async for result in client.query_many(requests)]
            assert all(result.ok for result in results), [r.error for r in results if not r.ok][:3]
            with pytest.raises(NotARewardModelError):
                await client.query_reward_model(messages=CONVERSATION, model=REWARD_MODEL)
            client.flush_journal()
            open_files = _journal_bytes(tmp_path)
        closed_files = _journal_bytes(tmp_path)
        assert server.stats()["by_status"] == {"200": len(prompts) + 1}  # the key was sent and accepted

    assert any(name.endswith("-wal") for name in open_files), sorted(open_files)
    assert any(PREFIX.encode() + b"secret test 49" in data for data in open_files.values()), "nothing journaled?"
    _assert_no_secret(open_files, "journal open")
    _assert_no_secret(closed_files, "journal closed")
    connection = sqlite3.connect(tmp_path / "journal.sqlite3")
    try:
        (rows,) = connection.execute("SELECT COUNT(*) FROM responses").fetchone()
        dumped = "\n".join(connection.iterdump())
    finally:
        connection.close()
    assert rows == len(prompts) + 1
    assert SECRET not in dumped


SELF_KILL_CHILD = """
import asyncio, os, signal, sys
from curator_synth.clients import AsyncOpenAIClient, QueryRequest

async def main(url, cache_dir, at):
    async with AsyncOpenAIClient(base_url=url, max_concurrency=64, cache_dir=cache_dir) as client:
        requests = (QueryRequest([{"role": "user", "content": f"cpu-bound {i}"}], "m") for i in range(10**6))
        done = 0
        async for result in client.query_many(requests, ordered=False):
            done += result.ok
            if done == at:
                print(client._engine.journal.backlog, flush=True)
                os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


def test_journal_keeps_up_when_the_client_is_cpu_bound(tmp_path: Path) -> None:
    """At 0 latency the event loop saturates a core; the writer must still commit (regression: executemany
    re-took the GIL per row and fell ~40 000 rows behind). The client kills itself after AT answers."""
    at = 10_000
    with FakeLLMServer(responder=Echo(), mode="process") as server:
        run = subprocess.run(
            [sys.executable, "-c", SELF_KILL_CHILD, server.base_url, str(tmp_path), str(at)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert run.returncode == -signal.SIGKILL, run.stderr
    backlog_at_kill = int(run.stdout.strip())
    committed = sum(1 for _ in Journal.read(tmp_path))
    print(f"\nbacklog at kill: {backlog_at_kill}, committed: {committed} of {at} answers")
    limit = inspect.signature(Journal).parameters["max_backlog"].default  # the engine's back-pressure bound
    assert committed >= at - limit, f"only {committed} of {at} answers survived the kill"
    assert backlog_at_kill <= limit + 2 * 64
