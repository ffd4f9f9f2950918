"""CLIENTS and ClientSpec: validated, picklable client descriptions that never carry the key."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from typing import Any

import pytest

from curator_synth.clients import AsyncNemotronClient, AsyncOpenAIClient, Secret
from curator_synth.clients.base import AsyncLLMClient
from curator_synth.clients.factory import CLIENTS, ClientSpec
from curator_synth.clients.nemotron import NIM_BASE_URL
from curator_synth.errors import ConfigError
from curator_synth.testing import Echo, FakeLLMServer

SECRET = "sk-factory-SECRET-777"


def test_registry_holds_the_async_clients() -> None:
    assert {"openai", "nemotron"} <= set(CLIENTS.names())
    assert CLIENTS.get("openai") is AsyncOpenAIClient
    assert CLIENTS.get("NeMoTrOn") is AsyncNemotronClient


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown client kind 'vllm-magic'; known: .*nemotron, openai"):
        ClientSpec(kind="vllm-magic")


def test_build_uses_the_spec_and_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MY_ENDPOINT_KEY", SECRET)
    spec = ClientSpec(
        base_url="http://127.0.0.1:9/v1",
        api_key_env="MY_ENDPOINT_KEY",
        max_concurrency=10,
        rpm=600,
        tpm=90_000,
        max_retries=2,
        timeout=12.5,
        transport="httpx",
        options={"on_truncated": "raise", "default_headers": {"X-Team": "data"}},
    ).with_cache_dir(tmp_path)
    client = spec.build()
    assert isinstance(client, AsyncOpenAIClient)
    assert client.base_url == "http://127.0.0.1:9/v1"
    assert client.connection.api_key == Secret(SECRET)
    assert client.connection.timeout == 12.5
    assert client.connection.max_connections == 10
    assert dict(client.connection.headers) == {"X-Team": "data"}
    assert client.transport_name == "httpx"
    assert client.on_truncated == "raise"
    assert client.cache_dir == str(tmp_path)
    assert client._engine.retry.max_retries == 2
    assert (client._engine.limits.rpm, client._engine.limits.tpm) == (600, 90_000)


def test_build_takes_a_share_of_the_budget() -> None:
    spec = ClientSpec(base_url="http://127.0.0.1:9/v1", max_concurrency=10, rpm=600, tpm=90_000)
    half = spec.build(share=0.5)
    assert half.connection.max_connections == 5  # type: ignore[attr-defined]
    assert (half._engine.limits.rpm, half._engine.limits.tpm) == (300, 45_000)  # type: ignore[attr-defined]
    third = spec.scaled(1 / 3)
    assert (third.max_concurrency, third.rpm, third.tpm) == (3, pytest.approx(200), pytest.approx(30_000))
    assert 3 * third.max_concurrency <= spec.max_concurrency, "shares never add up to more than the budget"
    assert spec.scaled(1 / 64).max_concurrency == 1, "at least one request in flight"
    assert spec.scaled(1) is spec
    assert ClientSpec(max_concurrency=8).scaled(0.5).rpm is None
    for bad in (0, -0.5, 1.5, "half"):
        with pytest.raises(ConfigError, match="share must be in"):
            spec.build(share=bad)  # type: ignore[arg-type]


def test_default_key_variable_follows_the_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NVIDIA_API_KEY", "nvapi-from-env")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.delenv("NVIDIA_BASE_URL", raising=False)
    nim = ClientSpec(kind="nemotron")
    assert nim.key_env_vars == ("NVIDIA_API_KEY",)
    client = nim.build()
    assert isinstance(client, AsyncNemotronClient)
    assert client.base_url == NIM_BASE_URL
    assert client.connection.api_key == Secret("nvapi-from-env")
    assert ClientSpec().key_env_vars == ("OPENAI_API_KEY",)
    assert ClientSpec(base_url="http://127.0.0.1:9/v1").build().connection.api_key == Secret("sk-from-env")  # type: ignore[attr-defined]
    monkeypatch.delenv("OPENAI_API_KEY")
    assert ClientSpec(base_url="http://127.0.0.1:9/v1").build().connection.api_key is None  # type: ignore[attr-defined]


def test_a_named_key_variable_that_is_not_set_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CURATOR_SYNTH_NOT_SET", raising=False)
    spec = ClientSpec(base_url="http://127.0.0.1:9/v1", api_key_env="CURATOR_SYNTH_NOT_SET")
    with pytest.raises(ConfigError, match=r"CURATOR_SYNTH_NOT_SET \(api_key_env\) is not set"):
        spec.build()


def test_the_key_is_never_pickled_or_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_ENDPOINT_KEY", SECRET)
    spec = ClientSpec(
        base_url="http://127.0.0.1:9/v1",
        api_key_env="MY_ENDPOINT_KEY",
        options={"default_headers": {"X-Api-Token": "tok-123"}, "on_truncated": "retry"},
    )
    blob = pickle.dumps(spec)
    assert SECRET.encode() not in blob
    text = repr(spec)
    assert SECRET not in text
    assert "tok-123" not in text, "header values may hold credentials"
    assert "'default_headers': '***'" in text
    assert "'on_truncated': 'retry'" in text
    assert "MY_ENDPOINT_KEY" in text
    assert SECRET not in repr(spec.build())
    # a key pasted where the variable name goes is refused without being echoed
    with pytest.raises(ConfigError, match="name of an environment variable") as caught:
        ClientSpec(api_key_env=SECRET)
    assert SECRET not in str(caught.value)
    for forbidden in ("api_key", "client"):
        with pytest.raises(ConfigError, match=f"may not hold '{forbidden}'"):
            ClientSpec(options={forbidden: SECRET})


def test_specs_are_frozen_values_that_survive_pickling(tmp_path: Path) -> None:
    spec = ClientSpec(kind="nemotron", max_concurrency=4, cache_dir=tmp_path, options={"on_truncated": "retry"})
    assert spec.cache_dir == str(tmp_path)
    copy = pickle.loads(pickle.dumps(spec))
    assert copy == spec
    assert hash(copy) == hash(spec)
    assert dict(copy.options) == {"on_truncated": "retry"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.max_concurrency = 8  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.options["on_truncated"] = "raise"  # type: ignore[index]
    assert spec.with_cache_dir(None).cache_dir is None
    assert spec.with_cache_dir(tmp_path / "j").cache_dir == str(tmp_path / "j")
    assert spec != spec.with_cache_dir(None)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"base_url": "127.0.0.1:8000"}, "base_url must start with"),
        ({"max_concurrency": 0}, "max_concurrency must be >= 1"),
        ({"max_concurrency": 2.5}, "max_concurrency must be an int"),
        ({"rpm": 0}, "rpm must be a positive number"),
        ({"tpm": -1}, "tpm must be a positive number"),
        ({"max_retries": -1}, "max_retries must be an int >= 0"),
        ({"timeout": 0}, "timeout must be positive"),
        ({"transport": "carrier-pigeon"}, "transport must be one of"),
        ({"options": {"bogus": 1}}, r"client kind 'openai' does not take \['bogus'\]"),
        ({"options": {"max_concurrency": 3}}, "'max_concurrency' is a ClientSpec field"),
        ({"options": ["on_truncated"]}, "options must be a mapping"),
    ],
)
def test_invalid_specs_fail_where_they_are_made(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ClientSpec(**fields)


class _InProcessClient(AsyncLLMClient):
    """A kind with its own options and none of the endpoint's (like an in-process model client)."""

    def __init__(self, *, model_path: str, max_concurrency: int = 1) -> None:
        self.model_path = model_path
        self.max_concurrency = max_concurrency

    async def query_model(self, **kwargs: Any) -> list[str]:
        return [f"local answer from {self.model_path}"]

    async def query_reward_model(self, **kwargs: Any) -> dict[str, float]:
        return {}


CLIENTS.add("test-in-process", _InProcessClient)


def test_other_kinds_take_only_their_own_options() -> None:
    spec = ClientSpec(kind="test-in-process", max_concurrency=8, options={"model_path": "/models/tiny"})
    client = spec.build(share=0.25)
    assert isinstance(client, _InProcessClient)
    assert (client.model_path, client.max_concurrency) == ("/models/tiny", 2)
    with pytest.raises(ConfigError, match=r"does not take \['base_url', 'rpm'\]"):
        ClientSpec(kind="test-in-process", base_url="http://127.0.0.1:9/v1", rpm=60, options={"model_path": "m"})


async def test_a_built_client_talks_to_the_endpoint_with_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_ENDPOINT_KEY", SECRET)
    with FakeLLMServer(Echo(prefix="> "), api_key=SECRET) as server:
        spec = ClientSpec(base_url=server.base_url, api_key_env="MY_ENDPOINT_KEY", max_retries=0)
        async with pickle.loads(pickle.dumps(spec)).build() as client:
            assert await client.query_model(messages=[{"role": "user", "content": "hi"}], model="m") == ["> hi"]
        assert server.stats()["by_status"] == {"200": 1}
