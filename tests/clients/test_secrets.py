"""The API key never appears in exception messages, tracebacks, reprs, stats or log lines."""

from __future__ import annotations

import logging
import traceback

import httpx
import pytest
import respx

from curator_synth import AsyncOpenAIClient, OpenAIClient
from curator_synth.clients import RetryPolicy
from curator_synth.errors import CuratorSynthError

KEY = "sk-TOPSECRET-5f2a9c"
BASE = "http://llm.test/v1"
CHAT = f"{BASE}/chat/completions"
USER = [{"role": "user", "content": "hi"}]

FAILURES = {
    "401 echoing the key": httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {KEY}"}}),
    "500 echoing the key": httpx.Response(500, text=f"upstream said Authorization: Bearer {KEY}"),
    "429": httpx.Response(429, headers={"retry-after": "0"}),
    "malformed": httpx.Response(200, content=b"<html>gateway</html>"),
    "connect error": httpx.ConnectError("refused"),
    "timeout": httpx.ReadTimeout("slow"),
}


def assert_clean(text: str) -> None:
    assert KEY not in text
    assert KEY[3:] not in text  # not even without its prefix


@pytest.mark.parametrize("name", sorted(FAILURES))
@respx.mock
async def test_key_absent_from_errors_reprs_and_logs(name: str, caplog: pytest.LogCaptureFixture) -> None:
    respx.post(CHAT).mock(side_effect=FAILURES[name])
    caplog.set_level(logging.DEBUG)
    client = AsyncOpenAIClient(
        base_url=BASE, api_key=KEY, transport="httpx", retry=RetryPolicy(max_retries=1, initial_backoff=0.001)
    )
    with pytest.raises(CuratorSynthError) as info:
        await client.query_model(messages=USER, model="m")
    error = info.value
    assert_clean(str(error))
    assert_clean(repr(error))
    assert_clean("".join(traceback.format_exception(error)))
    assert_clean(repr(vars(error)))
    assert_clean(repr(client))
    assert_clean(repr(client.connection))
    assert_clean(str(client.stats.as_dict()))
    assert_clean(caplog.text)
    await client.aclose()


def test_sync_client_repr_hides_key() -> None:
    client = OpenAIClient(base_url=BASE, api_key=KEY)
    assert_clean(repr(client))
    assert_clean(repr(client.async_client.connection))
    assert "base_url='http://llm.test/v1'" in repr(client)
    client.close()
