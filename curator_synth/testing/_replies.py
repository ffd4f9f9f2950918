"""The HTTP answers the fake server writes: JSON responses, the 401 that echoes the token, OpenAI's and vLLM's
error messages for refused fields and prompts over the context, and the ``trickle`` fault's slow body."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from curator_synth.testing._openai import dumps, error_body

__all__ = [
    "ERROR_BODY_MESSAGE",
    "json_response",
    "models_response",
    "too_long",
    "trickle",
    "unauthorized",
    "unsupported_body",
]

JSON = "application/json"
ERROR_BODY_MESSAGE = "The upstream model failed while generating (injected by FakeLLMServer)."


def json_response(status: int, body: bytes, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=body, content_type=JSON, headers=headers)


def unauthorized(request: web.BaseRequest) -> web.Response:
    """401, echoing the bearer token the client sent in ``WWW-Authenticate`` as some real servers do (so tests
    can check that clients never log it)."""
    sent = request.headers.get("Authorization", "")
    scheme, _, token = sent.partition(" ")
    challenge = f"Bearer {token}" if scheme.lower() == "bearer" and token else 'Bearer realm="FakeLLMServer"'
    body = error_body("Incorrect API key provided.", code="invalid_api_key")
    return json_response(401, body, {"WWW-Authenticate": challenge})


async def trickle(
    request: web.BaseRequest, body: bytes, headers: dict[str, str] | None, interval: float
) -> web.StreamResponse:
    """The ``trickle`` fault: status, headers (full ``Content-Length``) and the first byte at once, then one
    byte every ``interval`` seconds, until the body is sent or the client hangs up."""
    response = web.StreamResponse(status=200, headers=headers)
    response.content_type = JSON
    response.content_length = len(body)
    await response.prepare(request)
    try:
        for index in range(len(body)):
            if index:
                await asyncio.sleep(interval)
            await response.write(body[index : index + 1])
    except ConnectionError:  # the client gave up (its deadline): aiohttp closes quietly
        pass
    return response


def unsupported_body(name: str) -> bytes:
    """OpenAI's 400 for a field the model refuses (its reasoning models refuse ``max_tokens``)."""
    instead = " Use 'max_completion_tokens' instead." if name == "max_tokens" else ""
    message = f"Unsupported parameter: '{name}' is not supported with this model.{instead}"
    return error_body(message, code="unsupported_parameter", param=name)


def too_long(context: int, prompt: int, completion: int | None) -> str:
    """vLLM's context-length 400 message."""
    return (
        f"This model's maximum context length is {context} tokens. However, you requested {prompt + (completion or 0)}"
        f" tokens ({prompt} in the messages, {completion or 0} in the completion). Please reduce the length of the"
        " messages or completion."
    )


def models_response(models: Iterable[str], context_length: int | None) -> web.Response:
    """``GET /v1/models``: the models asked for so far (with ``max_model_len`` as vLLM lists it, if known)."""
    data: list[dict[str, Any]] = [
        {"id": m, "object": "model", "created": 0, "owned_by": "curator_synth"} for m in sorted(models)
    ]
    if context_length is not None:
        data = [{**entry, "max_model_len": context_length} for entry in data]
    return json_response(200, dumps({"object": "list", "data": data}).encode())
