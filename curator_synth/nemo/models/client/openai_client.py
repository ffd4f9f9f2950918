"""NeMo Curator 1.x's OpenAI clients (``nemo_curator.models.client.openai_client``).

``OpenAIClient(**kwargs)`` and ``AsyncOpenAIClient(max_concurrent_requests, max_retries, base_delay, **kwargs)``
keep the keyword arguments for the SDK (``base_url``, ``api_key``, ``organization``, ``default_headers``, ...;
``timeout`` is taken apart, default 120 s, and sent with each request). ``setup()`` builds the ``openai.OpenAI``
/ ``openai.AsyncOpenAI`` instance from them as ``self.client``; ``query_model`` calls it on first use if the
caller did not. Each query calls ``self.client.chat.completions.create`` with the :class:`GenerationConfig`'s
fields, then its ``extra_kwargs`` (a field they replace is logged). As in 1.x, ``conversation_formatter`` and
``top_k`` do not apply to the chat API and are ignored with a ``UserWarning``; ``stream=True`` is refused
(answers are read whole), where 1.x fails on the stream object. An ``AsyncOpenAIClient`` used from another event
loop than before (a second ``asyncio.run``) calls ``setup()`` again, because an ``AsyncOpenAI``'s connections
belong to the loop that made them; 1.x fails there with "Event loop is closed".

An API key given here is registered for redaction: it never appears in this project's logs or errors.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import openai

from curator_synth.errors import ConfigError
from curator_synth.nemo.models.client.llm_client import (
    AsyncLLMClient,
    ConversationFormatter,
    GenerationConfig,
    LLMClient,
    as_generation_config,
)
from curator_synth.nemo.services.openai_client import choice_texts, query_arguments
from curator_synth.redact import register_secret

__all__ = ["AsyncOpenAIClient", "OpenAIClient"]

log = logging.getLogger(__name__)


class _SDKOptions:
    """The SDK's keyword arguments and the per-request timeout, kept for ``setup()``."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self.timeout = kwargs.pop("timeout", 120)
        self.openai_kwargs = kwargs
        if isinstance(kwargs.get("api_key"), str):
            register_secret(kwargs["api_key"])

    def create_arguments(
        self,
        kind: str,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        formatter: ConversationFormatter | None,
        generation_config: GenerationConfig | Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        """``chat.completions.create``'s arguments for one query."""
        config = as_generation_config(generation_config)
        if config.stream:
            raise ConfigError(f"stream=True is not supported by {kind}: answers are read whole")
        arguments = query_arguments(
            kind, {}, formatter, config.top_k, messages=messages, model=model, max_tokens=config.max_tokens,
            n=config.n, seed=config.seed, stop=config.stop, stream=False, temperature=config.temperature,
            top_p=config.top_p, timeout=self.timeout,
        )  # fmt: skip
        extra = dict(config.extra_kwargs or {})
        replaced = sorted(set(extra) & set(arguments))
        if replaced:
            log.warning("%s: generation_config.extra_kwargs replace %s", kind, ", ".join(replaced))
        return {**arguments, **extra}

    def __repr__(self) -> str:
        return f"base_url={self.openai_kwargs.get('base_url')!r}, timeout={self.timeout!r}"


class OpenAIClient(LLMClient):
    """Blocking queries through an ``openai.OpenAI`` built by :meth:`setup` from the keyword arguments."""

    client: openai.OpenAI

    def __init__(self, **kwargs: Any) -> None:
        self._sdk = _SDKOptions(kwargs)
        self.timeout = self._sdk.timeout
        self.openai_kwargs = self._sdk.openai_kwargs

    def setup(self) -> None:
        self.client = openai.OpenAI(**self.openai_kwargs)

    def query_model(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        conversation_formatter: ConversationFormatter | None = None,
        generation_config: GenerationConfig | Mapping[str, Any] | None = None,
    ) -> list[str]:
        arguments = self._sdk.create_arguments(
            "OpenAIClient", messages, model, conversation_formatter, generation_config
        )
        if not hasattr(self, "client"):
            self.setup()
        return choice_texts(self.client.chat.completions.create(**arguments))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._sdk!r})"


class AsyncOpenAIClient(AsyncLLMClient):
    """Queries through an ``openai.AsyncOpenAI`` built by :meth:`setup`, bounded and retried by the base class."""

    client: openai.AsyncOpenAI

    def __init__(
        self, max_concurrent_requests: int = 5, max_retries: int = 3, base_delay: float = 1.0, **kwargs: Any
    ) -> None:
        super().__init__(max_concurrent_requests, max_retries, base_delay)
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._sdk = _SDKOptions(kwargs)
        self.timeout = self._sdk.timeout
        self.openai_kwargs = self._sdk.openai_kwargs

    def setup(self) -> None:
        self.client = openai.AsyncOpenAI(**self.openai_kwargs)

    async def _query_model_impl(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        conversation_formatter: ConversationFormatter | None = None,
        generation_config: GenerationConfig | Mapping[str, Any] | None = None,
    ) -> list[str]:
        response = await self._query_model_response_impl(
            messages=messages, model=model, conversation_formatter=conversation_formatter,
            generation_config=generation_config,
        )  # fmt: skip
        return choice_texts(response)

    async def query_model_response(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        conversation_formatter: ConversationFormatter | None = None,
        generation_config: GenerationConfig | Mapping[str, Any] | None = None,
    ) -> Any:
        """The SDK's whole ``ChatCompletion`` (usage, finish reasons, logprobs), bounded and retried."""
        return await self._execute_with_retries(
            lambda: self._query_model_response_impl(
                messages=messages, model=model, conversation_formatter=conversation_formatter,
                generation_config=generation_config,
            )
        )  # fmt: skip

    async def _query_model_response_impl(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        conversation_formatter: ConversationFormatter | None = None,
        generation_config: GenerationConfig | Mapping[str, Any] | None = None,
    ) -> Any:
        arguments = self._sdk.create_arguments(
            "AsyncOpenAIClient", messages, model, conversation_formatter, generation_config
        )
        loop = asyncio.get_running_loop()
        if not hasattr(self, "client") or self._client_loop not in (None, loop):
            self.setup()  # an AsyncOpenAI's connections belong to the loop they were made on
        self._client_loop = loop
        return await self.client.chat.completions.create(**arguments)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self._sdk!r}, max_concurrent_requests={self.max_concurrent_requests}, "
            f"max_retries={self.max_retries}, base_delay={self.base_delay})"
        )
