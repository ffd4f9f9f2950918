"""Clients for any OpenAI-compatible endpoint (OpenAI, vLLM, NVIDIA NIM, TGI, llama.cpp server, ...).

``AsyncOpenAIClient`` is the one implementation; ``OpenAIClient`` is its blocking facade. Both accept an
existing ``openai.OpenAI`` / ``openai.AsyncOpenAI`` instance (NeMo Curator style) — requests then go through
that instance — or ``base_url=`` / ``api_key=`` for the fast aiohttp transport.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any, ClassVar, Literal, TypedDict, cast

from typing_extensions import Unpack

from curator_synth.clients import protocol
from curator_synth.clients.base import AsyncLLMClient
from curator_synth.clients.bulk import QueryRequest
from curator_synth.clients.config import ConnectionConfig, RateLimits, RetryPolicy, Secret, resolve_api_key
from curator_synth.clients.defaults import RequestDefaults, current_defaults, derived_seed
from curator_synth.clients.engine import RequestEngine
from curator_synth.clients.fields import request_extra
from curator_synth.clients.formatters import FormatsConversations
from curator_synth.clients.limits import ErrorBudget
from curator_synth.clients.settings import ClientSettings
from curator_synth.clients.stats import ClientStats
from curator_synth.clients.sync import SyncClient
from curator_synth.clients.transport import TRANSPORTS, HTTPRequest, TransportFactory
from curator_synth.errors import (
    ConfigError,
    ContentFilterError,
    ContextLengthError,
    PromptTooLongError,
    TruncatedResponseError,
    UnsupportedRequestError,
)
from curator_synth.redact import redact, redact_url

__all__ = ["AsyncOpenAIClient", "ClientOptions", "OpenAIClient"]

_TRUNCATION_POLICIES = ("return", "raise", "retry")
_RESEED = 7919  # a refused answer (truncated, filtered) is asked again with seed + 7919 * attempt


class ClientOptions(TypedDict, total=False):
    """Keyword options shared by every endpoint client (see :class:`AsyncOpenAIClient`)."""

    base_url: str | None
    api_key: str | Secret | None
    timeout: float | None
    max_retries: int
    max_concurrency: int | Literal["auto"]
    autotune: bool
    rpm: float | None
    tpm: float | None
    cache_dir: str | os.PathLike[str] | None
    transport: str | TransportFactory | None
    on_truncated: protocol.OnTruncated
    default_headers: Mapping[str, str] | None
    retry: RetryPolicy | None
    reask_failed: bool
    max_error_rate: float | None
    context_length: int | None
    batch: bool
    batch_poll_seconds: float


class AsyncOpenAIClient(AsyncLLMClient):
    """Async client for an OpenAI-compatible endpoint.

    - ``client``: an ``openai.AsyncOpenAI`` or ``openai.OpenAI`` instance to send through (its URL, key,
      headers and HTTP client are used; its own retries are off). Without it, ``base_url`` / ``api_key``
      (default: ``$OPENAI_API_KEY``) and the aiohttp transport are used.
    - ``max_concurrency``: requests in flight at most, or ``"auto"`` (tuned from the latencies, up to 256;
      ``autotune=True`` tunes up to the number given); ``rpm`` / ``tpm``: requests / tokens per minute.
    - ``max_retries``: retries per request of retryable failures (429, 5xx, timeouts, dropped connections,
      malformed bodies), with exponential backoff and ``Retry-After`` honoured. 400/401/403/404 never retry.
    - ``retry``: a full :class:`RetryPolicy` (backoff bounds, extra retryable types) instead of ``max_retries``.
    - ``timeout``: seconds for one attempt.
    - ``cache_dir``: directory of the request journal (None = off): every raw response is kept on receipt and
      a re-run answers journaled requests from disk (see :mod:`curator_synth.clients.journal`).
    - ``transport``: "aiohttp" (default), "httpx", "openai", or a factory ``(ConnectionConfig) -> Transport``.
    - ``on_truncated``: what to do when a choice stopped at ``max_tokens`` — "return" it (default), "raise"
      :class:`~curator_synth.errors.TruncatedResponseError`, or "retry" (then raise after ``max_retries``).
    - ``reask_failed``: a journaled answer that could not be parsed or validated is asked again by the next run
      (default); False re-parses the journaled answers only (e.g. after fixing a parser).
    - ``max_error_rate``: the error budget (:class:`~curator_synth.clients.limits.ErrorBudget`): once more than
      this share of the finished requests (after 20) failed transiently, the client sends nothing more and
      raises :class:`~curator_synth.errors.ErrorBudgetExceeded`; None turns it off.
    - ``context_length``: the model's context in tokens, if known (else learned from the first context-length
      400): a request that surely cannot fit is refused before it is sent (``PromptTooLongError``).
    - ``batch``: requests go through the provider's batch API (OpenAI's ``/v1/files`` + ``/v1/batches``) at its
      batch price, polled every ``batch_poll_seconds`` (:mod:`curator_synth.clients.batch`); a pipeline stage's
      ``batch:`` option overrides it for that stage.
    """

    default_base_url: ClassVar[str] = "https://api.openai.com/v1"
    base_url_env_var: ClassVar[str] = "OPENAI_BASE_URL"
    key_env_vars: ClassVar[tuple[str, ...]] = ("OPENAI_API_KEY",)

    def __init__(
        self,
        client: Any = None,
        *,
        base_url: str | None = None,
        api_key: str | Secret | None = None,
        timeout: float | None = 300.0,
        max_retries: int = 5,
        max_concurrency: int | Literal["auto"] = 64,
        rpm: float | None = None,
        tpm: float | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        transport: str | TransportFactory | None = None,
        on_truncated: protocol.OnTruncated = "return",
        default_headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        reask_failed: bool = True,
        max_error_rate: float | None = 0.5,
        context_length: int | None = None,
        autotune: bool = False,
        batch: bool = False,
        batch_poll_seconds: float = 30.0,
    ) -> None:
        if client is not None and not hasattr(client, "base_url"):
            raise ConfigError(
                f"client must be an openai.OpenAI or openai.AsyncOpenAI instance, got {type(client).__name__}"
            )
        if on_truncated not in _TRUNCATION_POLICIES:
            raise ConfigError(f"on_truncated must be one of {_TRUNCATION_POLICIES}, got {on_truncated!r}")
        if client is not None:
            base_url = base_url or str(client.base_url)
            api_key = api_key or client.api_key
        #: The validated settings (:class:`ClientSettings`): one check of every value, here as in specs and recipes.
        self.settings = ClientSettings(
            base_url=base_url or os.environ.get(self.base_url_env_var) or self.default_base_url,
            timeout=timeout,
            max_retries=max_retries,
            max_concurrency=max_concurrency,
            rpm=rpm,
            tpm=tpm,
            cache_dir=cache_dir,
            transport=transport if isinstance(transport, str) else None,
            reask_failed=reask_failed,
            max_error_rate=max_error_rate,
            context_length=context_length,
            autotune=autotune,
            batch=batch,
            batch_poll_seconds=batch_poll_seconds,
        )
        settings = self.settings
        self.connection = ConnectionConfig(
            base_url=cast(str, settings.base_url),
            api_key=resolve_api_key(api_key, self.key_env_vars),
            timeout=settings.timeout,
            max_connections=settings.max_concurrency,
            headers=tuple((default_headers or {}).items()),
        )
        self.transport_name = settings.transport or ("openai" if client else "aiohttp")
        factory: TransportFactory = transport if callable(transport) else TRANSPORTS.get(self.transport_name)
        if client is not None and self.transport_name == "openai" and not callable(transport):
            factory = partial(cast(Any, factory), client=client)
        if retry is None:
            retry = RetryPolicy(max_retries=settings.max_retries)
        if on_truncated == "retry" and TruncatedResponseError not in retry.extra_retry_on:
            retry = replace(retry, extra_retry_on=(*retry.extra_retry_on, TruncatedResponseError))
        self.on_truncated: protocol.OnTruncated = on_truncated
        #: What this client knows about its endpoint: ``n`` (False when it answers one choice for n > 1),
        #: ``context_length`` (given, or learned from a context-length 400), ``max_completion_tokens`` (True when
        #: it refused ``max_tokens`` for that name, as OpenAI's reasoning models do).
        self.capabilities: dict[str, Any] = {}
        if settings.context_length is not None:
            self.capabilities["context_length"] = settings.context_length
        self._engine = RequestEngine(
            self.connection,
            factory,
            max_concurrency=settings.max_concurrency,
            retry=retry,
            limits=RateLimits(rpm=settings.rpm, tpm=settings.tpm),
            cache_dir=settings.cache_dir,
            reask_failed=settings.reask_failed,
            budget=ErrorBudget(settings.max_error_rate),
            autotune=settings.autotune,
            batch=settings.batch,
            batch_poll_seconds=settings.batch_poll_seconds,
        )

    @property
    def base_url(self) -> str:
        return self.connection.base_url

    @property
    def cache_dir(self) -> str | os.PathLike[str] | None:
        """The journal directory (None: no journal)."""
        return self._engine.cache_dir

    @property
    def error_budget(self) -> ErrorBudget:
        """The error budget (``.reset()`` starts counting afresh, e.g. per pipeline stage)."""
        return self._engine.budget

    @property
    def stats(self) -> ClientStats:
        """Counters: requests sent, retries and failures by type, tokens (``.as_dict()`` for a plain dict)."""
        return self._engine.stats

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
        if not isinstance(messages, Sequence):
            messages = list(messages)
        query = QueryRequest(
            messages, model, max_tokens, temperature, top_p, seed, stop, n, conversation_formatter, request_extra(extra)
        )
        texts: list[str] = await self.submit(query)
        return texts

    async def query_reward_model(self, *, messages: Iterable[Mapping[str, Any]], model: str) -> dict[str, float]:
        if not isinstance(messages, Sequence):
            messages = list(messages)
        scores: dict[str, float] = await self.submit(QueryRequest(messages, model, reward=True))
        return scores

    async def submit(self, query: QueryRequest) -> Any:
        """Run one :class:`QueryRequest`: the texts (``list[str]``), or the scores for a reward query.

        The journal namespace is ``query.namespace``, else the one set with :func:`journal_namespace`.
        """
        if query.reward:
            request = protocol.build_reward_query(messages=query.messages, model=query.model)
            model = query.model
            return await self._engine.execute(
                request, lambda payload: protocol.reward_scores(payload, model), query.namespace
            )
        defaults = current_defaults()
        if query.seed is None and defaults is not None and defaults.seed_salt is not None:
            query = replace(query, seed=derived_seed(defaults.seed_salt, query.model, query.messages))
        texts = await self._texts(query, defaults)
        if len(texts) < query.n:  # the endpoint ignores n (llama.cpp): the other samples one by one, seeded apart
            self.capabilities["n"] = False
            base = query.seed if query.seed is not None else 0
            singles = [replace(query, n=1, seed=base + number) for number in range(len(texts), query.n)]
            for more in await asyncio.gather(*(self._texts(single, defaults) for single in singles)):
                texts.extend(more)
        elif query.n > 1:
            self.capabilities["n"] = True
        return texts

    async def _texts(self, query: QueryRequest, defaults: RequestDefaults | None) -> list[str]:
        """One request's texts: ``query.n`` of them, or fewer (at least one) when the endpoint ignored ``n``. An
        answer with a finish reason the stage refuses (``defaults``) is asked again with another seed, up to
        ``finish_retries`` times, then its error is raised."""
        invalid = defaults.invalid_finish_reasons if defaults is not None else ()
        attempt = 0
        while True:
            asked = query if not attempt else replace(query, seed=(query.seed or 0) + _RESEED * attempt)
            try:
                return await self._send(asked, invalid)
            except (TruncatedResponseError, ContentFilterError):
                if defaults is None or attempt >= defaults.finish_retries:
                    raise
                attempt += 1

    async def _send(self, query: QueryRequest, invalid: tuple[str, ...]) -> list[str]:
        self._check_fits(query)
        renamed = self.capabilities.get("max_completion_tokens") and query.max_tokens is not None
        request = protocol.build_query(
            messages=query.messages,
            model=query.model,
            max_tokens=None if renamed else query.max_tokens,
            temperature=query.temperature,
            top_p=query.top_p,
            seed=query.seed,
            stop=query.stop,
            n=query.n,
            conversation_formatter=query.conversation_formatter,
            extra={**query.extra, "max_completion_tokens": query.max_tokens} if renamed else query.extra,
        )
        n, on_truncated = query.n, self.on_truncated

        def interpret(payload: dict[str, Any]) -> list[str]:
            return protocol.texts(payload, request, n, on_truncated, partial=n > 1, invalid_finish=invalid)

        try:
            texts: list[str] = await self._engine.execute(request, interpret, query.namespace)
        except ContextLengthError as error:
            if error.context_length:
                self.capabilities["context_length"] = error.context_length
            raise
        except UnsupportedRequestError as error:
            # OpenAI's reasoning models refuse max_tokens ("Use 'max_completion_tokens' instead"): the same limit
            # under that name, from now on for this endpoint (one refused request, not one per request).
            if renamed or error.param != "max_tokens" or "max_completion_tokens" not in str(error):
                raise
            self.capabilities["max_completion_tokens"] = True
            return await self._send(query, invalid)
        return texts

    def _check_fits(self, query: QueryRequest) -> None:
        """A prompt that cannot fit the known context (a low estimate of its tokens plus ``max_tokens``) is
        refused here: :class:`PromptTooLongError`, never sent."""
        context = self.capabilities.get("context_length")
        if not context or query.max_tokens is None:
            return
        needed = protocol.estimated_prompt_tokens(query.messages) + query.max_tokens
        if needed > context:
            raise PromptTooLongError(
                f"the prompt (at least ~{needed - query.max_tokens} tokens) and max_tokens={query.max_tokens} do not"
                f" fit the model's context of {context} tokens; not sent"
            )

    @property
    def endpoint(self) -> str:
        """The endpoint as journals name it: the base URL without credentials."""
        return self._engine.endpoint

    async def raw_completion(
        self, *, messages: Sequence[Mapping[str, Any]], model: str, max_tokens: int | None = None, **extra: Any
    ) -> dict[str, Any]:
        """One chat request's whole JSON answer (e.g. to see ``logprobs``); retried and journaled as any request."""
        request = protocol.build_query(
            messages=messages, model=model, max_tokens=max_tokens, temperature=None, top_p=None, seed=None,
            stop=None, n=1, conversation_formatter=None, extra=request_extra(extra),
        )  # fmt: skip
        payload: dict[str, Any] = await self._engine.execute(request, lambda answer: answer)
        return payload

    async def get_json(self, path: str) -> dict[str, Any]:
        """GET a JSON document of the endpoint (e.g. ``"models"``): one attempt, not journaled, not counted in
        :attr:`stats`; errors raised typed as for requests."""
        transport = self._engine.transport_factory(self.connection)
        request = HTTPRequest(path, b"", method="GET")
        try:
            response = await transport.send(request)
            return protocol.decode_document(response, lambda: transport.summary(request), redact)
        finally:
            await transport.aclose()

    @property
    def pending(self) -> int:
        return 2 * self._engine.max_concurrency

    def flush_journal(self) -> None:
        """Block until every response received so far is committed to the journal."""
        self._engine.flush()

    async def aclose(self) -> None:
        await self._engine.aclose()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={redact_url(self.base_url)!r}, transport={self.transport_name!r}, "
            f"max_concurrency={self._engine.max_concurrency}, max_retries={self._engine.retry.max_retries})"
        )


class OpenAIClient(SyncClient):
    """Blocking client for an OpenAI-compatible endpoint; same options as :class:`AsyncOpenAIClient`."""

    def __init__(self, client: Any = None, **options: Unpack[ClientOptions]) -> None:
        super().__init__(AsyncOpenAIClient(client, **options))
