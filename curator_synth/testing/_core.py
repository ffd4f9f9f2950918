"""The request handler of the fake server: routing, auth, rate limit, faults, latency, stats, control API.

One :class:`ServerCore` lives on one event loop (the server thread's, or the child process's) and is only
touched from that loop, so its counters need no locks. :func:`serve` runs it on a listening socket with
aiohttp's low-level server (no Application/router, no access log: the per-request path stays short).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from aiohttp import web

from curator_synth.clients.settings import checked_context_length
from curator_synth.errors import ConfigError
from curator_synth.testing._openai import (
    ChoiceText,
    Endpoint,
    InvalidRequest,
    ParsedRequest,
    apply_limits,
    completion_body,
    dumps,
    error_body,
    parse_request,
    truncate_half,
)
from curator_synth.testing._replies import (
    ERROR_BODY_MESSAGE,
    json_response,
    models_response,
    too_long,
    trickle,
    unauthorized,
    unsupported_body,
)
from curator_synth.testing.batches import BatchService, check_batch_delay
from curator_synth.testing.faults import FAULT_KINDS, FaultPlan, Faults, RollingRateLimiter
from curator_synth.testing.latency import Latency, check_latency
from curator_synth.testing.responders import FakeRequest, Responder

__all__ = ["ServerCore", "body_key", "serve"]

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
_MAX_BODY = 64 * 1024 * 1024
_GENERATION: dict[str, Endpoint] = {"/v1/chat/completions": "chat", "/v1/completions": "completions"}
_BATCH_ROUTES = ("/v1/files", "/v1/batches")
_RATE_LIMITED = error_body("Rate limit reached (injected by FakeLLMServer).", "requests", "rate_limit_exceeded")
_NOT_GENERATION = ("/v1/models", *_BATCH_ROUTES)


def body_key(body: Any) -> str:
    """The key of ``stats()["body_hits"]``: SHA-256 of the canonical JSON of a request body."""
    return hashlib.sha256(_CANONICAL.encode(body).encode()).hexdigest()


class ServerCore:
    """State and request handling of one fake server (see ``FakeLLMServer`` for the behaviour)."""

    def __init__(
        self,
        responder: Responder,
        latency: Latency,
        faults: Faults | None,
        api_key: str | None,
        rpm_limit: int | None,
        seed: int,
        rate_window: float = 60.0,
        rate_limit_headers: bool = True,
        context_length: int | None = None,
        unsupported: Sequence[str] = (),
        batch_delay: float = 0.0,
    ) -> None:
        self.batches = BatchService(self, check_batch_delay(batch_delay))
        self._context_length = checked_context_length(context_length)
        if isinstance(unsupported, str) or not all(isinstance(name, str) for name in unsupported):
            raise ConfigError(f"unsupported must be a sequence of body field names, got {unsupported!r}")
        self._unsupported = tuple(unsupported)
        self._responder = responder
        self._rng = random.Random(seed)
        self._latency: Latency = check_latency(latency)
        self._plan = FaultPlan(faults)
        self._auth = f"Bearer {api_key}" if api_key is not None else None
        self._limiter = (
            RollingRateLimiter(rpm_limit, rate_window, rate_limit_headers) if rpm_limit is not None else None
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        self._models: set[str] = {"fake-model"}
        self._request_number = 0
        self._response_number = 0
        self.in_flight = 0
        self.reset_stats()

    # ----------------------------------------------------------------------------------------- control
    def reset_stats(self) -> None:
        """Zero every counter; ``max_in_flight`` restarts from the requests in flight now."""
        self.requests = 0
        self.responses_ok = 0
        self.rate_limited = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.completion_token_limit = 0
        self.unlimited_choices = 0
        self.unlimited_completion_tokens = 0
        self.max_in_flight = self.in_flight
        #: The seconds of latency the server added, summed over requests (a Little's-law bound: divided by a
        #: client's concurrency, the least time it could have taken).
        self.latency_seconds = 0.0
        self.latency_max = 0.0  # the longest a single request was held
        self.by_endpoint: dict[str, int] = {"chat": 0, "completions": 0, "models": 0}
        self.by_status: dict[str, int] = {}
        self.faults: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)
        self.body_hits: dict[str, int] = {}
        self.batches.reset_stats()

    def stats(self) -> dict[str, Any]:
        """The counters as a JSON-able dict (what ``FakeLLMServer.stats()`` returns)."""
        return {
            "requests": self.requests,
            "responses_ok": self.responses_ok,
            "rate_limited": self.rate_limited,
            "by_endpoint": dict(self.by_endpoint),
            "by_status": dict(self.by_status),
            "faults": dict(self.faults),
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "latency_seconds": round(self.latency_seconds, 6),
            "latency_max": round(self.latency_max, 6),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "completion_token_limit": self.completion_token_limit,
            "unlimited_choices": self.unlimited_choices,
            "unlimited_completion_tokens": self.unlimited_completion_tokens,
            "body_hits": dict(self.body_hits),
            **self.batches.stats(),
            "faults_config": self._plan.faults.to_json() if self._plan.faults else None,
            "latency": self._latency if not callable(self._latency) else repr(self._latency),
        }

    def set_faults(self, faults: Faults | None) -> None:
        """Install new faults; their script starts with the next generation request."""
        self._plan = FaultPlan(faults)

    def set_latency(self, latency: Latency) -> None:
        self._latency = check_latency(latency)

    def cancel_in_flight(self) -> None:
        """Cancel the handlers still running (used at shutdown: their clients see a disconnect)."""
        for task in list(self._tasks):
            task.cancel()

    async def _control(self, request: web.BaseRequest, path: str) -> web.Response:
        route = path.partition("?")[0]
        method = request.method
        try:
            if route == "/_fake/stats" and method == "GET":
                return json_response(200, dumps(self.stats()).encode())
            if route == "/_fake/hits" and method == "GET":
                key = request.query.get("key", "")
                return json_response(200, dumps({"hits": self.body_hits.get(key, 0)}).encode())
            if route == "/_fake/health" and method == "GET":
                return json_response(200, b'{"ok":true}')
            if route == "/_fake/reset" and method == "POST":
                self.reset_stats()
                return json_response(200, b'{"ok":true}')
            if route == "/_fake/config" and method == "POST":
                config = json.loads(await request.read())
                if "faults" in config:
                    raw = config["faults"]
                    self.set_faults(Faults.from_json(raw) if raw is not None else None)
                if "latency" in config:
                    self.set_latency(check_latency(config["latency"]))
                if "batch_delay" in config:
                    self.batches.delay = check_batch_delay(config["batch_delay"])
                return json_response(200, b'{"ok":true}')
        except (ValueError, TypeError) as exc:
            return json_response(400, error_body(f"bad control request: {exc}"))
        return json_response(404, error_body(f"unknown control endpoint {method} {route}"))

    # ----------------------------------------------------------------------------------- request path
    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        """The aiohttp low-level handler: ``/v1/*`` is counted and served, ``/_fake/*`` is control. The model
        listing is counted in ``by_endpoint`` only, so a client's pre-flight does not change request counts."""
        path = request.raw_path
        if path.startswith("/v1/"):
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            if not path.startswith(_NOT_GENERATION):  # a batch line counts when it is answered
                self.requests += 1
            self.in_flight += 1
            if self.in_flight > self.max_in_flight:
                self.max_in_flight = self.in_flight
            try:
                response = await self._serve_v1(request, path)
            finally:
                self.in_flight -= 1
                if task is not None:
                    self._tasks.discard(task)
            if response is None:  # the "drop" fault: no HTTP response at all
                self.faults["drop"] += 1
                transport = request.transport
                if transport is not None:
                    transport.close()
                return web.Response()  # never written: aiohttp sees the closed transport and stays quiet
            status = str(response.status)
            self.by_status[status] = self.by_status.get(status, 0) + 1
            return response
        if path.startswith("/_fake/"):
            return await self._control(request, path)
        return json_response(404, error_body(f"Invalid URL ({request.method} {path})"))

    def _latency_for(self, fake: FakeRequest) -> float:
        latency = self._latency
        if isinstance(latency, float):
            return latency
        if isinstance(latency, tuple):
            return self._rng.uniform(latency[0], latency[1])
        return float(latency(fake))

    async def _serve_v1(self, request: web.BaseRequest, path: str) -> web.StreamResponse | None:
        route = path.partition("?")[0]
        endpoint = _GENERATION.get(route)
        if endpoint is None:
            if route != "/v1/models" and not route.startswith(_BATCH_ROUTES):
                return json_response(404, error_body(f"Invalid URL ({request.method} {path})"))
            if route == "/v1/models":
                self.by_endpoint["models"] += 1
            if self._auth is not None and request.headers.get("Authorization") != self._auth:
                return unauthorized(request)
            if route == "/v1/models":
                return models_response(self._models, self._context_length)
            return await self.batches.handle(request, route)
        self.by_endpoint[endpoint] += 1
        if request.method != "POST":
            return json_response(405, error_body(f"Method {request.method} not allowed on {path}"))
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if isinstance(body, dict):
            self.count_body(body)
        if self._auth is not None and request.headers.get("Authorization") != self._auth:
            return unauthorized(request)

        rate_headers = None
        if self._limiter is not None:
            decision = self._limiter.acquire(time.monotonic())
            rate_headers = decision.headers or None
            if not decision.allowed:
                self.rate_limited += 1
                message = f"Rate limit reached for {self._limiter.describe()}."
                return json_response(429, error_body(message, "requests", "rate_limit_exceeded"), rate_headers)

        if body is None:
            return json_response(400, error_body("We could not parse the JSON body of your request."))
        checked = self.check(endpoint, body)
        if isinstance(checked, tuple):
            return json_response(*checked, rate_headers)
        parsed = checked
        request_number = self.next_request_number()
        fault = self._plan.draw()
        if fault == "429":
            return self._fault_429(rate_headers)
        fake = FakeRequest(endpoint, parsed.model, parsed.messages, parsed.prompt, body, 0, request_number)
        try:
            delay = self._latency_for(fake)
        except Exception as exc:
            return json_response(400, error_body(f"FakeLLMServer latency callable failed: {exc!r}"), rate_headers)
        if delay > 0.0:
            await asyncio.sleep(delay)
        serve = getattr(self._latency, "serve", None)  # a load model (testing.ServerLoad): a queue, then the batch
        if serve is not None:
            delay += await serve()
        self.latency_seconds += delay
        self.latency_max = max(self.latency_max, delay)
        if fault == "drop":
            return None
        status, encoded = self.reply(parsed, fake, fault)
        if fault == "trickle" and status == 200:
            faults = self._plan.faults
            return await trickle(request, encoded, rate_headers, faults.trickle_interval if faults else 0.5)
        return json_response(status, encoded, rate_headers)

    def count_body(self, body: dict[str, Any]) -> None:
        key = body_key(body)
        self.body_hits[key] = self.body_hits.get(key, 0) + 1

    def next_request_number(self) -> int:
        self._request_number += 1
        return self._request_number - 1

    def draw_fault(self) -> str | None:
        return self._plan.draw()

    def check(self, endpoint: Endpoint, body: dict[str, Any]) -> ParsedRequest | tuple[int, bytes]:
        """The parsed request, or the 400 (status, body) refusing it: invalid, an unsupported field, too long."""
        try:
            parsed = parse_request(endpoint, body)
        except InvalidRequest as exc:
            return 400, error_body(str(exc))
        self._models.add(parsed.model)
        refused = next((name for name in self._unsupported if name in body), None)
        if refused is not None:
            return 400, unsupported_body(refused)
        context = self._context_length
        if context is not None and parsed.prompt_tokens + (parsed.max_tokens or 0) > context:
            return 400, error_body(too_long(context, parsed.prompt_tokens, parsed.max_tokens))
        return parsed

    def reply(self, parsed: ParsedRequest, fake: FakeRequest, fault: str | None) -> tuple[int, bytes]:
        """The (status, body) answering ``parsed``, with ``fault`` applied (not the wire faults: a dropped
        connection or a trickled body is the caller's)."""
        faults = self._plan.faults
        if fault == "429":
            self.faults["429"] += 1
            return 429, _RATE_LIMITED
        if fault == "500":
            self.faults["500"] += 1
            status = faults.server_error_status if faults is not None else 500
            return status, error_body("The server had an error while processing your request.", "server_error")
        if fault == "error_body":
            self.faults["error_body"] += 1
            code = faults.error_body_code if faults is not None else None
            return 200, error_body(ERROR_BODY_MESSAGE, "server_error", code)
        self._response_number += 1
        if fault == "empty_choices":
            self.faults["empty_choices"] += 1
            payload, _ = completion_body(parsed, [], self._response_number, int(time.time()))
            return 200, dumps(payload).encode()
        choices: list[ChoiceText] = []
        try:
            for index in range(parsed.n):
                asked = replace(fake, choice_index=index) if index else fake
                choices.append(apply_limits(self._responder(asked), parsed.stop, parsed.max_tokens))
        except Exception as exc:
            return 400, error_body(f"FakeLLMServer responder failed: {type(exc).__name__}: {exc}")
        if fault == "truncate":
            self.faults["truncate"] += 1
            for choice in choices:
                truncate_half(choice)
        payload, completion_tokens = completion_body(parsed, choices, self._response_number, int(time.time()))
        encoded = dumps(payload).encode()
        if fault == "malformed":
            self.faults["malformed"] += 1
            return 200, encoded[: max(1, len(encoded) // 2)]
        if fault == "trickle":
            self.faults["trickle"] += 1
            return 200, encoded
        self.responses_ok += 1
        self.prompt_tokens += parsed.prompt_tokens
        self.completion_tokens += completion_tokens
        if parsed.max_tokens is None:
            self.unlimited_choices += parsed.n
            self.unlimited_completion_tokens += completion_tokens
        else:
            self.completion_token_limit += parsed.max_tokens * parsed.n
        return 200, encoded

    def _fault_429(self, rate_headers: dict[str, str] | None) -> web.Response:
        headers = dict(rate_headers) if rate_headers else {}
        faults = self._plan.faults
        if faults is not None and faults.retry_after is not None:
            headers["Retry-After"] = f"{faults.retry_after:g}"
            headers["retry-after-ms"] = str(round(faults.retry_after * 1000))
        self.faults["429"] += 1
        return json_response(429, _RATE_LIMITED, headers)


async def serve(core: ServerCore, sock: socket.socket, ready: Callable[[], None], stop: asyncio.Event) -> None:
    """Serve ``core`` on the listening ``sock`` until ``stop`` is set, then shut down quickly and quietly."""
    loop = asyncio.get_running_loop()

    def make_request(message: Any, payload: Any, protocol: Any, writer: Any, task: Any) -> web.BaseRequest:
        return web.BaseRequest(message, payload, protocol, writer, task, loop, client_max_size=_MAX_BODY)

    server = web.Server(core.handle, request_factory=make_request, access_log=None)
    runner = web.ServerRunner(server, shutdown_timeout=0.2)
    await runner.setup()
    try:
        site = web.SockSite(runner, sock, backlog=2048)
        await site.start()
        ready()
        await stop.wait()
        await site.stop()
        core.cancel_in_flight()
    finally:
        await runner.cleanup()
