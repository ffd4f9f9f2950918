"""httpx transport: for callers who need httpx features (proxies, custom transports, ``httpx.MockTransport``,
respx). Slower than aiohttp at high concurrency (its pool degrades above ~100 connections). httpx's one
error boundary.

httpx's own ``timeout`` bounds each connect/read/write/pool wait, not the attempt: a server sending a byte
every second would never time out. :func:`~curator_synth.clients.transport.base.within_deadline` makes
``timeout`` a total deadline, as on every transport.
"""

from __future__ import annotations

import httpx

from curator_synth._version import __version__
from curator_synth.clients.config import ConnectionConfig
from curator_synth.clients.transport.base import HTTPRequest, HTTPResponse, Transport, within_deadline
from curator_synth.errors import ConnectError, TransportError

__all__ = ["HttpxTransport"]


class HttpxTransport(Transport):
    """``transport=`` may be an ``httpx.AsyncBaseTransport`` (e.g. ``httpx.MockTransport(handler)``)."""

    def __init__(self, config: ConnectionConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(config)
        self._client = httpx.AsyncClient(
            base_url=config.url_root,
            headers={"User-Agent": f"curator-synth/{__version__}", **config.auth_headers()},
            timeout=config.timeout,
            limits=httpx.Limits(
                max_connections=config.max_connections, max_keepalive_connections=config.max_connections
            ),
            transport=transport,
        )

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        try:
            sent = self._client.request(
                request.method, request.path, content=request.body or None, headers=request.headers
            )
            response = await within_deadline(self.config.timeout, sent)
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise self.timeout_error(request) from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise ConnectError(
                f"connection failed or dropped: {type(exc).__name__}", request=self.summary(request)
            ) from exc
        except httpx.HTTPError as exc:
            raise TransportError(f"HTTP client error: {type(exc).__name__}", request=self.summary(request)) from exc
        return HTTPResponse(response.status_code, response.headers, response.content)

    async def aclose(self) -> None:
        await self._client.aclose()
