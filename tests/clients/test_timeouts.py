"""``timeout`` is a total deadline per attempt on every transport: a server trickling its answer one byte at a
time (every read well within the timeout) still fails the attempt at the deadline."""

from __future__ import annotations

import time
from collections.abc import Iterator

import openai
import pytest

from curator_synth import AsyncOpenAIClient, OpenAIClient
from curator_synth.errors import RequestTimeoutError
from curator_synth.testing import FakeLLMServer, Faults

USER = [{"role": "user", "content": "one two three"}]
TIMEOUT = 2.0
# Generous: a loaded 2-core machine is slow, but a trickled answer would take minutes, so the test still proves
# the attempt ended at the deadline rather than with the body.
UPPER_BOUND = 4.0


@pytest.fixture
def trickling() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(faults=Faults(trickle=1.0, trickle_interval=0.5)) as srv:
        yield srv


@pytest.mark.parametrize("transport", ["aiohttp", "httpx", "openai"])
async def test_trickled_answer_times_out_at_the_deadline(trickling: FakeLLMServer, transport: str) -> None:
    client = AsyncOpenAIClient(
        base_url=trickling.base_url, api_key="k", transport=transport, timeout=TIMEOUT, max_retries=0
    )
    started = time.monotonic()
    try:
        with pytest.raises(RequestTimeoutError, match=r"within 2\.0s"):
            await client.query_model(messages=USER, model="m")
        elapsed = time.monotonic() - started
    finally:
        await client.aclose()
    assert TIMEOUT - 0.1 <= elapsed < UPPER_BOUND
    assert client.stats.failures == {"RequestTimeoutError": 1}
    assert trickling.stats()["faults"]["trickle"] == 1


@pytest.mark.parametrize("sdk_class", [openai.AsyncOpenAI, openai.OpenAI])  # a sync one runs in a worker thread
async def test_a_given_openai_sdk_instance_gets_the_deadline_too(trickling: FakeLLMServer, sdk_class: type) -> None:
    sdk = sdk_class(base_url=trickling.base_url, api_key="k", timeout=30.0)
    client = AsyncOpenAIClient(sdk, timeout=TIMEOUT, max_retries=0)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        await client.query_model(messages=USER, model="m")
    assert time.monotonic() - started < UPPER_BOUND
    await client.aclose()
    trickling.stop()  # ends the worker thread's call still reading the trickle
    closed = sdk.close()
    if closed is not None:  # AsyncOpenAI.close is a coroutine
        await closed


def test_the_transport_recovers_after_a_timed_out_attempt(trickling: FakeLLMServer) -> None:
    """The cancelled connection is not reused: the next request on the same client is answered."""
    trickling.set_faults(Faults(script=["trickle", None, "trickle", None]))
    for transport in ("httpx", "openai"):
        with OpenAIClient(base_url=trickling.base_url, transport=transport, timeout=1.0, max_retries=0) as client:
            with pytest.raises(RequestTimeoutError):
                client.query_model(messages=USER, model="m")
            assert client.query_model(messages=USER, model="m") == ["one two three"]


async def test_a_slow_but_complete_answer_within_the_deadline_is_fine() -> None:
    with FakeLLMServer(faults=Faults(trickle=1.0, trickle_interval=0.001)) as srv:
        for transport in ("aiohttp", "httpx", "openai"):
            async with AsyncOpenAIClient(base_url=srv.base_url, transport=transport, timeout=TIMEOUT) as client:
                assert await client.query_model(messages=USER, model="m") == ["one two three"]
