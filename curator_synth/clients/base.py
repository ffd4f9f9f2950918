"""The client contracts: :class:`AsyncLLMClient` (coroutines) and :class:`LLMClient` (blocking).

Names and keyword-only signatures match NeMo Curator 0.9, so code written for NeMo's clients runs unchanged.
Implementations: :class:`~curator_synth.clients.openai.AsyncOpenAIClient` is the one async core; the sync
clients are thin facades over it (:mod:`curator_synth.clients.sync`).

Beyond NeMo's two methods the contract has ``submit`` / ``query_many`` (one :class:`QueryRequest`, a bounded
stream of them) and ``stats``. They have defaults built on ``query_model``, so a client that only implements
NeMo's methods works everywhere; the endpoint clients override them with the engine's own.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from typing_extensions import Self

from curator_synth.clients.bulk import QueryRequest, QueryResult, bounded_map
from curator_synth.clients.formatters import FormatsConversations
from curator_synth.clients.stats import ClientStats
from curator_synth.errors import CuratorSynthError

#: ``query_many``'s bound on the calls alive at once when a client has no concurrency window of its own.
DEFAULT_PENDING = 64

__all__ = ["AsyncLLMClient", "LLMClient", "Messages"]

Messages = Sequence[Mapping[str, Any]]


class AsyncLLMClient(ABC):
    """An LLM endpoint queried with coroutines."""

    @abstractmethod
    async def query_model(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        stop: str | list[str] | None = None,
        n: int = 1,
        conversation_formatter: FormatsConversations | str | None = None,
        **extra: Any,
    ) -> list[str]:
        """The ``n`` generated texts for a chat conversation.

        With ``conversation_formatter`` (an instance or a registered name such as ``"nemotron"``), the
        conversation is rendered into one prompt and sent to the completions endpoint instead of chat.
        ``extra`` goes into the request body as is (e.g. ``response_format``, vLLM's ``top_k``).
        """

    @abstractmethod
    async def query_reward_model(self, *, messages: Iterable[Mapping[str, Any]], model: str) -> dict[str, float]:
        """Per-attribute scores of the last assistant turn from a reward model (e.g. Nemotron-4-340B-Reward)."""

    @property
    def stats(self) -> ClientStats | None:
        """Request accounting (:class:`ClientStats`); None for a client that keeps none."""
        return None

    async def submit(self, query: QueryRequest) -> Any:
        """One :class:`QueryRequest`: the texts, or the scores of a reward query."""
        if query.reward:
            return await self.query_reward_model(messages=query.messages, model=query.model)
        return await self.query_model(**_arguments(query))

    def query_many(
        self,
        requests: Iterable[QueryRequest] | AsyncIterable[QueryRequest],
        *,
        ordered: bool = True,
        max_pending: int | None = None,
    ) -> AsyncGenerator[QueryResult[Any], None]:
        """Run a stream of requests with bounded memory; yield a :class:`QueryResult` (index, value or error) per
        request, in input order if ``ordered``, else as completed.

        ``requests`` is consumed lazily (a generator of a million requests never becomes a million tasks).
        ``max_pending`` (default :attr:`pending`) bounds the calls alive at once. One failed request is one
        result with ``.error``; the stream goes on.
        """
        limit = max_pending if max_pending is not None else self.pending
        return bounded_map(self.submit, requests, max_pending=limit, ordered=ordered)

    @property
    def pending(self) -> int:
        """``query_many``'s default bound on the calls alive at once (64; the endpoint clients: twice their
        ``max_concurrency``, so requests waiting out a backoff leave the window full)."""
        return DEFAULT_PENDING

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the client may not be used afterwards on this event loop."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class LLMClient(ABC):
    """An LLM endpoint queried with blocking calls (same arguments as :class:`AsyncLLMClient`)."""

    @abstractmethod
    def query_model(
        self,
        *,
        messages: Iterable[Mapping[str, Any]],
        model: str,
        max_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        stop: str | list[str] | None = None,
        n: int = 1,
        conversation_formatter: FormatsConversations | str | None = None,
        **extra: Any,
    ) -> list[str]: ...

    @abstractmethod
    def query_reward_model(self, *, messages: Iterable[Mapping[str, Any]], model: str) -> dict[str, float]: ...

    @property
    def stats(self) -> ClientStats | None:
        """Request accounting (:class:`ClientStats`); None for a client that keeps none."""
        return None

    def query_many(
        self, requests: Iterable[QueryRequest], *, ordered: bool = True, max_pending: int | None = None
    ) -> Iterator[QueryResult[Any]]:
        """The results of ``requests``, one :class:`QueryResult` each, in order (default: one at a time; the
        facades over an async core run them concurrently). A failed request is a result with ``.error``."""
        for index, query in enumerate(requests):
            try:
                value: Any = (
                    self.query_reward_model(messages=query.messages, model=query.model)
                    if query.reward
                    else self.query_model(**_arguments(query))
                )
            except CuratorSynthError as error:
                if error.fatal:
                    raise
                yield QueryResult(index, error=error)
            else:
                yield QueryResult(index, value=value)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _arguments(query: QueryRequest) -> dict[str, Any]:
    """``query_model``'s keyword arguments for ``query``."""
    return {
        "messages": query.messages, "model": query.model, "max_tokens": query.max_tokens,
        "temperature": query.temperature, "top_p": query.top_p, "seed": query.seed, "stop": query.stop, "n": query.n,
        "conversation_formatter": query.conversation_formatter, **query.extra,
    }  # fmt: skip
