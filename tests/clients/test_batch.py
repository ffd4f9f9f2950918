"""``batch=True``: requests go through the provider's batch API (FakeLLMServer's ``/v1/files`` + ``/v1/batches``,
OpenAI's protocol), every answer is journaled, failed lines are asked again in a later batch, and a batch that a
stopped run left behind is polled again by the next run, never submitted (paid) twice."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from curator_synth.clients import AsyncOpenAIClient
from curator_synth.clients.batch_registry import FILENAME, BatchRegistry
from curator_synth.clients.transport import HTTPRequest, HTTPResponse, Transport
from curator_synth.clients.transport.aiohttp_transport import AiohttpTransport
from curator_synth.errors import BadRequestError, ConfigError, ConnectError, ServerError
from curator_synth.testing import FakeLLMServer, Faults

N = 12
KEY = "sk-batch-test-key-0123456789"


def messages(i: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"batch question {i}"}]


def client(server: FakeLLMServer, cache_dir: Path | None, **options: Any) -> AsyncOpenAIClient:
    settings: dict[str, Any] = {"batch": True, "batch_poll_seconds": 0.02, "max_retries": 3}
    return AsyncOpenAIClient(base_url=server.base_url, api_key=KEY, cache_dir=cache_dir, **{**settings, **options})


async def ask(llm: AsyncOpenAIClient, n: int = N) -> list[str]:
    answers = await asyncio.gather(*(llm.query_model(messages=messages(i), model="m") for i in range(n)))
    return [answer[0] for answer in answers]


@pytest.mark.parametrize("transport", ["aiohttp", "httpx", "openai"])
async def test_requests_are_answered_through_one_batch_and_journaled(tmp_path: Path, transport: str) -> None:
    with FakeLLMServer(batch_delay=0.05) as server:
        async with client(server, tmp_path, transport=transport) as llm:
            assert await ask(llm) == [f"batch question {i}" for i in range(N)]
            stats = llm.stats
        served = server.stats()
        assert served["batches"] == 1
        assert served["batch_requests"] == served["requests"] == N
        assert served["by_endpoint"]["chat"] == N  # every request went in the batch, none online
        assert stats.batch_requests == stats.requests_sent == N
        assert stats.batch_prompt_tokens == stats.prompt_tokens == served["prompt_tokens"] > 0
        assert stats.batch_completion_tokens == stats.completion_tokens > 0

        # Journaled: a second run pays nothing, and the batch is recorded as collected.
        async with client(server, tmp_path) as llm:
            assert await ask(llm) == [f"batch question {i}" for i in range(N)]
            assert llm.stats.from_journal == N
        assert server.stats()["requests"] == N
    assert BatchRegistry(tmp_path).pending() == []


async def test_failed_lines_are_asked_again_in_a_later_batch(tmp_path: Path) -> None:
    faults = Faults(script=["500", None, "429", "malformed", None, "error_body"])
    with FakeLLMServer(faults=faults) as server:
        async with client(server, tmp_path) as llm:
            assert await ask(llm) == [f"batch question {i}" for i in range(N)]
            retries = dict(llm.stats.retries)
        served = server.stats()
    assert served["batches"] == 2  # the first, and one for its 4 failed lines
    assert served["batch_requests"] == N + 4
    # An error body without a status (the "error_body" fault) is a malformed answer.
    assert retries == {"ServerError": 1, "RateLimitError": 1, "MalformedResponseError": 2}
    assert sorted(served["body_hits"].values()) == [1] * (N - 4) + [2] * 4


async def test_a_line_that_keeps_failing_ends_as_its_error_after_the_retries(tmp_path: Path) -> None:
    with FakeLLMServer(faults=Faults(server_error=1.0)) as server:
        async with client(server, tmp_path, max_retries=2) as llm:
            with pytest.raises(ServerError, match="HTTP 500") as caught:
                await llm.query_model(messages=messages(0), model="m")
            assert caught.value.transient  # kept for a re-run, not final
        assert server.stats()["batches"] == 3  # the first try and two retries, each its own batch


async def test_a_stopped_run_polls_its_batch_again_instead_of_resubmitting(tmp_path: Path) -> None:
    with FakeLLMServer(batch_delay=60.0) as server:
        llm = client(server, tmp_path)
        pending = asyncio.ensure_future(ask(llm))
        await asyncio.to_thread(_wait_until, lambda: server.stats()["batches"] >= 1)
        pending.cancel()  # the run stops while its batch is with the provider (a kill: see the pipeline test)
        with pytest.raises(asyncio.CancelledError):
            await pending
        await llm.aclose()
        assert [entry.batch for entry in BatchRegistry(tmp_path).pending()] == ["batch_000001"]

        server.set_batch_delay(0.0)
        async with client(server, tmp_path) as llm:
            assert await ask(llm) == [f"batch question {i}" for i in range(N)]
            assert llm.stats.from_journal == 0
        served = server.stats()
    assert served["batches"] == 1
    assert served["batch_requests"] == N
    assert set(served["body_hits"].values()) == {1}
    assert BatchRegistry(tmp_path).pending() == []


async def test_a_run_stopped_before_its_batch_was_created_creates_it_from_the_file_it_uploaded(tmp_path: Path) -> None:
    """The registry records the input file before the batch is created: the next run creates the batch from that
    file (no second upload of the requests)."""

    def refuse_create(config: Any) -> Transport:
        return _Scripted(config, {"batches": HTTPResponse(400, {}, b'{"error":{"message":"quota"}}')})

    with FakeLLMServer() as server:
        async with client(server, tmp_path, transport=refuse_create) as llm:
            with pytest.raises(BadRequestError, match="quota"):
                await llm.query_model(messages=messages(0), model="m")
        assert [entry.batch for entry in BatchRegistry(tmp_path).pending()] == [None]
        async with client(server, tmp_path) as llm:
            assert await ask(llm, 1) == ["batch question 0"]
        served = server.stats()
    assert served["by_endpoint"]["files"] == 2  # one upload, one download: the input file was not sent again
    assert served["batches"] == 1


async def test_a_batch_created_whose_answer_was_lost_is_found_not_created_twice(tmp_path: Path) -> None:
    def lose_create_answer(config: Any) -> Transport:
        return _Scripted(config, {"batches": _Lost(ConnectError("connection reset after the request was sent"))})

    with FakeLLMServer() as server:
        async with client(server, tmp_path, transport=lose_create_answer) as llm:
            assert await ask(llm) == [f"batch question {i}" for i in range(N)]
        served = server.stats()
    assert served["batches"] == 1
    assert set(served["body_hits"].values()) == {1}


async def test_an_endpoint_without_a_batch_api_is_a_clear_permanent_error(tmp_path: Path) -> None:
    def no_batch_api(config: Any) -> Transport:
        return _Scripted(config, {"files": HTTPResponse(404, {}, b'{"detail":"Not Found"}')})

    with FakeLLMServer() as server:
        async with client(server, tmp_path, transport=no_batch_api) as llm:
            with pytest.raises(ConfigError, match=r"has no batch API .*HTTP 404.*batch: false"):
                await llm.query_model(messages=messages(0), model="m")
        assert server.stats()["requests"] == 0


async def test_a_dropped_poll_is_retried_and_the_batch_still_answers(tmp_path: Path) -> None:
    def flaky(config: Any) -> Transport:
        return _Scripted(config, {"batches/batch_000001": ConnectError("connection reset")})

    with FakeLLMServer() as server:
        async with client(server, tmp_path, transport=flaky) as llm:
            assert await ask(llm, 3) == [f"batch question {i}" for i in range(3)]
        assert server.stats()["batches"] == 1


async def test_a_stage_can_turn_batching_on_or_off_for_its_requests(tmp_path: Path) -> None:
    from curator_synth.clients.defaults import RequestDefaults, request_defaults

    with FakeLLMServer() as server:
        async with client(server, tmp_path, batch=False) as llm:
            with request_defaults(RequestDefaults(batch=True)):
                await ask(llm, 2)
            await llm.query_model(messages=messages(100), model="m")  # the client's own choice: online
        served = server.stats()
    assert served["batch_requests"] == 2
    assert served["requests"] == 3


async def test_the_key_is_never_in_the_journal_or_the_registry(tmp_path: Path) -> None:
    with FakeLLMServer(batch_delay=0.0) as server:
        async with client(server, tmp_path) as llm:
            await ask(llm, 3)
    written = _files(tmp_path)
    assert tmp_path / FILENAME in written
    for path, content in written.items():
        assert KEY.encode() not in content, path


# ----------------------------------------------------------------------------------------------- helpers
def _wait_until(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _files(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}


class _Lost:
    """A scripted answer: the request reaches the server, its answer is lost (``error`` is raised)."""

    def __init__(self, error: Exception) -> None:
        self.error = error


class _Scripted(AiohttpTransport):
    """The aiohttp transport, except the first request to each scripted path gets the scripted answer (or error)."""

    def __init__(self, config: Any, script: dict[str, HTTPResponse | Exception | _Lost]) -> None:
        super().__init__(config)
        self.script = dict(script)

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        scripted = self.script.pop(request.path, None)
        if isinstance(scripted, Exception):
            raise scripted
        if isinstance(scripted, HTTPResponse):
            return scripted
        response = await super().send(request)
        if isinstance(scripted, _Lost):
            raise scripted.error
        return response


def test_the_registry_survives_a_line_cut_by_a_crash_and_forgets_collected_batches(tmp_path: Path) -> None:
    registry = BatchRegistry(tmp_path)
    registry.uploaded("file-1", "chat/completions", ["a", "b"])
    registry.created("file-1", "batch-1")
    registry.uploaded("file-2", "chat/completions", ["b", "c"])  # "b" asked again (its first answer failed)
    with open(tmp_path / FILENAME, "ab") as out:
        out.write(b'{"event":"created","file":"file-2","bat')  # killed in the middle of a line
    reread = BatchRegistry(tmp_path)
    assert [(entry.file, entry.batch) for entry in reread.pending()] == [("file-1", "batch-1"), ("file-2", None)]
    assert reread.open_file("a").file == "file-1"  # type: ignore[union-attr]
    assert reread.open_file("b").file == "file-2"  # type: ignore[union-attr]  # the newest batch holding it
    reread.collected("file-1")
    assert reread.open_file("a") is None
    assert BatchRegistry(tmp_path).open_file("b").file == "file-2"  # type: ignore[union-attr]
    assert [entry.file for entry in BatchRegistry(tmp_path).pending()] == ["file-2"]
