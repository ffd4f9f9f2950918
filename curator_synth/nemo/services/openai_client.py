"""NeMo's OpenAI clients: thin wrappers that call the given SDK instance's ``chat.completions.create``.

The request goes through the instance itself, so whatever the caller configured or patched on it (a subclass, a
mocked ``create``, an ``http_client``, its own retries) sees and shapes every call, as in NeMo Curator. Arguments
not given are sent as the SDK's ``NOT_GIVEN`` (the endpoint's defaults apply); ``conversation_formatter`` and
``top_k`` do not apply to OpenAI's chat API and are ignored with a ``UserWarning``. An unknown keyword is a
``TypeError``: nothing is sent that the caller did not name.

For the engine's retries, rate limits, journal and error budget, use :class:`curator_synth.clients.OpenAIClient`
with the same instance (``docs/nemo_migration.md``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from openai import NOT_GIVEN

from curator_synth.clients.base import AsyncLLMClient, LLMClient

__all__ = ["AsyncOpenAIClient", "OpenAIClient"]


def query_arguments(kind: str, extra: Mapping[str, Any], formatter: Any, top_k: Any, **given: Any) -> dict[str, Any]:
    """The ``create`` arguments of a ``query_model`` call (warning about what does not apply)."""
    if extra:
        raise TypeError(f"query_model() got unexpected keyword arguments: {', '.join(sorted(extra))}")
    if formatter is not None:
        warnings.warn(f"conversation_formatter is not used in an {kind}", UserWarning, stacklevel=3)
    if top_k is not None:
        warnings.warn(f"top_k is not used in an {kind}", UserWarning, stacklevel=3)
    return given


def choice_texts(response: Any) -> list[str]:
    return [choice.message.content for choice in response.choices]


def _scores(response: Any, model: str) -> dict[str, float]:
    """A reward model's scores: the tokens and log-probabilities of its first choice."""
    logprobs = response.choices[0].logprobs
    if logprobs is None:
        raise ValueError(f"Logprobs not found. {model} is likely not a reward model.")
    return {score.token: score.logprob for score in logprobs.content}


class OpenAIClient(LLMClient):
    """Blocking queries through an ``openai.OpenAI`` instance (``self.client``)."""

    def __init__(self, openai_client: Any) -> None:
        self.client = openai_client

    def query_model(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        conversation_formatter: Any = None,
        max_tokens: Any = NOT_GIVEN,
        n: Any = NOT_GIVEN,
        seed: Any = NOT_GIVEN,
        stop: Any = NOT_GIVEN,
        stream: Any = False,
        temperature: Any = NOT_GIVEN,
        top_k: Any = None,
        top_p: Any = NOT_GIVEN,
        **extra: Any,
    ) -> list[str]:
        arguments = query_arguments(
            "OpenAIClient", extra, conversation_formatter, top_k, messages=messages, model=model,
            max_tokens=max_tokens, n=n, seed=seed, stop=stop, stream=stream, temperature=temperature, top_p=top_p,
        )  # fmt: skip
        return choice_texts(self.client.chat.completions.create(**arguments))

    def query_reward_model(self, *, messages: Iterable[Mapping[str, Any]], model: str) -> dict[str, float]:
        return _scores(self.client.chat.completions.create(messages=messages, model=model), model)


class AsyncOpenAIClient(AsyncLLMClient):
    """Queries through an ``openai.AsyncOpenAI`` instance (``self.client``)."""

    def __init__(self, async_openai_client: Any) -> None:
        self.client = async_openai_client

    async def query_model(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        conversation_formatter: Any = None,
        max_tokens: Any = NOT_GIVEN,
        n: Any = NOT_GIVEN,
        seed: Any = NOT_GIVEN,
        stop: Any = NOT_GIVEN,
        stream: Any = False,
        temperature: Any = NOT_GIVEN,
        top_k: Any = None,
        top_p: Any = NOT_GIVEN,
        **extra: Any,
    ) -> list[str]:
        arguments = query_arguments(
            "AsyncOpenAIClient", extra, conversation_formatter, top_k, messages=messages, model=model,
            max_tokens=max_tokens, n=n, seed=seed, stop=stop, stream=stream, temperature=temperature, top_p=top_p,
        )  # fmt: skip
        return choice_texts(await self.client.chat.completions.create(**arguments))

    async def query_reward_model(self, *, messages: Iterable[Mapping[str, Any]], model: str) -> dict[str, float]:
        return _scores(await self.client.chat.completions.create(messages=messages, model=model), model)
