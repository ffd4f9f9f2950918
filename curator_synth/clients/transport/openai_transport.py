"""Transport through an ``openai.OpenAI`` / ``openai.AsyncOpenAI`` instance (NeMo Curator compatibility).

The instance's own base URL, key, headers, proxies and HTTP client are used as configured; its own retries are
turned off because the engine retries. A sync instance runs in a worker thread. The openai SDK costs ~3.5 ms of
CPU per request here, so pass ``transport="aiohttp"`` to reuse only the instance's URL and key at full speed.
This module is the openai SDK's one error boundary.

The SDK's timeout bounds each read, not the attempt, so the call is wrapped in
:func:`~curator_synth.clients.transport.base.within_deadline`: ``ConnectionConfig.timeout`` is a total deadline.
A sync instance's worker thread cannot be cancelled: the attempt fails at the deadline and the thread ends
when the SDK's own timeout (or the server) ends the call.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import openai

from curator_synth.clients.config import ConnectionConfig
from curator_synth.clients.transport.base import HTTPRequest, HTTPResponse, Transport, within_deadline
from curator_synth.errors import ConnectError, TransportError

__all__ = ["OpenAISDKTransport"]


class OpenAISDKTransport(Transport):
    """Without ``client=``, builds an ``openai.AsyncOpenAI`` from the connection config."""

    def __init__(self, config: ConnectionConfig, *, client: openai.OpenAI | openai.AsyncOpenAI | None = None) -> None:
        super().__init__(config)
        self._owned = client is None
        if client is None:
            client = openai.AsyncOpenAI(
                base_url=config.base_url,
                api_key=config.api_key.reveal() if config.api_key else "not-needed",
                timeout=config.timeout,
                default_headers=dict(config.headers),
            )
        self._client: Any = client.with_options(max_retries=0)
        self._is_async = isinstance(client, openai.AsyncOpenAI)

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        call = self._client.post if request.method == "POST" else self._client.get
        kwargs: dict[str, Any] = {"cast_to": httpx.Response}
        if request.method == "POST":
            kwargs["content"] = request.body
        if request.content_type:
            # The SDK builds a multipart body itself for a Content-Type starting "multipart/form-data" (and refuses
            # given bytes); media types are case-insensitive (RFC 9110 8.3.1), so this one keeps the bytes as built.
            kwargs["options"] = {
                "headers": {"Content-Type": request.content_type[0].upper() + request.content_type[1:]}
            }
        if self._is_async:
            attempt = call("/" + request.path, **kwargs)
        else:
            attempt = asyncio.to_thread(call, "/" + request.path, **kwargs)
        try:
            response = await within_deadline(self.config.timeout, attempt)
        except openai.APIStatusError as exc:  # a real HTTP answer: let the protocol layer classify it
            response = exc.response
        except (openai.APITimeoutError, TimeoutError) as exc:
            raise self.timeout_error(request) from exc
        except openai.APIConnectionError as exc:
            raise ConnectError("connection failed or dropped", request=self.summary(request)) from exc
        except openai.OpenAIError as exc:
            raise TransportError(f"openai SDK error: {type(exc).__name__}", request=self.summary(request)) from exc
        return HTTPResponse(response.status_code, response.headers, response.content)

    async def aclose(self) -> None:
        if self._owned:
            await self._client.close()
