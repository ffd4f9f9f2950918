"""The fake server's batch API, as OpenAI serves it (vLLM's ``run-batch`` reads and writes the same JSON Lines).

- ``POST /v1/files`` (multipart: ``purpose``, ``file``) stores a file; ``GET /v1/files/{id}`` describes it,
  ``GET /v1/files/{id}/content`` returns it.
- ``POST /v1/batches`` ``{"input_file_id", "endpoint", "completion_window", "metadata"}`` creates a batch over an
  uploaded file (``in_progress``); ``GET /v1/batches/{id}`` reports it, ``GET /v1/batches`` lists them (newest
  first), ``POST /v1/batches/{id}/cancel`` cancels one that has not run yet.
- A batch runs when it is first looked at ``batch_delay`` seconds or more after its creation: every line is
  answered as the online endpoint answers it (the same responder, checks and :class:`Faults`, drawn per line, no
  latency), the answered lines go to the output file and the failed ones (a fault's status, a 400) to the error
  file, and the batch is ``completed`` with its ``request_counts``. A file with a malformed line, a duplicate
  ``custom_id`` or a line for another endpoint makes the batch ``failed`` (``errors``), as OpenAI's validation
  does; nothing of it is answered.

Each answered line counts as a generation request in the server's stats (``requests``, tokens, ``body_hits``);
``batches`` counts the batches created, ``batch_requests`` the lines answered and ``batch_prompt_tokens`` /
``batch_completion_tokens`` their tokens.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from curator_synth.errors import ConfigError
from curator_synth.testing._openai import ParsedRequest, dumps, error_body
from curator_synth.testing._replies import json_response
from curator_synth.testing.responders import FakeRequest


class _Core(Protocol):
    """What the batch service uses of the server's core (:class:`~curator_synth.testing._core.ServerCore`)."""

    requests: int
    prompt_tokens: int
    completion_tokens: int
    by_endpoint: dict[str, int]

    def count_body(self, body: dict[str, Any]) -> None: ...
    def check(self, endpoint: Any, body: dict[str, Any]) -> ParsedRequest | tuple[int, bytes]: ...
    def next_request_number(self) -> int: ...
    def draw_fault(self) -> str | None: ...
    def reply(self, parsed: ParsedRequest, fake: FakeRequest, fault: str | None) -> tuple[int, bytes]: ...


__all__ = ["BatchService", "check_batch_delay"]

_ENDPOINTS = {"/v1/chat/completions": "chat", "/v1/completions": "completions"}


def check_batch_delay(value: Any) -> float:
    """Seconds from a batch's creation to its completion (>= 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
        raise ConfigError(f"batch_delay must be seconds >= 0, got {value!r}")
    return float(value)


@dataclass
class _File:
    id: str
    purpose: str
    filename: str
    content: bytes
    created_at: int = field(default_factory=lambda: int(time.time()))

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id, "object": "file", "bytes": len(self.content), "created_at": self.created_at,
            "filename": self.filename, "purpose": self.purpose,
        }  # fmt: skip


@dataclass
class _Batch:
    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, Any] | None
    created: float = field(default_factory=time.monotonic)
    created_at: int = field(default_factory=lambda: int(time.time()))
    status: str = "in_progress"
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: list[dict[str, Any]] | None = None
    counts: dict[str, int] = field(default_factory=lambda: {"total": 0, "completed": 0, "failed": 0})
    finished_at: int | None = None

    def describe(self) -> dict[str, Any]:
        ended = {"completed": "completed_at", "failed": "failed_at", "cancelled": "cancelled_at"}.get(self.status)
        return {
            "id": self.id, "object": "batch", "endpoint": self.endpoint, "input_file_id": self.input_file_id,
            "completion_window": self.completion_window, "status": self.status,
            "output_file_id": self.output_file_id, "error_file_id": self.error_file_id,
            "errors": {"object": "list", "data": self.errors} if self.errors else None,
            "created_at": self.created_at, "in_progress_at": self.created_at,
            **({ended: self.finished_at} if ended else {}),
            "request_counts": dict(self.counts), "metadata": self.metadata,
        }  # fmt: skip


class BatchService:
    """Files and batches of one server core (on its event loop)."""

    def __init__(self, core: _Core, delay: float = 0.0) -> None:
        self.core = core
        self.delay = delay
        self.files: dict[str, _File] = {}
        self.batches: dict[str, _Batch] = {}

    def reset_stats(self) -> None:
        self.created = 0
        self.requests = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0

    def stats(self) -> dict[str, int]:
        return {
            "batches": self.created,
            "batch_requests": self.requests,
            "batch_prompt_tokens": self.prompt_tokens,
            "batch_completion_tokens": self.completion_tokens,
        }

    async def handle(self, request: web.BaseRequest, route: str) -> web.Response:
        parts = route.strip("/").split("/")[1:]  # ["files", id, "content"], ["batches", id, "cancel"], ...
        method = request.method
        kind, rest = parts[0], parts[1:]
        self.core.by_endpoint[kind] = self.core.by_endpoint.get(kind, 0) + 1
        if kind == "files" and not rest and method == "POST":
            return await self._upload(request)
        if kind == "files" and rest and method == "GET":
            found = self.files.get(rest[0])
            if found is None:
                return _not_found("file", rest[0])
            if rest[1:] == ["content"]:
                return web.Response(status=200, body=found.content, content_type="application/jsonl")
            return _json(found.describe())
        if kind == "batches" and not rest and method == "POST":
            return self._create(await request.read())
        if kind == "batches" and not rest and method == "GET":
            listed = [self._look(batch).describe() for batch in reversed(self.batches.values())]
            return _json({"object": "list", "data": listed, "has_more": False})
        if kind == "batches" and rest:
            batch = self.batches.get(rest[0])
            if batch is None:
                return _not_found("batch", rest[0])
            if rest[1:] == ["cancel"] and method == "POST":
                if batch.status == "in_progress" and not self._due(batch):
                    batch.status, batch.finished_at = "cancelled", int(time.time())
                return _json(self._look(batch).describe())
            if not rest[1:] and method == "GET":
                return _json(self._look(batch).describe())
        return json_response(404, error_body(f"Invalid URL ({method} {route})"))

    async def _upload(self, request: web.BaseRequest) -> web.Response:
        try:
            form = await request.post()
        except ValueError as exc:
            return json_response(400, error_body(f"could not read the multipart body: {exc}"))
        upload, purpose = form.get("file"), form.get("purpose")
        if not isinstance(upload, web.FileField) or not isinstance(purpose, str):
            return json_response(400, error_body("a file upload needs the form fields 'purpose' and 'file'"))
        return _json(self._add_file(purpose, upload.filename, upload.file.read()).describe())

    def _create(self, raw: bytes) -> web.Response:
        try:
            body = json.loads(raw)
            file_id, endpoint = body["input_file_id"], body["endpoint"]
        except (ValueError, KeyError, TypeError):
            return json_response(400, error_body("a batch needs a JSON body with input_file_id and endpoint"))
        if file_id not in self.files:
            return _not_found("file", file_id)
        if endpoint not in _ENDPOINTS:
            return json_response(400, error_body(f"endpoint must be one of {sorted(_ENDPOINTS)}, got {endpoint!r}"))
        batch = _Batch(
            f"batch_{len(self.batches) + 1:06d}", file_id, endpoint, body.get("completion_window", "24h"),
            body.get("metadata"),
        )  # fmt: skip
        self.batches[batch.id] = batch
        self.created += 1
        return _json(batch.describe())

    def _due(self, batch: _Batch) -> bool:
        return time.monotonic() - batch.created >= self.delay

    def _look(self, batch: _Batch) -> _Batch:
        """The batch as it is now: run once it is due."""
        if batch.status == "in_progress" and self._due(batch):
            self._run(batch)
        return batch

    def _run(self, batch: _Batch) -> None:
        lines, problems = _lines(self.files[batch.input_file_id].content, batch.endpoint)
        batch.finished_at = int(time.time())
        if problems:
            batch.status, batch.errors = "failed", problems
            return
        endpoint = _ENDPOINTS[batch.endpoint]
        answered: list[str] = []
        failed: list[str] = []
        for number, (custom_id, body) in enumerate(lines):
            status, encoded = self._answer(endpoint, body)
            answer: Any = encoded.decode()
            with contextlib.suppress(ValueError):  # a malformed body (a fault) stays the string it is
                answer = json.loads(answer)
            line = {
                "id": f"batch_req_{batch.id}_{number}", "custom_id": custom_id,
                "response": {"status_code": status, "request_id": f"req_{batch.id}_{number}", "body": answer},
                "error": None,
            }  # fmt: skip
            (answered if status == 200 else failed).append(dumps(line))
        batch.counts = {"total": len(lines), "completed": len(answered), "failed": len(failed)}
        batch.output_file_id = self._store(answered, batch, "output")
        batch.error_file_id = self._store(failed, batch, "error")
        batch.status = "completed"

    def _answer(self, endpoint: Any, body: dict[str, Any]) -> tuple[int, bytes]:
        core = self.core
        core.requests += 1
        core.by_endpoint[endpoint] += 1
        self.requests += 1
        core.count_body(body)
        checked = core.check(endpoint, body)
        if isinstance(checked, tuple):
            return checked
        number = core.next_request_number()
        fake = FakeRequest(endpoint, checked.model, checked.messages, checked.prompt, body, 0, number)
        fault = core.draw_fault()
        prompt, completion = core.prompt_tokens, core.completion_tokens
        answer = core.reply(checked, fake, "500" if fault in ("drop", "trickle") else fault)
        self.prompt_tokens += core.prompt_tokens - prompt
        self.completion_tokens += core.completion_tokens - completion
        return answer

    def _store(self, lines: list[str], batch: _Batch, kind: str) -> str | None:
        if not lines:
            return None
        return self._add_file("batch_output", f"{batch.id}_{kind}.jsonl", ("\n".join(lines) + "\n").encode()).id

    def _add_file(self, purpose: str, filename: str, content: bytes) -> _File:
        """Store a file under the next id (an upload, or a batch's output or error file)."""
        stored = _File(f"file-{len(self.files) + 1:06d}", purpose, filename, content)
        self.files[stored.id] = stored
        return stored


def _lines(content: bytes, endpoint: str) -> tuple[list[tuple[str, dict[str, Any]]], list[dict[str, Any]]]:
    """The (custom_id, body) of every line of a batch input file, and the problems that fail the batch."""
    lines: list[tuple[str, dict[str, Any]]] = []
    problems: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, raw in enumerate(content.decode("utf-8", "replace").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
            custom_id, body, url = line["custom_id"], line["body"], line["url"]
            valid = isinstance(custom_id, str) and isinstance(body, dict) and line.get("method") == "POST"
        except (ValueError, KeyError, TypeError):
            valid, custom_id, url = False, "", endpoint
        if not valid:
            problems.append({"code": "invalid_request", "message": "not a batch request line", "line": number})
        elif url != endpoint:
            problems.append({"code": "invalid_url", "message": f"url {url!r} is not {endpoint!r}", "line": number})
        elif custom_id in seen:
            problems.append({"code": "duplicate_custom_id", "message": f"custom_id {custom_id!r}", "line": number})
        else:
            seen.add(custom_id)
            lines.append((custom_id, body))
    return lines, problems


def _json(payload: dict[str, Any]) -> web.Response:
    return json_response(200, dumps(payload).encode())


def _not_found(kind: str, name: str) -> web.Response:
    return json_response(404, error_body(f"No such {kind}: {name}", "invalid_request_error"))
