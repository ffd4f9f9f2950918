"""Options several commands share, and a recipe loaded with the endpoint flags and ``--set`` applied.

``run``, ``inspect``, ``preview`` and ``check`` point a recipe at an endpoint without editing it: ``--base-url``,
``--model``, ``--api-key-env`` and ``--set key.path=value`` change the recipe before it is validated. A new
``--base-url`` drops the recipe's ``api_key_env`` unless ``--api-key-env`` is given too: the key of the recipe's
endpoint is not sent to another one (a keyless local server then gets no key, or ``$OPENAI_API_KEY`` if set).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from curator_synth.clients.settings import ClientSettings

if TYPE_CHECKING:
    from curator_synth.pipeline import PipelineConfig

__all__ = [
    "ApiKeyEnv",
    "BaseUrl",
    "ClientKind",
    "MaxConcurrency",
    "Model",
    "RecipeSets",
    "Scheduler",
    "StageSets",
    "recipe_config",
]

_DEFAULTS = ClientSettings.defaults()

Model = Annotated[Optional[str], typer.Option(help="Model name as the endpoint knows it.")]  # noqa: UP045
BaseUrl = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional on 3.10
    typer.Option(help="OpenAI-compatible base URL, e.g. http://localhost:8000/v1 (default: the client's)."),
]
ApiKeyEnv = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(help="NAME of the environment variable holding the API key (default: the client's own)."),
]


def _concurrency(value: str) -> int | str:
    """``--max-concurrency``: a number, or ``auto`` (tuned from the endpoint's latencies)."""
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise typer.BadParameter(f"must be an int >= 1 or 'auto', got {value!r}") from None


MaxConcurrency = Annotated[
    Optional[str],  # noqa: UP045 - an int, or "auto"
    typer.Option(
        parser=_concurrency,
        metavar="N|auto",
        help=f"Requests in flight at most, or auto: tuned to the endpoint (default {_DEFAULTS['max_concurrency']}).",
        show_default=False,
    ),
]
ClientKind = Annotated[str, typer.Option(help="Client kind: openai, or nemotron (NVIDIA NIM defaults).")]
Scheduler = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(help="Run the partitions on this Dask scheduler (default: in this process)."),
]
StageSets = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--set", metavar="KEY=VALUE", help="A stage option, VALUE parsed as YAML (a.b=1 nests). Repeatable."),
]
RecipeSets = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--set",
        metavar="KEY.PATH=VALUE",
        help="Change the recipe before it is checked, VALUE parsed as YAML: e.g. stages.sample.n=50 (a stage by"
        " name or position), client.max_concurrency=8, seed=3. Repeatable.",
    ),
]


def recipe_config(
    recipe: Path,
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    sets: list[str] | None = None,
) -> PipelineConfig:
    """The recipe with the endpoint flags, then each ``--set``, applied (a bad one is a ConfigError: exit 2)."""
    from curator_synth.pipeline import load_config
    from curator_synth.pipeline.recipe_keys import parse_overrides

    overrides: list[tuple[str, Any]] = []
    if model is not None:
        overrides.append(("model", model))
    if base_url is not None:
        overrides.append(("client.base_url", base_url))
        overrides.append(("client.api_key_env", api_key_env))
    elif api_key_env is not None:
        overrides.append(("client.api_key_env", api_key_env))
    return load_config(recipe, [*overrides, *parse_overrides(sets or [])])
