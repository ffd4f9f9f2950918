"""The default transport: aiohttp, the cheapest Python HTTP client per request on this kind of machine.

Measured on a 2-core machine (DESIGN.md, benchmarks/): a raw aiohttp loop sustains ~4x the requests/s of the
openai SDK and ~20x httpx's pool at 256 requests in flight; per-request CPU, not the network, is the limit.
This module is aiohttp's one error boundary. ``ClientTimeout(total=timeout)`` is already a total deadline per
attempt (connect, headers and the whole body), so nothing is added on the per-request path.
"""

from __future__ import annotations

import asyncio

import aiohttp
from yarl import URL

from curator_synth._version import __version__
from curator_synth.clients.config import ConnectionConfig
from curator_synth.clients.transport.base import TRANSPORTS, HTTPRequest, HTTPResponse, Transport
from curator_synth.errors import ConnectError, TransportError

__all__ = ["AiohttpTransport"]


@TRANSPORTS.register("aiohttp")
class AiohttpTransport(Transport):
    def __init__(self, config: ConnectionConfig) -> None:
        super().__init__(config)
        headers = {"User-Agent": f"curator-synth/{__version__}", **config.auth_headers()}
        connector = aiohttp.TCPConnector(limit=config.max_connections, limit_per_host=0, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            headers=headers,
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=config.timeout),
            raise_for_status=False,
        )
        self._urls: dict[str, URL] = {}

    def _url(self, path: str) -> URL:
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = URL(self.config.url_root + path)
        return url

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        try:
            async with self._session.request(
                request.method, self._url(request.path), data=request.body, headers=request.headers
            ) as response:
                body = await response.read()
                return HTTPResponse(response.status, response.headers, body)
        except asyncio.TimeoutError as exc:  # before ClientConnectionError: ServerTimeoutError is both
            raise self.timeout_error(request) from exc
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            raise ConnectError(
                f"connection failed or dropped: {type(exc).__name__}", request=self.summary(request)
            ) from exc
        except aiohttp.ClientError as exc:
            raise TransportError(f"HTTP client error: {type(exc).__name__}", request=self.summary(request)) from exc

    async def aclose(self) -> None:
        await self._session.close()
