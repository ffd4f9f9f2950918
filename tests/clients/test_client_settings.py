"""ClientSettings: the one description of a client's settings, behind the constructors, ClientSpec, a recipe's
client: section and the CLI flags — one set of defaults, one check, the same words for a mistake everywhere."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from curator_synth.clients import AsyncNemotronClient, AsyncOpenAIClient, ClientOptions
from curator_synth.clients.factory import ClientSpec
from curator_synth.clients.settings import ClientSettings, checked_context_length
from curator_synth.errors import ConfigError
from curator_synth.pipeline import PipelineConfig
from curator_synth.pipeline.config import ClientConfig

BASE = "http://127.0.0.1:9/v1"
RECIPE = {"name": "r", "model": "m", "stages": [{"stage": "load", "path": "in.jsonl"}]}


def _keywords(function: Any) -> dict[str, inspect.Parameter]:
    return {p.name: p for p in inspect.signature(function).parameters.values() if p.kind is p.KEYWORD_ONLY}


def test_constructor_keywords_are_the_settings_with_their_defaults() -> None:
    keywords = _keywords(AsyncOpenAIClient.__init__)
    for name, default in ClientSettings.defaults().items():
        assert name in keywords, f"AsyncOpenAIClient takes no {name!r}"
        assert keywords[name].default == default, f"{name}: the constructor's default differs from the settings'"


def test_the_blocking_clients_options_type_every_constructor_keyword() -> None:
    assert set(get_type_hints(ClientOptions)) == set(_keywords(AsyncOpenAIClient.__init__))


def test_a_client_keeps_its_checked_settings() -> None:
    client = AsyncOpenAIClient(base_url=BASE, max_concurrency=7, rpm=60, cache_dir=Path("/tmp/j"), timeout=5)
    assert client.settings == ClientSettings(base_url=BASE, max_concurrency=7, rpm=60, cache_dir="/tmp/j", timeout=5.0)
    assert client.connection.max_connections == 7
    assert client._engine.limits.rpm == 60
    nim = AsyncNemotronClient(api_key="nvapi-x")
    assert nim.settings.base_url == nim.base_url


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"max_concurrency": 0}, "max_concurrency must be >= 1 or 'auto', got 0"),
        ({"max_concurrency": True}, "max_concurrency must be an int, got True"),
        ({"timeout": -1}, "timeout must be positive seconds or None, got -1"),
        ({"rpm": "fast"}, "rpm must be a number, got 'fast'"),
        ({"max_error_rate": 1.5}, r"max_error_rate must be in \(0, 1\] or None, got 1.5"),
        ({"context_length": 0}, "context_length must be a positive int or None, got 0"),
        ({"base_url": "localhost:8000"}, "base_url must start with http:// or https://"),
        ({"transport": "pigeon"}, "transport must be one of"),
    ],
)
def test_one_check_and_one_message_wherever_a_setting_is_given(values: dict[str, Any], message: str) -> None:
    makers = [
        lambda: ClientSettings(**values),
        lambda: ClientSpec(**values),
        lambda: AsyncOpenAIClient(**{"base_url": BASE, **values}),
    ]
    for make in makers:
        with pytest.raises(ConfigError, match=message):
            make()


def test_a_recipe_reports_a_bad_setting_at_its_key() -> None:
    with pytest.raises(ConfigError, match=r"client\.max_concurrency: Input should be greater than or equal to 1"):
        PipelineConfig.from_dict({**RECIPE, "client": {"max_concurrency": 0}})
    with pytest.raises(ConfigError, match=r"client\.kind: .*unknown client kind 'vlm'"):
        PipelineConfig.from_dict({**RECIPE, "client": {"kind": "vlm"}})
    with pytest.raises(ConfigError, match=r"client\.cache_dir: .*journals in its output directory"):
        PipelineConfig.from_dict({**RECIPE, "client": {"cache_dir": "/tmp/j"}})


def test_the_recipe_section_is_the_spec_its_clients_are_built_from() -> None:
    section = {"base_url": BASE, "max_concurrency": 8, "rpm": 120, "options": {"on_truncated": "retry"}}
    config = PipelineConfig.from_dict({**RECIPE, "client": {**section, "check": False}})
    assert isinstance(config.client, ClientConfig)
    assert isinstance(config.client, ClientSpec)
    spec = config.client.spec()
    assert type(spec) is ClientSpec
    assert spec == ClientSpec(**section)
    client = spec.build()
    assert (client.settings.max_concurrency, client.settings.rpm) == (8, 120)  # type: ignore[attr-defined]
    assert client.on_truncated == "retry"  # type: ignore[attr-defined]


def test_settings_are_frozen_like_the_other_client_configs() -> None:
    settings = ClientSettings(max_concurrency=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.max_concurrency = 4  # type: ignore[misc]
    assert settings.model_copy(update={"max_concurrency": 4}).max_concurrency == 4
    with pytest.raises(ConfigError, match="unknown setting 'max_concurency'"):
        ClientSettings(max_concurency=3)


def test_the_simulator_checks_its_context_length_as_a_client_setting() -> None:
    assert checked_context_length(None) is None
    assert checked_context_length(2048) == 2048
    with pytest.raises(ConfigError, match="context_length must be a positive int or None"):
        checked_context_length(-5)


def test_the_cli_flags_are_checked_as_the_recipe_section(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from curator_synth.cli import app

    args = ["generate", "self_instruct", "-o", str(tmp_path / "out.jsonl"), "--model", "m", "--base-url", BASE]
    result = CliRunner().invoke(app, [*args, "--max-concurrency", "0"])
    assert result.exit_code == 2, result.output
    assert "client.max_concurrency: Input should be greater than or equal to 1" in result.output
    result = CliRunner().invoke(app, [*args, "--client-kind", "vlm"])
    assert result.exit_code == 2, result.output
    assert "unknown client kind 'vlm'" in result.output
    assert not (tmp_path / "out.jsonl").exists()


def test_credentials_in_the_url_never_show_in_a_settings_repr() -> None:
    url = "http://alice:pw-settings-777@127.0.0.1:9/v1?api_key=key-settings-888"
    for text in (repr(ClientSettings(base_url=url)), str(ClientSettings(base_url=url)),
                 repr(AsyncOpenAIClient(base_url=url).settings), repr(ClientSpec(base_url=url))):  # fmt: skip
        assert "pw-settings-777" not in text, text
        assert "key-settings-888" not in text, text
        assert "127.0.0.1:9" in text
