"""What the API accepts where it needs a client or a model: :func:`as_async_client` (the async view of any client)
and :func:`resolve_client` (a client or a model, turned into a client and a model name).

The seed pipeline's simple API (:class:`~curator_synth.pipeline.SyntheticDataGenerator`,
:class:`~curator_synth.reward.RewardModel`, :func:`~curator_synth.pipeline.run_simple_pipeline`,
:class:`~curator_synth.pipeline.SyntheticDataPipeline`) takes either

- a client object: any :class:`~curator_synth.clients.base.AsyncLLMClient` or
  :class:`~curator_synth.clients.base.LLMClient` (``AsyncOpenAIClient``, ``NemotronClient``, a
  ``TransformersClient``, your own), used as it is; or
- a Hugging Face model: a ``transformers.PreTrainedModel`` (with its tokenizer), or the path of a local model
  directory (one with a ``config.json``), run in this process by
  :class:`~curator_synth.clients.transformers.AsyncTransformersClient` (the ``transformers`` extra).

Anything else is a :class:`~curator_synth.errors.ConfigError` saying what was given and what is accepted.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from curator_synth.clients.base import AsyncLLMClient, LLMClient
from curator_synth.errors import ConfigError, MissingDependencyError

__all__ = ["as_async_client", "is_client", "is_hf_model", "resolve_client"]

ACCEPTED = (
    "an LLM client (AsyncOpenAIClient, OpenAIClient, NemotronClient, TransformersClient, any LLMClient or "
    "AsyncLLMClient), a Hugging Face PreTrainedModel (with its tokenizer), or the path of a local model directory"
)


async def call_in_thread(client: object, method: str, kwargs: Mapping[str, Any]) -> Any:
    """``client.<method>(**kwargs)`` in a worker thread. A ``StopIteration`` it raises (an exhausted mock's
    ``side_effect``) becomes a ``RuntimeError``: it cannot cross into a future, and the caller would wait forever."""

    def invoke() -> Any:
        try:
            return getattr(client, method)(**kwargs)
        except StopIteration as error:
            raise RuntimeError(f"{type(client).__name__}.{method} raised StopIteration") from error

    return await asyncio.to_thread(invoke)


class _ThreadedAsyncClient(AsyncLLMClient):
    """Adapts a blocking :class:`LLMClient` with no async core: each call runs in a worker thread."""

    def __init__(self, client: LLMClient) -> None:
        self.client = client

    async def query_model(self, **kwargs: Any) -> list[str]:
        answer: list[str] = await call_in_thread(self.client, "query_model", kwargs)
        return answer

    async def query_reward_model(self, **kwargs: Any) -> dict[str, float]:
        scores: dict[str, float] = await call_in_thread(self.client, "query_reward_model", kwargs)
        return scores


def as_async_client(client: AsyncLLMClient | LLMClient) -> AsyncLLMClient:
    """The async view of any client (a sync facade's own async core, so limits and journal are shared)."""
    if isinstance(client, AsyncLLMClient):
        return client
    core = getattr(client, "async_client", None)
    if isinstance(core, AsyncLLMClient):
        return core
    if isinstance(client, LLMClient):
        return _ThreadedAsyncClient(client)
    raise ConfigError(f"expected an LLMClient or AsyncLLMClient, got {type(client).__name__}")


def is_client(value: object) -> bool:
    """True for an :class:`AsyncLLMClient` or :class:`LLMClient` (or an object wrapping one in ``async_client``)."""
    return isinstance(value, (AsyncLLMClient, LLMClient)) or isinstance(
        getattr(value, "async_client", None), AsyncLLMClient
    )


def is_hf_model(value: object) -> bool:
    """True for a ``transformers.PreTrainedModel``, or a model that behaves like one (a ``generate`` method and a
    ``config``, e.g. a PEFT model). Checked without importing transformers: such an object implies it is loaded."""
    if "transformers" not in sys.modules or isinstance(value, type):
        return False
    pretrained = getattr(sys.modules["transformers"], "PreTrainedModel", None)
    if isinstance(pretrained, type) and isinstance(value, pretrained):
        return True
    return callable(getattr(value, "generate", None)) and getattr(value, "config", None) is not None


def _model_directory(value: object) -> Path | None:
    if not isinstance(value, (str, os.PathLike)):
        return None
    path = Path(os.path.expanduser(os.fspath(value)))
    if not path.is_dir():
        raise ConfigError(
            f"{os.fspath(value)!r} is not a directory: a string is accepted only as the path of a local model "
            "directory (for an endpoint, pass a client such as AsyncOpenAIClient(base_url=...))"
        )
    if not (path / "config.json").is_file():
        raise ConfigError(f"{path} is not a Hugging Face model directory (it has no config.json)")
    return path


def _transformers_client(model: Any, tokenizer: Any, model_name: str | None) -> Any:
    try:
        from curator_synth.clients.transformers import AsyncTransformersClient
    except MissingDependencyError:
        raise
    except ImportError as error:
        missing = error.name if error.name in ("torch", "tokenizers", "transformers") else "transformers"
        raise MissingDependencyError(missing, "transformers", "Running a Hugging Face model in process") from error
    return AsyncTransformersClient(model, tokenizer, model_name=model_name)


def _name_of(client: Any) -> str | None:
    """The model name a client knows for itself (``model_name``, or a string ``model``), if any."""
    for attribute in ("model_name", "model"):
        value = getattr(client, attribute, None)
        if isinstance(value, str) and value:
            return value
    return None


def resolve_client(
    model_or_client: Any, tokenizer: Any = None, *, model_name: str | None = None
) -> tuple[AsyncLLMClient | LLMClient, str | None]:
    """The client for ``model_or_client`` and the model name to send with its requests.

    A client object is returned as it is (blocking or async: generators take its async view with
    :func:`as_async_client`); ``tokenizer`` must then be None. A Hugging Face
    model, or a local model directory, becomes an ``AsyncTransformersClient`` (imported only then). The name is
    ``model_name`` when given, else the client's own (``model_name`` or a string ``model`` attribute), else None:
    endpoint clients usually need ``model=`` from the caller.
    """
    if model_name is not None and (not isinstance(model_name, str) or not model_name):
        raise ConfigError(f"model_name must be a non-empty string, got {model_name!r}")
    if model_or_client is None:
        raise ConfigError(f"no model given: pass {ACCEPTED}")
    if is_client(model_or_client):
        if tokenizer is not None:
            raise ConfigError(
                f"a tokenizer goes with a Hugging Face model, not with a client ({type(model_or_client).__name__})"
            )
        return model_or_client, model_name or _name_of(model_or_client)
    directory = None if is_hf_model(model_or_client) else _model_directory(model_or_client)
    if directory is not None or is_hf_model(model_or_client):
        model = str(directory) if directory is not None else model_or_client
        client = _transformers_client(model, tokenizer, model_name)
        return client, model_name or _name_of(client)
    raise ConfigError(
        f"cannot use {type(model_or_client).__name__} {model_or_client!r:.80} as a model: pass {ACCEPTED}"
    )
