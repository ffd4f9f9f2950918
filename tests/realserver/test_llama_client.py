"""The client against a real llama.cpp server: n (it answers one choice), seed, stop, max_tokens under each
truncation policy, usage, 200 requests at concurrency 16, a journaled re-run."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from curator_synth.clients import AsyncOpenAIClient, QueryRequest
from curator_synth.errors import (
    ConfigError,
    ContextLengthError,
    PromptTooLongError,
    ResponseParseError,
    TruncatedResponseError,
)
from curator_synth.structured import accepted_mode, query_structured

MODEL = "tiny-random"
HI = [{"role": "user", "content": "Write one sentence about rivers."}]


async def test_one_answer_and_usage_counted(llama: Any) -> None:
    async with AsyncOpenAIClient(base_url=llama.base_url, api_key="none") as client:
        (answer,) = await client.query_model(messages=HI, model=MODEL, max_tokens=8, temperature=0.7, seed=1)
    assert isinstance(answer, str)
    assert answer
    assert client.stats.requests_sent == 1
    assert client.stats.prompt_tokens > 0
    assert 0 < client.stats.completion_tokens <= 8


async def test_n_samples_when_the_endpoint_ignores_n(llama: Any) -> None:
    async with AsyncOpenAIClient(base_url=llama.base_url, api_key="none") as client:
        answers = await client.query_model(messages=HI, model=MODEL, max_tokens=8, temperature=1.0, n=3, seed=5)
    assert len(answers) == 3
    assert len(set(answers)) == 3, answers  # distinct seeds: distinct samples
    assert client.capabilities["n"] is False
    assert client.stats.requests_sent == 3


async def test_seed_gives_the_same_answer_and_another_seed_another(llama: Any) -> None:
    async with AsyncOpenAIClient(base_url=llama.base_url, api_key="none") as client:
        ask = {"messages": HI, "model": MODEL, "max_tokens": 12, "temperature": 1.0}
        first = await client.query_model(**ask, seed=7)
        again = await client.query_model(**ask, seed=7)
        other = await client.query_model(**ask, seed=8)
    assert first == again
    assert first != other


async def test_stop_ends_the_answer_before_the_stop_text(llama: Any) -> None:
    async with AsyncOpenAIClient(base_url=llama.base_url, api_key="none") as client:
        ask = {"messages": HI, "model": MODEL, "max_tokens": 40, "temperature": 1.0, "seed": 3}
        (free,) = await client.query_model(**ask)
        stop = next(character for character in free[5:] if character.isalpha())
        (stopped,) = await client.query_model(**ask, stop=[stop])
    assert stop not in stopped
    assert free.startswith(stopped)


@pytest.mark.parametrize("policy", ["return", "raise", "retry"])
async def test_max_tokens_truncation_under_each_policy(llama: Any, policy: str) -> None:
    client = AsyncOpenAIClient(base_url=llama.base_url, api_key="none", on_truncated=policy, max_retries=1)  # type: ignore[arg-type]
    async with client:
        ask = client.query_model(messages=HI, model=MODEL, max_tokens=3, temperature=0.7, seed=2)
        if policy == "return":
            (answer,) = await ask
            assert answer
        else:
            with pytest.raises(TruncatedResponseError):
                await ask
    assert client.stats.requests_sent == (2 if policy == "retry" else 1)


async def test_two_hundred_requests_at_concurrency_16_then_a_journaled_rerun(llama: Any, tmp_path: Path) -> None:
    requests = [
        QueryRequest([{"role": "user", "content": f"Item {i}: say a word."}], MODEL, max_tokens=4, seed=i)
        for i in range(200)
    ]
    before = llama.answered()
    async with AsyncOpenAIClient(base_url=llama.base_url, api_key="none", max_concurrency=16, cache_dir=tmp_path) as c:
        results = [result async for result in c.query_many(requests)]
    assert [result.index for result in results] == list(range(200))
    assert all(result.ok for result in results), [r.error for r in results if not r.ok][:3]
    assert llama.answered() - before == 200
    async with AsyncOpenAIClient(base_url=llama.base_url, api_key="none", cache_dir=tmp_path) as again:
        replayed = [result async for result in again.query_many(requests)]
    assert again.stats.requests_sent == 0
    assert [r.value for r in replayed] == [r.value for r in results]


class Rating(BaseModel):
    verdict: Literal["good", "bad"]
    score: int


async def test_structured_output_goes_through_the_fallback_chain(llama: Any) -> None:
    answers, refused = [], []
    async with AsyncOpenAIClient(base_url=llama.base_url, api_key="none", max_retries=1) as client:
        for seed in range(5):
            try:
                answers.append(
                    await query_structured(
                        client, messages=HI, model=MODEL, schema=Rating, max_tokens=48, seed=seed, max_repairs=0
                    )
                )
            except ResponseParseError as error:  # an answer cut at max_tokens inside the JSON
                refused.append(error)
        assert accepted_mode(client, MODEL) == "json_object"  # llama.cpp: 500 for json_schema, grammar for this
        # json_schema was tried once (a 500 not retried), then every request went as json_object
        assert client.stats.requests_sent == 1 + 5
    assert answers, [str(error) for error in refused]
    assert all(isinstance(answer, Rating) for answer in answers)


async def test_a_prompt_over_the_context_is_a_context_length_error(llama: Any) -> None:
    long = [{"role": "user", "content": "word " * 3000}]
    async with AsyncOpenAIClient(base_url=llama.base_url, api_key="none") as client:
        with pytest.raises(ContextLengthError) as caught:
            await client.query_model(messages=long, model=MODEL, max_tokens=8)
        assert caught.value.context_length == 2048
        assert client.stats.requests_sent == 1  # permanent: not retried
        assert client.capabilities["context_length"] == 2048  # learned: the next one is refused here, unsent
        with pytest.raises(PromptTooLongError, match="context of 2048 tokens; not sent"):
            await client.query_model(messages=[{"role": "user", "content": "other " * 3000}], model=MODEL, max_tokens=8)
        assert client.stats.requests_sent == 1


async def test_batch_against_a_server_without_a_batch_api_is_a_clear_config_error(llama: Any) -> None:
    """llama.cpp's server has no ``/v1/files`` or ``/v1/batches``: ``batch=True`` says so at once, sends nothing."""
    async with AsyncOpenAIClient(base_url=llama.base_url, api_key="none", batch=True) as client:
        with pytest.raises(ConfigError, match=r"the endpoint has no batch API .*HTTP 404.*batch: false"):
            await client.query_model(messages=HI, model=MODEL, max_tokens=8)
    assert client.stats.responses_ok == 0
