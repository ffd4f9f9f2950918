"""Clients over a Hugging Face causal LM run in this process (the ``transformers`` extra).

:class:`AsyncTransformersClient` answers ``query_model`` with a local ``AutoModelForCausalLM`` and its tokenizer,
given as objects or as the path of a local model directory; :class:`TransformersClient` is its blocking facade.
It is an OpenAI-protocol client whose transport generates in process
(:class:`~curator_synth.clients._hf_generate.InProcessTransport`), so the request engine gives it the same
journal, retries, concurrency window and :class:`~curator_synth.clients.stats.ClientStats` as the endpoint
clients, and the same code paths run for both.

- Prompt: a ``conversation_formatter`` given to ``query_model`` or to the constructor renders the conversation
  into a prompt; else the tokenizer's chat template; else (a base model) the ``single_turn`` formatter.
- ``model=`` of ``query_model`` is accepted for compatibility and not checked: the client serves one model, which
  the journal and the responses call ``model_name``.
- Batching, sampling, ``seed`` and ``stop``: see :mod:`curator_synth.clients._hf_generate` and ``docs/transformers.md``.
- Loading never reaches the network (``local_files_only=True``): a missing directory, config or weights is a
  :class:`~curator_synth.errors.ConfigError` naming the path and the files expected.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, ClassVar, TypedDict

from typing_extensions import Self, Unpack

from curator_synth.clients import protocol
from curator_synth.clients._hf_load import (
    WEIGHT_FILES,
    expand,
    load_model,
    load_pretrained,
    load_tokenizer,
    require_transformers,
)
from curator_synth.clients.bulk import QueryRequest
from curator_synth.clients.config import RetryPolicy
from curator_synth.clients.formatters import (
    FormatsConversations,
    SingleTurnFormatter,
    resolve_formatter,
)
from curator_synth.clients.openai import AsyncOpenAIClient
from curator_synth.clients.sync import SyncClient
from curator_synth.errors import ConfigError

__all__ = [
    "GENERATION_EXTRAS",
    "IN_PROCESS_URL",
    "WEIGHT_FILES",
    "AsyncTransformersClient",
    "TransformersClient",
    "TransformersOptions",
    "load_pretrained",
    "transformers_client",
]

#: The URL the engine's requests are addressed to; nothing ever connects to it (``.invalid`` never resolves).
IN_PROCESS_URL = "http://in-process.invalid/v1"
#: ``query_model`` extra parameters the in-process client applies (per answer, like the named ones).
GENERATION_EXTRAS = {"top_k": int, "repetition_penalty": float}


class TransformersOptions(TypedDict, total=False):
    """Keyword options of :class:`AsyncTransformersClient` (and :class:`TransformersClient`)."""

    model_name: str | None
    cache_dir: str | os.PathLike[str] | None
    max_batch_size: int
    max_concurrency: int | None
    gather_window: float
    default_max_tokens: int
    conversation_formatter: FormatsConversations | str | None
    device: str | None
    dtype: Any
    max_retries: int
    retry: RetryPolicy | None
    on_truncated: protocol.OnTruncated


class AsyncTransformersClient(AsyncOpenAIClient):
    """Async client over a causal LM in this process; the same interface, journal and stats as the endpoint clients.

    - ``model``: a loaded ``PreTrainedModel`` (put in eval mode), or the path of a local model directory (then the
      tokenizer loads from it too unless ``tokenizer`` is given, as an object or a path).
    - ``tokenizer``: needed with a model object, unless the model's ``name_or_path`` is a local directory.
    - ``model_name``: what the journal key and the responses call the model (default: the config's
      ``_name_or_path``, else ``"local-model"``). Change it and the journal no longer matches.
    - ``max_batch_size``: rows (prompts x ``n``) generated together; ``gather_window``: seconds the generator
      waits for more requests before starting a batch that is not full.
    - ``max_concurrency``: requests in flight (default twice ``max_batch_size``: a batch generating, one gathering).
    - ``default_max_tokens``: ``max_tokens`` of requests that give none (part of the journal key).
    - ``conversation_formatter``: render every conversation with it instead of the tokenizer's chat template.
    - ``device`` / ``dtype``: where and how to load a model given by path (``device`` also moves a model object).
    - ``cache_dir``, ``max_retries`` (generation failures such as out-of-memory), ``retry``, ``on_truncated``: as
      for :class:`~curator_synth.clients.openai.AsyncOpenAIClient`.
    """

    key_env_vars: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        model_name: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        max_batch_size: int = 8,
        max_concurrency: int | None = None,
        gather_window: float = 0.01,
        default_max_tokens: int = 256,
        conversation_formatter: FormatsConversations | str | None = None,
        device: str | None = None,
        dtype: Any = None,
        max_retries: int = 2,
        retry: RetryPolicy | None = None,
        on_truncated: protocol.OnTruncated = "return",
    ) -> None:
        require_transformers()
        for name, value in (("max_batch_size", max_batch_size), ("default_max_tokens", default_max_tokens)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an int >= 1, got {value!r}")
        if not isinstance(gather_window, (int, float)) or gather_window < 0:
            raise ConfigError(f"gather_window must be seconds >= 0, got {gather_window!r}")
        if model_name is not None and (not isinstance(model_name, str) or not model_name):
            raise ConfigError(f"model_name must be a non-empty string, got {model_name!r}")
        model, tokenizer = self._resolve(model, tokenizer, device, dtype)
        from curator_synth.clients._hf_generate import BatchGenerator

        self.model_name: str = model_name or getattr(model.config, "_name_or_path", "") or "local-model"
        self.conversation_formatter = resolve_formatter(conversation_formatter)
        self.default_max_tokens = default_max_tokens
        self._generator = BatchGenerator(
            model, tokenizer, model_name=self.model_name, max_batch_size=max_batch_size, gather_window=gather_window
        )
        super().__init__(
            base_url=IN_PROCESS_URL,
            timeout=None,
            max_retries=max_retries,
            max_concurrency=max_concurrency or 2 * max_batch_size,
            cache_dir=cache_dir,
            transport=self._generator.transport_factory,
            on_truncated=on_truncated,
            retry=retry,
        )
        self.transport_name = "in-process"

    @staticmethod
    def _resolve(model: Any, tokenizer: Any, device: str | None, dtype: Any) -> tuple[Any, Any]:
        if isinstance(model, (str, os.PathLike)):
            if tokenizer is None or isinstance(tokenizer, (str, os.PathLike)):
                return load_pretrained(model, tokenizer_path=tokenizer, device=device or "cpu", dtype=dtype)
            return load_model(expand(model), device or "cpu", dtype), tokenizer
        if not callable(getattr(model, "generate", None)) or getattr(model, "config", None) is None:
            raise ConfigError(
                f"model must be a transformers PreTrainedModel or a local model directory, got {type(model).__name__}"
            )
        if isinstance(tokenizer, (str, os.PathLike)):
            tokenizer = load_tokenizer(tokenizer)
        if tokenizer is None:
            source = getattr(model.config, "_name_or_path", "")
            if not source or not expand(source).is_dir():
                raise ConfigError("pass the model's tokenizer: it cannot be found from the model object")
            tokenizer = load_tokenizer(source)
        if device is not None:
            model = model.to(device)
        return model.eval(), tokenizer

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str], **options: Unpack[TransformersOptions]) -> Self:
        """The client of the model in the local directory ``path`` (same options as the constructor)."""
        return cls(path, **options)

    @property
    def model(self) -> Any:
        """The ``PreTrainedModel`` generating the answers."""
        return self._generator.model

    @property
    def tokenizer(self) -> Any:
        return self._generator.tokenizer

    @property
    def generation_stats(self) -> Any:
        """:class:`~curator_synth.clients._hf_generate.GenerationStats`: ``generate()`` calls, rows, seconds."""
        return self._generator.stats

    async def query_reward_model(self, *, messages: Iterable[Mapping[str, Any]], model: str) -> dict[str, float]:
        raise _no_reward_model()

    async def submit(self, query: QueryRequest) -> Any:
        """Run one :class:`QueryRequest` through the engine (journal, retries, stats) and the local model."""
        if query.reward:
            raise _no_reward_model()
        _check_parameters(query)
        formatter = query.conversation_formatter or self.conversation_formatter
        if formatter is None and not self._generator.has_chat_template:
            formatter = SingleTurnFormatter()
        query = replace(
            query,
            model=self.model_name,
            conversation_formatter=formatter,
            max_tokens=query.max_tokens if query.max_tokens is not None else self.default_max_tokens,
        )
        return await super().submit(query)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(model_name={self.model_name!r}, "
            f"max_batch_size={self._generator.max_batch_size}, max_concurrency={self._engine.max_concurrency})"
        )


def _no_reward_model() -> ConfigError:
    return ConfigError(
        "the transformers client runs a causal LM and has no reward-model head: score with RewardModel's "
        "llm_judge or heuristic mode (they work with any client), or use a Nemotron reward endpoint"
    )


def _check_parameters(query: QueryRequest) -> None:
    """Refuse what the local model cannot do, before it is journaled or queued."""
    if query.max_tokens is not None and (
        isinstance(query.max_tokens, bool) or not isinstance(query.max_tokens, int) or query.max_tokens < 1
    ):
        raise ConfigError(f"max_tokens must be an int >= 1 or None, got {query.max_tokens!r}")
    if query.temperature is not None and not (isinstance(query.temperature, (int, float)) and query.temperature >= 0):
        raise ConfigError(f"temperature must be a number >= 0 or None, got {query.temperature!r}")
    if query.top_p is not None and not (isinstance(query.top_p, (int, float)) and 0 < query.top_p <= 1):
        raise ConfigError(f"top_p must be in (0, 1] or None, got {query.top_p!r}")
    if query.seed is not None and (isinstance(query.seed, bool) or not isinstance(query.seed, int)):
        raise ConfigError(f"seed must be an int or None, got {query.seed!r}")
    stop = query.stop
    if stop is not None and not (
        isinstance(stop, str) or (isinstance(stop, (list, tuple)) and all(isinstance(s, str) for s in stop))
    ):
        raise ConfigError(f"stop must be a string or a list of strings, got {stop!r}")
    for name, value in query.extra.items():
        kind = GENERATION_EXTRAS.get(name)
        if kind is None:
            raise ConfigError(
                f"the transformers client does not support the parameter {name!r}; it takes "
                f"{sorted(GENERATION_EXTRAS)} besides the named arguments of query_model"
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"{name} must be a number >= 0, got {value!r}")
        if kind is int and not isinstance(value, int):
            raise ConfigError(f"{name} must be an int, got {value!r}")


def transformers_client(
    *,
    model_path: str,
    tokenizer_path: str | None = None,
    model_name: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    max_concurrency: int | None = None,
    max_retries: int = 2,
    max_batch_size: int = 8,
    gather_window: float = 0.01,
    default_max_tokens: int = 256,
    conversation_formatter: str | None = None,
    device: str = "cpu",
    dtype: str | None = None,
    on_truncated: protocol.OnTruncated = "return",
) -> AsyncTransformersClient:
    """The ``"transformers"`` client kind of :data:`~curator_synth.clients.factory.CLIENTS`.

    Options are picklable (paths and names), so a :class:`~curator_synth.clients.factory.ClientSpec` carries them
    to Dask workers; each worker process loads the model once (``load_pretrained(..., cached=True)``) and every
    client it builds shares it.
    """
    model, tokenizer = load_pretrained(
        model_path, tokenizer_path=tokenizer_path, device=device, dtype=dtype, cached=True
    )
    return AsyncTransformersClient(
        model,
        tokenizer,
        model_name=model_name,
        cache_dir=cache_dir,
        max_concurrency=max_concurrency,
        max_retries=max_retries,
        max_batch_size=max_batch_size,
        gather_window=gather_window,
        default_max_tokens=default_max_tokens,
        conversation_formatter=conversation_formatter,
        on_truncated=on_truncated,
    )


class TransformersClient(SyncClient):
    """Blocking client over a causal LM in this process; same arguments as :class:`AsyncTransformersClient`."""

    def __init__(self, model: Any, tokenizer: Any = None, **options: Unpack[TransformersOptions]) -> None:
        super().__init__(AsyncTransformersClient(model, tokenizer, **options))

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str], **options: Unpack[TransformersOptions]) -> Self:
        """The client of the model in the local directory ``path`` (same options as the constructor)."""
        return cls(path, **options)

    @property
    def model_name(self) -> str:
        return str(self._core.model_name)

    @property
    def generation_stats(self) -> Any:
        return self._core.generation_stats
