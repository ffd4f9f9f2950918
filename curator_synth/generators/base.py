"""What every generator shares: a client, a default model and parameters, templates run under their journal
namespace, provenance, and concurrent fan-out that reports per-item failures instead of aborting a stage.

Generators are written once, async (``Async*Generator``); the blocking classes are generated from them by
:mod:`curator_synth.generators.blocking` (no twin code). Any client works: an async client, a
blocking one (its async core is used, or its calls run in a worker thread), or an in-process model client.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, ClassVar, TypeVar

from curator_synth.clients.accept import as_async_client
from curator_synth.clients.base import AsyncLLMClient, LLMClient
from curator_synth.clients.bulk import bounded_map
from curator_synth.clients.formatters import ConversationFormatter
from curator_synth.clients.receipts import journal_namespace, reject_unparsed
from curator_synth.errors import ConfigError
from curator_synth.outcome import Failure, Outcome
from curator_synth.prompts.base import PromptTemplate
from curator_synth.registry import Registry

__all__ = ["GENERATORS", "BaseGenerator", "template_of"]

T = TypeVar("T")
R = TypeVar("R")


def template_of(template: PromptTemplate | str, family: str) -> PromptTemplate:
    """Accept a :class:`PromptTemplate` or, as NeMo Curator does, a plain format string."""
    if isinstance(template, PromptTemplate):
        return template
    if isinstance(template, str):
        digest = hashlib.sha256(template.encode()).hexdigest()[:12]
        return PromptTemplate(id=f"{family}.custom.{digest}", version=1, text=template)
    raise ConfigError(f"prompt_template must be a PromptTemplate or a str, got {type(template).__name__}")


class BaseGenerator:
    """Base of all generators. ``model`` and ``params`` (temperature, max_tokens, ...) are defaults per call."""

    family: ClassVar[str] = "base"

    def __init__(
        self,
        client: AsyncLLMClient | LLMClient,
        model: str | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        conversation_formatter: ConversationFormatter | str | None = None,
        max_pending: int = 256,
    ) -> None:
        self.client = self.accept_client(client)
        #: The class name recorded in provenance (a blocking twin sets its own).
        self.public_name = type(self).__name__
        self.model = model
        self.params = dict(params or {})
        self.conversation_formatter = conversation_formatter
        self.max_pending = max_pending

    @classmethod
    def accept_client(cls, client: Any) -> AsyncLLMClient:
        """The client this generator sends through (``self.client``): the async view of ``client``
        (:func:`~curator_synth.clients.accept.as_async_client`). A subclass may accept more, e.g. the NeMo-style
        generators of :mod:`curator_synth.nemo.synthetic` take any object with a ``query_model`` method."""
        return as_async_client(client)

    def model_for(self, model: str | None) -> str:
        """``model``, else the generator's default; a ConfigError when neither is set."""
        chosen = model or self.model
        if not chosen:
            raise ConfigError(f"{type(self).__name__}: pass model= here or when creating the generator")
        return chosen

    async def ask(
        self,
        template: PromptTemplate,
        fill: Mapping[str, Any],
        *,
        model: str | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
        n: int | None = None,
    ) -> list[str]:
        """Fill ``template``, send it under its journal namespace, return the raw answers."""
        return await self.ask_messages(
            template.messages(**fill), namespace=template.namespace, model=model, model_kwargs=model_kwargs, n=n
        )

    async def ask_messages(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        namespace: str,
        model: str | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
        n: int | None = None,
    ) -> list[str]:
        """Send a ready conversation (e.g. a dialogue so far) under ``namespace``; return the raw answers.

        Parameters merge as generator defaults < ``model_kwargs``; ``n`` may come from either (NeMo passes it in
        ``model_kwargs``) or from the argument, which wins.
        """
        params, choices = self.request_params(model_kwargs, n)
        with journal_namespace(namespace):
            return await self.client.query_model(messages=messages, model=self.model_for(model), n=choices, **params)

    def request_params(
        self, model_kwargs: Mapping[str, Any] | None = None, n: int | None = None
    ) -> tuple[dict[str, Any], int]:
        """The request parameters (generator defaults < ``model_kwargs``, plus the conversation formatter) and
        the number of choices (``n`` argument, else an ``n`` in the parameters, else 1)."""
        params = {**self.params, **(model_kwargs or {})}
        choices = params.pop("n", 1)
        if n is not None:
            choices = n
        if self.conversation_formatter is not None:
            params.setdefault("conversation_formatter", self.conversation_formatter)
        return params, choices

    async def ask_one(self, template: PromptTemplate, fill: Mapping[str, Any], **kwargs: Any) -> str:
        return (await self.ask(template, fill, **kwargs))[0]

    def provenance(
        self,
        template: PromptTemplate,
        *,
        method: str,
        model: str | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
        parents: Sequence[str] = (),
        **extra: Any,
    ) -> dict[str, Any]:
        """Where a record came from: generator, method, template id+version, model, params, parents, time."""
        return {
            "generator": self.public_name,
            "method": method,
            "template": template.id,
            "template_version": template.version,
            "model": self.model_for(model),
            "params": {**self.params, **(model_kwargs or {})},
            "parents": list(parents),
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **extra,
        }

    async def fan_out(
        self,
        func: Callable[[T], Awaitable[R]],
        items: Iterable[T] | AsyncIterable[T],
    ) -> Outcome[R]:
        """Run ``func`` over ``items`` concurrently (bounded); failures are collected, not raised (fatal ones —
        a journal that cannot be written, a spent error budget — are raised: nothing more can be kept).

        An item that fails with a :class:`~curator_synth.errors.ResponseParseError` has the answers it received
        marked unusable in the journal, so a re-run asks them again instead of replaying them."""
        inputs: list[T] = []

        async def one(item: T) -> R:
            with reject_unparsed():
                return await func(item)

        def remember(source: Iterable[T]) -> Iterable[T]:
            for item in source:
                inputs.append(item)
                yield item

        result: Outcome[R] = Outcome()
        source = items if isinstance(items, AsyncIterable) else remember(items)
        async for outcome in bounded_map(one, source, max_pending=self.max_pending, ordered=True):
            if outcome.error is not None:
                item = inputs[outcome.index] if outcome.index < len(inputs) else None
                result.failures.append(Failure(outcome.index, item, outcome.error))
            else:
                result.items.append(outcome.value)  # type: ignore[arg-type]
        return result


#: Generator classes by family name ("nemotron", "evol_instruct", ...), for recipes; extensible by entry points
#: (group ``curator_synth.generators``).
GENERATORS: Registry[type[BaseGenerator]] = Registry("generators")
