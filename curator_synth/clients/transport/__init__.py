"""HTTP transports, registered by name in ``TRANSPORTS``: "aiohttp" (default), "httpx", "openai".

httpx and openai transports are imported on first use so ``import curator_synth`` stays light.
"""

from __future__ import annotations

from typing import Any

from curator_synth._lazy import lazy_getattr as _lazy_getattr
from curator_synth.clients.config import ConnectionConfig
from curator_synth.clients.transport.aiohttp_transport import AiohttpTransport
from curator_synth.clients.transport.base import (
    TRANSPORTS,
    HTTPRequest,
    HTTPResponse,
    Transport,
    TransportFactory,
)

__all__ = [
    "TRANSPORTS",
    "AiohttpTransport",
    "HTTPRequest",
    "HTTPResponse",
    "HttpxTransport",
    "OpenAISDKTransport",
    "Transport",
    "TransportFactory",
]

_LAZY = {
    "HttpxTransport": "curator_synth.clients.transport.httpx_transport",
    "OpenAISDKTransport": "curator_synth.clients.transport.openai_transport",
}


__getattr__ = _lazy_getattr(__name__, _LAZY)


def _lazy_factory(class_name: str) -> TransportFactory:
    def factory(config: ConnectionConfig, **kwargs: Any) -> Transport:
        cls: Any = __getattr__(class_name)
        transport: Transport = cls(config, **kwargs)
        return transport

    factory.__name__ = class_name
    return factory


TRANSPORTS.add("httpx", _lazy_factory("HttpxTransport"))
TRANSPORTS.add("openai", _lazy_factory("OpenAISDKTransport"))
