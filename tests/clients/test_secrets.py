"""The API key never appears in exception messages, tracebacks, reprs, stats or log lines (third-party ones too),
not even a piece of it cut at an excerpt's end."""

from __future__ import annotations

import logging
import subprocess
import sys
import traceback
from collections.abc import Callable

import httpx
import pytest
import respx

from curator_synth import AsyncOpenAIClient, OpenAIClient
from curator_synth.clients import TRANSPORTS, RetryPolicy, Secret
from curator_synth.clients.factory import ClientSpec
from curator_synth.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    CuratorSynthError,
    RequestSummary,
)
from curator_synth.redact import redact, redact_url, register_secret
from curator_synth.testing import FakeLLMServer, FakeRequest

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


# ------------------------------------------------------------------------------ redact whole, then cut
def pieces(secret: str, length: int = 6) -> list[str]:
    """Every ``length``-character piece of ``secret``: none may survive, not even a cut one."""
    return [secret[i : i + length] for i in range(len(secret) - length + 1)]


def assert_no_piece(text: str, secret: str = KEY) -> None:
    leaked = [piece for piece in pieces(secret) if piece in text]
    assert not leaked, f"pieces of the key leaked: {leaked}"


def _error_at(offset: int) -> Callable[[FakeRequest], str]:
    """A responder failing with a message that puts KEY at ``offset`` of the server's 400 body."""
    head = len('{"error":{"message":"FakeLLMServer responder failed: ValueError: ')

    def responder(request: FakeRequest) -> str:
        raise ValueError("x" * (offset - head) + KEY + " was echoed by the upstream")

    return responder


@pytest.mark.parametrize("transport", ["aiohttp", "httpx", "openai"])
async def test_a_key_straddling_the_excerpt_cut_leaks_no_piece(transport: str) -> None:
    with FakeLLMServer(_error_at(290)) as server:
        async with AsyncOpenAIClient(base_url=server.base_url, api_key=KEY, transport=transport) as client:
            with pytest.raises(BadRequestError) as info:
                await client.query_model(messages=USER, model="m")
    error = info.value
    assert "was echoed by the upstream" in str(error)  # the server's message is there, the key is not
    assert error.body  # an excerpt was kept: the cut is exercised
    for text in (str(error), repr(error), error.body, "".join(traceback.format_exception(error))):
        assert_no_piece(text)


def test_api_status_error_redacts_its_body_before_cutting() -> None:
    Secret(KEY)  # registered, as every client's key is
    summary = RequestSummary.create("POST", "http://127.0.0.1:9/v1/chat/completions")
    error = APIStatusError("boom", status_code=500, request=summary, body="y" * 290 + KEY + "z" * 50)
    assert len(error.body) == 300
    assert_no_piece(error.body)
    assert_no_piece(str(error))


# ------------------------------------------------------------------------------------ URLs with keys
URL_KEY = "pw-inthe-URL-7c1d0e"
CREDENTIAL_URL = f"http://user:{URL_KEY}@127.0.0.1:9/v1"


async def test_base_url_credentials_are_not_in_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="two Authorization headers") as refused:
        AsyncOpenAIClient(base_url=CREDENTIAL_URL, api_key=KEY)  # credentials twice: refused, URL redacted
    assert_no_piece(str(refused.value), URL_KEY)
    client = AsyncOpenAIClient(base_url=CREDENTIAL_URL)
    spec = ClientSpec(base_url=CREDENTIAL_URL)
    shown = [repr(client), repr(client.connection), repr(spec), redact_url(CREDENTIAL_URL)]
    for name in ("aiohttp", "httpx", "openai"):
        transport = TRANSPORTS.get(name)(client.connection)
        shown.append(repr(transport))
        await transport.aclose()
    for text in shown:
        assert_no_piece(text, URL_KEY)
        assert "http://***@127.0.0.1:9/v1" in text
    await client.aclose()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://bob:s3cr@t-pass@host.test/v1", "https://***@host.test/v1"),
        ("https://tok-0123456789@host.test/v1", "https://***@host.test/v1"),
        ("https://host.test/v1?api_key=abcdefgh&x=1", "https://host.test/v1?api_key=***&x=1"),
        ("https://host.test/v1?x=1&access_token=t0ken&sig=abc", "https://host.test/v1?x=1&access_token=***&sig=***"),
        ("https://host.test/v1?X-Amz-Signature=f00d&design=ok", "https://host.test/v1?X-Amz-Signature=***&design=ok"),
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert redact(f"failed to reach {url} (refused)") == f"failed to reach {shown} (refused)"


def test_registered_secrets_are_scrubbed_from_any_text_and_short_ones_ignored() -> None:
    register_secret("abc12")  # too short to register: it would scrub ordinary words
    Secret("registered-secret-42")
    assert redact("x abc12 registered-secret-42 y") == "x abc12 *** y"
    Secret("pass word/+42")
    assert redact("raw pass word/+42, in a URL pass%20word%2F%2B42") == "raw ***, in a URL ***"


# --------------------------------------------------------------------------------------- log records
async def test_third_party_debug_logs_never_show_an_echoed_key(caplog: pytest.LogCaptureFixture) -> None:
    """httpcore's DEBUG log of response headers holds ``WWW-Authenticate: Bearer <key>`` (the server echoes
    the wrong key back, as some do): the record factory scrubs it like every record of every logger."""
    caplog.set_level(logging.DEBUG)
    with FakeLLMServer(api_key="the-right-key") as server:
        async with AsyncOpenAIClient(base_url=server.base_url, api_key=KEY, transport="openai") as client:
            with pytest.raises(AuthenticationError):
                await client.query_model(messages=USER, model="m")
    messages = [record.getMessage() for record in caplog.records]
    assert any("WWW-Authenticate" in message for message in messages)  # httpcore logged the header
    assert {record.name.split(".")[0] for record in caplog.records} & {"httpcore", "httpcore2"}
    for text in (*messages, caplog.text):
        assert_no_piece(text)


def test_log_records_with_a_key_in_args_or_traceback_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    Secret(KEY)
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger("some.third_party.child")
    logger.debug("sending with key %s to %s", KEY, CREDENTIAL_URL)
    try:
        raise RuntimeError(f"upstream rejected {KEY}")
    except RuntimeError:
        logger.exception("request failed")
    assert "sending with key *** to http://***@127.0.0.1:9/v1" in caplog.text
    assert "RuntimeError: upstream rejected ***" in caplog.text
    assert_no_piece(caplog.text)


def test_log_redaction_chains_an_existing_factory_and_installs_once() -> None:
    """In a fresh interpreter: a factory set before import keeps working, and importing twice wraps once."""
    code = """
import logging
previous = logging.getLogRecordFactory()
def tagging(*args, **kwargs):
    record = previous(*args, **kwargs)
    record.tag = "kept"
    return record
logging.setLogRecordFactory(tagging)
import curator_synth.clients
from curator_synth.redact import install_log_redaction
installed = logging.getLogRecordFactory()
install_log_redaction()
assert logging.getLogRecordFactory() is installed, "installed twice"
assert installed.previous is tagging, "did not chain the existing factory"
curator_synth.clients.Secret("sk-in-a-child-0a1b2c")
record = logging.getLogger("x").makeRecord("x", logging.INFO, "f", 1, "key=%s", ("sk-in-a-child-0a1b2c",), None)
assert record.tag == "kept" and record.getMessage() == "key=***", (record.tag, record.getMessage())
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr


def test_a_factory_set_later_without_chaining_is_wrapped_again_by_the_next_secret() -> None:
    """docs/clients.md: a record factory set after import, not chaining ours, removes the redaction until the next
    secret is registered, which wraps the new factory (kept: records still carry what it adds)."""
    code = """
import logging
import curator_synth.clients
def replacing(*args, **kwargs):
    record = logging.LogRecord(*args, **kwargs)
    record.tag = "kept"
    return record
logging.setLogRecordFactory(replacing)  # does not chain the redacting factory
def message(key):
    return logging.getLogger("x").makeRecord("x", logging.INFO, "f", 1, "key=%s", (key,), None)
first = "sk-before-replacing-0a1b2c"
curator_synth.clients.Secret(first)
assert logging.getLogRecordFactory().previous is replacing, "the new factory was not wrapped"
second = "sk-after-replacing-3d4e5f"
curator_synth.clients.Secret(second)
for key in (first, second):
    record = message(key)
    assert record.tag == "kept" and record.getMessage() == "key=***", (record.tag, record.getMessage())
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr
