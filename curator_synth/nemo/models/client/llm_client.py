"""NeMo Curator 1.x's client contracts (``nemo_curator.models.client.llm_client``).

- :class:`GenerationConfig`: the sampling settings as one dataclass, with 1.x's defaults (``max_tokens`` 2048,
  ``n`` 1, ``seed`` 0, ``temperature`` 0.0, ``top_p`` 0.95). ``query_model`` takes it or a dict of its fields;
  an unknown field is a ``TypeError`` naming it, never dropped.
- :class:`LLMClient`: abstract ``setup()`` and ``query_model``.
- :class:`AsyncLLMClient`: a subclass implements ``setup()`` and ``_query_model_impl``; ``query_model`` adds the
  concurrency bound (``max_concurrent_requests``, one semaphore per event loop) and the retries (``max_retries``,
  ``base_delay``).

A failure is retried when its *type* says it is transient: a 429 (after the server's ``Retry-After`` when it
sent one), a 5xx, 408 or 409, a connection or timeout error, from the openai SDK, httpx, Python itself or
curator_synth (``retryable``). NeMo 1.x decides by searching the error's message for "429", "rate" or
"connection"; here a 400 whose message mentions a rate is not retried, and a 503 is. Every other error is raised
at once. The wait is ``base_delay * 2**attempt`` plus up to a second of jitter, as in 1.x.
"""

from __future__ import annotations

import asyncio
import logging
import random
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import httpx
import openai

from curator_synth.clients.protocol import parse_retry_after
from curator_synth.errors import ConfigError, CuratorSynthError, status_error_for
from curator_synth.nemo.services.conversation_formatter import ConversationFormatter
from curator_synth.redact import redact

__all__ = ["AsyncLLMClient", "ConversationFormatter", "GenerationConfig", "LLMClient", "as_generation_config"]

log = logging.getLogger(__name__)
T = TypeVar("T")
_TRANSIENT_TYPES = (openai.APIConnectionError, httpx.TransportError, ConnectionError, TimeoutError)


@dataclass
class GenerationConfig:
    """Sampling settings of a ``query_model`` call (NeMo Curator 1.x's fields and defaults)."""

    max_tokens: int | None = 2048
    n: int | None = 1
    seed: int | None = 0
    stop: str | list[str] | None = None
    stream: bool = False
    temperature: float | None = 0.0
    top_k: int | None = None
    top_p: float | None = 0.95
    extra_kwargs: dict[str, Any] | None = None


def as_generation_config(config: GenerationConfig | Mapping[str, Any] | None) -> GenerationConfig:
    """``config`` as a :class:`GenerationConfig` (None: the defaults; a dict: its fields, an unknown one refused)."""
    if config is None:
        return GenerationConfig()
    if isinstance(config, GenerationConfig):
        return config
    if isinstance(config, Mapping):
        unknown = sorted(set(config) - {field.name for field in fields(GenerationConfig)})
        if unknown:
            raise TypeError(
                f"generation_config has unknown field(s) {', '.join(map(repr, unknown))}; GenerationConfig takes"
                f" {', '.join(field.name for field in fields(GenerationConfig))} (endpoint-specific request fields"
                " go in extra_kwargs)"
            )
        return GenerationConfig(**config)
    raise TypeError(f"generation_config must be a GenerationConfig, a dict or None, got {type(config).__name__}")


class LLMClient(ABC):
    """A client that queries an LLM and blocks (NeMo Curator 1.x's contract)."""

    @abstractmethod
    def setup(self) -> None:
        """Make the connection (called by ``query_model`` on first use if the caller did not)."""

    @abstractmethod
    def query_model(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        conversation_formatter: ConversationFormatter | None = None,
        generation_config: GenerationConfig | Mapping[str, Any] | None = None,
    ) -> list[str]:
        """The generated texts (``generation_config.n`` of them) for a chat conversation."""


def transient(error: BaseException) -> bool:
    """Whether ``error``'s type says that asking again may succeed (see the module)."""
    if isinstance(error, CuratorSynthError):
        return error.retryable
    if isinstance(error, openai.APIStatusError):  # the class curator_synth gives that status decides
        return status_error_for(error.status_code).retryable
    return isinstance(error, _TRANSIENT_TYPES)


def _retry_after(error: BaseException) -> float | None:
    """The server's ``Retry-After`` in seconds, when the error carries an HTTP answer that has one."""
    hint = getattr(error, "retry_after", None)
    if hint is not None:
        return float(hint)
    response = getattr(error, "response", None)
    return parse_retry_after(response.headers) if response is not None else None


class AsyncLLMClient(ABC):
    """A client that queries an LLM with coroutines, bounded and retried (NeMo Curator 1.x's contract)."""

    def __init__(self, max_concurrent_requests: int = 5, max_retries: int = 3, base_delay: float = 1.0) -> None:
        if isinstance(max_concurrent_requests, bool) or not isinstance(max_concurrent_requests, int):
            raise ConfigError(f"max_concurrent_requests must be an int >= 1, got {max_concurrent_requests!r}")
        if max_concurrent_requests < 1 or max_retries < 0 or base_delay < 0:
            raise ConfigError(
                "need max_concurrent_requests >= 1, max_retries >= 0 and base_delay >= 0, got "
                f"{max_concurrent_requests}, {max_retries} and {base_delay}"
            )
        self.max_concurrent_requests = max_concurrent_requests
        self.max_retries = max_retries
        self.base_delay = base_delay
        self._semaphore: asyncio.Semaphore | None = None
        self._semaphore_loop: asyncio.AbstractEventLoop | None = None

    @abstractmethod
    def setup(self) -> None:
        """Make the connection (called on first use if the caller did not)."""

    @abstractmethod
    async def _query_model_impl(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        conversation_formatter: ConversationFormatter | None = None,
        generation_config: GenerationConfig | Mapping[str, Any] | None = None,
    ) -> list[str]:
        """One attempt of the query, without the concurrency bound or retries (what a subclass implements)."""

    async def query_model(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        conversation_formatter: ConversationFormatter | None = None,
        generation_config: GenerationConfig | Mapping[str, Any] | None = None,
    ) -> list[str]:
        """The generated texts, within ``max_concurrent_requests`` and retried on transient failures."""
        config = as_generation_config(generation_config)
        return await self._execute_with_retries(
            lambda: self._query_model_impl(
                messages=messages, model=model, conversation_formatter=conversation_formatter,
                generation_config=config,
            )
        )  # fmt: skip

    def _bound(self) -> asyncio.Semaphore:
        """The semaphore of the running event loop (a new loop, e.g. another ``asyncio.run``, gets a new one)."""
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._semaphore_loop is not loop:
            self._semaphore = asyncio.Semaphore(self.max_concurrent_requests)
            self._semaphore_loop = loop
        return self._semaphore

    async def _execute_with_retries(self, request: Callable[[], Awaitable[T]]) -> T:
        """``request()`` within the bound, tried again after a transient failure while retries remain."""
        async with self._bound():
            attempt = 0
            while True:
                try:
                    return await request()
                except Exception as error:
                    if attempt >= self.max_retries or not transient(error):
                        raise
                    hint = _retry_after(error)
                    wait = hint if hint is not None else self.base_delay * 2**attempt + random.random()
                    attempt += 1
                    log.warning(
                        "%s: %s; attempt %d of %d in %.1f s",
                        type(self).__name__, redact(str(error))[:200], attempt + 1, self.max_retries + 1, wait,
                    )  # fmt: skip
                    await asyncio.sleep(wait)
