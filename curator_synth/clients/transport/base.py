"""The transport contract: send one HTTP POST, return status, headers and body — or raise a TransportError.

Transports know nothing of retries, limits or the OpenAI schema; they only move bytes and translate their
library's exceptions into :mod:`curator_synth.errors` (each transport module is that library's one boundary).
A transport is bound to the event loop it was created on; the engine creates one per loop.

``ConnectionConfig.timeout`` is a total deadline per attempt (connect, send, headers and the whole body): a
server trickling its answer must not keep a request alive forever. aiohttp's ``ClientTimeout(total=)`` is one;
the other transports wrap their call in :func:`within_deadline`.
"""

from __future__ import annotations

import asyncio
import sys
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from curator_synth.clients.config import ConnectionConfig
from curator_synth.errors import RequestSummary, RequestTimeoutError
from curator_synth.redact import redact_url
from curator_synth.registry import Registry

__all__ = ["TRANSPORTS", "HTTPRequest", "HTTPResponse", "Transport", "TransportFactory", "within_deadline"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HTTPRequest:
    """A POST of a JSON body to ``path`` (relative to the base URL), or a GET (``method``, e.g. ``models``);
    ``content_type`` names another body type (a file upload's multipart form). Never holds credentials."""

    path: str
    body: bytes
    model: str | None = None
    method: str = "POST"
    content_type: str | None = None

    @property
    def headers(self) -> dict[str, str] | None:
        """The headers this request adds to the transport's own (None: none)."""
        return {"Content-Type": self.content_type} if self.content_type else None


@dataclass(frozen=True, slots=True)
class HTTPResponse:
    status: int
    headers: Mapping[str, str]  # case-insensitive in every transport
    body: bytes


class Transport(ABC):
    def __init__(self, config: ConnectionConfig) -> None:
        self.config = config

    @abstractmethod
    async def send(self, request: HTTPRequest) -> HTTPResponse:
        """One attempt; raises :class:`~curator_synth.errors.TransportError` subclasses, nothing else."""

    @abstractmethod
    async def aclose(self) -> None: ...

    def summary(self, request: HTTPRequest) -> RequestSummary:
        return RequestSummary.create(
            request.method, self.config.url_root + request.path, request.model, len(request.body)
        )

    def timeout_error(self, request: HTTPRequest) -> RequestTimeoutError:
        return RequestTimeoutError(f"no complete answer within {self.config.timeout}s", request=self.summary(request))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={redact_url(self.config.base_url)!r})"


if sys.version_info >= (3, 11):

    async def within_deadline(seconds: float | None, call: Awaitable[T]) -> T:
        """Await ``call``, cancelling it after ``seconds`` (None: no deadline); raises ``TimeoutError`` then."""
        if seconds is None:
            return await call
        async with asyncio.timeout(seconds):
            return await call

else:  # pragma: no cover - Python 3.10

    async def within_deadline(seconds: float | None, call: Awaitable[T]) -> T:
        """Await ``call``, cancelling it after ``seconds`` (None: no deadline); raises ``TimeoutError`` then."""
        if seconds is None:
            return await call
        try:
            return await asyncio.wait_for(call, seconds)
        except asyncio.TimeoutError:
            raise TimeoutError from None


TransportFactory = Callable[[ConnectionConfig], Transport]

#: Transports by name: "aiohttp" (default, fastest), "httpx", "openai" (through the openai SDK).
TRANSPORTS: Registry[TransportFactory] = Registry("transports")
