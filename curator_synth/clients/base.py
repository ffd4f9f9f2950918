"""The client contracts: :class:`AsyncLLMClient` (coroutines) and :class:`LLMClient` (blocking).

Names and keyword-only signatures match NeMo Curator 0.9, so code written for NeMo's clients runs unchanged.
Implementations: :class:`~curator_synth.clients.openai.AsyncOpenAIClient` is the one async core; the sync
clients are thin facades over it (:mod:`curator_synth.clients.sync`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from typing_extensions import Self

from curator_synth.clients.formatters import ConversationFormatter

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
        conversation_formatter: ConversationFormatter | str | None = None,
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
        conversation_formatter: ConversationFormatter | str | None = None,
        **extra: Any,
    ) -> list[str]: ...

    @abstractmethod
    def query_reward_model(self, *, messages: Iterable[Mapping[str, Any]], model: str) -> dict[str, float]: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
