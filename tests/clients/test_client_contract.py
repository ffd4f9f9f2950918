"""The client contract (issue 15): ``query_many``, ``submit`` and ``stats`` are part of it, with defaults built
on NeMo's two methods, so a client implementing only those works wherever a stream of requests is run."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from curator_synth.clients import AsyncLLMClient, LLMClient, QueryRequest
from curator_synth.errors import ErrorBudgetExceeded, ResponseParseError


def _answer(messages: Any, **options: Any) -> list[str]:
    text = messages[-1]["content"]
    if text == "bad":
        raise ResponseParseError("unusable")
    if text == "stop":
        raise ErrorBudgetExceeded("spent")
    return [f"{text}:{options.get('max_tokens')}:{options.get('top_k')}"] * options.get("n", 1)


class Minimal(AsyncLLMClient):
    async def query_model(self, *, messages: Any, model: str, **options: Any) -> list[str]:
        await asyncio.sleep(0.01 if messages[-1]["content"] == "a" else 0)
        return _answer(messages, **options)

    async def query_reward_model(self, *, messages: Any, model: str) -> dict[str, float]:
        return {"helpfulness": 1.0}


class MinimalSync(LLMClient):
    def query_model(self, *, messages: Any, model: str, **options: Any) -> list[str]:
        return _answer(messages, **options)

    def query_reward_model(self, *, messages: Any, model: str) -> dict[str, float]:
        return {"helpfulness": 2.0}


def _requests(*texts: str) -> list[QueryRequest]:
    return [QueryRequest([{"role": "user", "content": text}], "m", max_tokens=5, extra={"top_k": 3}) for text in texts]


async def test_an_async_client_with_only_nemo_methods_runs_a_stream_of_requests() -> None:
    client = Minimal()
    assert client.stats is None
    results = [result async for result in client.query_many(_requests("a", "bad", "c"), ordered=True)]
    assert [result.index for result in results] == [0, 1, 2]  # in input order, though "a" finished last
    assert (results[0].value, results[2].value) == (["a:5:3"], ["c:5:3"])  # every field of the request went
    assert isinstance(results[1].error, ResponseParseError)
    reward = QueryRequest([{"role": "user", "content": "x"}], "rm", reward=True)
    assert await client.submit(reward) == {"helpfulness": 1.0}


def test_a_blocking_client_with_only_nemo_methods_runs_a_stream_of_requests() -> None:
    client = MinimalSync()
    assert client.stats is None
    results = list(client.query_many(_requests("a", "bad", "c")))
    assert [(result.index, result.value) for result in results] == [(0, ["a:5:3"]), (1, None), (2, ["c:5:3"])]
    assert isinstance(results[1].error, ResponseParseError)
    with pytest.raises(ErrorBudgetExceeded):  # a fatal error stops the stream
        list(client.query_many(_requests("a", "stop", "c")))


async def test_a_blocking_client_raising_stop_iteration_fails_instead_of_hanging() -> None:
    """An exhausted mock's ``side_effect`` raises StopIteration, which cannot cross into a future: the adapter that
    runs a blocking client in a thread turns it into a RuntimeError, so the caller is not left waiting forever."""
    from curator_synth.clients.accept import as_async_client

    class Exhausted(LLMClient):
        def query_model(self, **kwargs: Any) -> list[str]:
            raise StopIteration

        def query_reward_model(self, **kwargs: Any) -> dict[str, float]:
            raise StopIteration

    client = as_async_client(Exhausted())
    with pytest.raises(RuntimeError, match=r"Exhausted\.query_model raised StopIteration"):
        await asyncio.wait_for(client.query_model(messages=[{"role": "user", "content": "hi"}], model="m"), 10)
    with pytest.raises(RuntimeError, match="query_reward_model"):
        await asyncio.wait_for(client.query_reward_model(messages=[], model="m"), 10)
