"""Provider batch APIs (``batch: true``): requests go out as one JSON Lines file per batch instead of one HTTP
request each, at the provider's batch price (OpenAI: half), answered within its completion window.

OpenAI's protocol, which vLLM's ``run-batch`` reads and writes as well: upload the requests (``POST /files``,
``purpose=batch``; a line is ``{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}``), create a
batch over the file (``POST /batches``), poll it (``GET /batches/{id}``) until it ends, download its output and
error files (``GET /files/{id}/content``), whose lines carry each request's status and body under its
``custom_id``.

A :class:`Batcher` (one per event loop of a client) gathers the requests the engine hands it — a batch is sealed
when no request came for ``linger`` seconds, or at ``max_requests`` — and answers each with the
:class:`~curator_synth.clients.transport.HTTPResponse` its line carries, so the engine classifies, retries,
journals and interprets it exactly as an online answer. A line that failed (a 5xx, a 429) is retried by the
engine in a later batch; requests a batch did not answer (it expired, was cancelled or failed) are retried too.

Nothing is paid twice (:mod:`~curator_synth.clients.batch_registry`): the custom id is the request's journal key;
the input file is recorded before its batch is created, the batch id once it is; a request whose key is in a batch
not yet collected — this run's, or one a killed run left — waits for that batch instead of being submitted again.
A batch is collected (recorded done) once every answer of it was journaled.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from time import monotonic
from typing import Any
from urllib.parse import urlsplit

from curator_synth.clients import protocol
from curator_synth.clients.batch_registry import BatchRegistry, Submitted
from curator_synth.clients.config import RetryPolicy
from curator_synth.clients.transport import HTTPRequest, HTTPResponse, Transport
from curator_synth.errors import APIStatusError, ConfigError, CuratorSynthError

__all__ = ["Batcher"]

logger = logging.getLogger("curator_synth.clients")

#: Statuses after which a batch changes no more.
_ENDED = ("completed", "failed", "expired", "cancelled")
#: A batch is sealed at most this many lingers after its first request, however steadily requests come.
_MAX_LINGERS = 20


@dataclass(eq=False)
class _Job:
    """One batch: the requests gathered for it, then its input file, then its answers by journal key (hex)."""

    path: str
    keys: set[str] = field(default_factory=set)
    lines: list[bytes] = field(default_factory=list)
    started: float = field(default_factory=monotonic)
    timer: asyncio.TimerHandle | None = None
    submitted: Submitted | None = None
    fresh: bool = True  # made by this run (its batch cannot exist before it creates it)
    task: asyncio.Task[None] | None = None
    waiters: dict[str, list[asyncio.Future[HTTPResponse]]] = field(default_factory=dict)
    results: dict[str, HTTPResponse] | None = None
    delivered: set[str] = field(default_factory=set)
    unsettled: int = 0


class Batcher:
    """Answers requests through the batch API of ``transport``'s endpoint (see the module)."""

    def __init__(
        self,
        transport: Transport,
        registry: BatchRegistry,
        *,
        base_url: str,
        retry: RetryPolicy,
        poll_seconds: float = 30.0,
        linger: float = 0.5,
        max_requests: int = 50_000,
        completion_window: str = "24h",
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self.transport = transport
        self.registry = registry
        self.retry = retry
        self.poll_seconds = poll_seconds
        self.linger = linger
        self.max_requests = max_requests
        self.completion_window = completion_window
        self._redact = redact
        self._prefix = urlsplit(base_url).path.rstrip("/")  # "/v1": a line's url is "/v1/chat/completions"
        self._filling: dict[str, _Job] = {}  # by endpoint path: the batch still gathering requests
        self._jobs: dict[str, _Job] = {}  # by input file id: the batches submitted and not collected

    async def answer(self, key: str, request: HTTPRequest) -> tuple[HTTPResponse, Callable[[], None]]:
        """The answer to ``request`` (journal key ``key``, hex), and the callback to call once it is journaled
        (or refused): a batch is collected when all its answers are settled."""
        job = self._job_of(key) or self._gather(key, request)
        if job.results is None:
            waiter: asyncio.Future[HTTPResponse] = asyncio.get_running_loop().create_future()
            job.waiters.setdefault(key, []).append(waiter)
            response = await waiter
        else:
            response = self._deliver(job, key)
        return response, lambda: self._settled(job)

    async def aclose(self) -> None:
        """Stop gathering and following (the batches stay with the provider, recorded for the next run)."""
        tasks = [job.task for job in (*self._filling.values(), *self._jobs.values()) if job.task is not None]
        for job in self._filling.values():
            if job.timer is not None:
                job.timer.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------------------------ gathering
    def _job_of(self, key: str) -> _Job | None:
        """The submitted batch that holds ``key`` and has not answered it yet (an earlier run's included)."""
        submitted = self.registry.open_file(key)
        if submitted is None:
            return None
        job = self._jobs.get(submitted.file)
        if job is None:
            job = self._jobs[submitted.file] = _Job(submitted.path, set(submitted.keys), fresh=False)
            job.submitted = submitted
        if key in job.delivered:
            return None  # asked again after its answer (a failed line, an unusable answer): a new batch
        if job.results is None and (job.task is None or job.task.done()):
            job.task = asyncio.create_task(self._run(job))  # adopted, or its following failed: follow it again
        return job

    def _gather(self, key: str, request: HTTPRequest) -> _Job:
        job = self._filling.get(request.path)
        if job is None:
            job = self._filling[request.path] = _Job(request.path)
        job.keys.add(key)
        url = f"{self._prefix}/{request.path}".encode()
        job.lines.append(
            b'{"custom_id":"%s","method":"POST","url":"%s","body":%s}\n' % (key.encode(), url, request.body)
        )
        if job.timer is not None:
            job.timer.cancel()
        loop = asyncio.get_running_loop()
        wait = min(self.linger, job.started + _MAX_LINGERS * self.linger - monotonic())
        if len(job.keys) >= self.max_requests or wait <= 0:
            self._seal(job)
        else:
            job.timer = loop.call_later(wait, self._seal, job)
        return job

    def _seal(self, job: _Job) -> None:
        if self._filling.get(job.path) is job:
            del self._filling[job.path]
        if job.timer is not None:
            job.timer.cancel()
        job.task = asyncio.create_task(self._run(job))

    # ------------------------------------------------------------------------------------ following
    async def _run(self, job: _Job) -> None:
        try:
            if job.submitted is None:
                content = b"".join(job.lines)
                uploaded = await self._call(_upload(content, f"curator-synth-{uuid.uuid4().hex[:12]}.jsonl"))
                job.lines = []
                job.submitted = self.registry.uploaded(str(uploaded["id"]), job.path, sorted(job.keys))
                self._jobs[job.submitted.file] = job
            submitted = job.submitted
            attempt = 0
            while submitted.batch is None:
                found = None if job.fresh else await self._find(submitted.file)
                try:
                    found = found or str((await self._call(self._create(submitted), retry=False))["id"])
                except CuratorSynthError as error:  # it may have been created all the same: look before again
                    job.fresh = False
                    if not self.retry.should_retry(error, attempt):
                        raise
                    await asyncio.sleep(self.retry.backoff(attempt, error))
                    attempt += 1
                    continue
                self.registry.created(submitted.file, found)
            batch = await self._poll(str(submitted.batch))
            results = await self._results(batch)
            self._finish(job, {key: results.get(key) or _unanswered(batch) for key in job.keys})
        except CuratorSynthError as error:
            job.fresh = False  # a creation that seemed to fail may have happened: look for it before creating
            self._fail(job, _unsupported(error) if job.submitted is None or job.submitted.batch is None else error)
        except Exception as error:  # a bug: the requests waiting for the batch raise it (nobody awaits this task)
            job.fresh = False
            self._fail(job, error)

    def _create(self, submitted: Submitted) -> HTTPRequest:
        body = {
            "input_file_id": submitted.file, "endpoint": f"{self._prefix}/{submitted.path}",
            "completion_window": self.completion_window, "metadata": {"curator_synth_file": submitted.file},
        }  # fmt: skip
        return HTTPRequest("batches", json.dumps(body).encode())

    async def _find(self, file: str) -> str | None:
        """The batch an earlier run created over ``file`` without recording it (killed in between), if any."""
        listed = await self._call(HTTPRequest("batches?limit=100", b"", method="GET"))
        for batch in listed.get("data") or []:
            if isinstance(batch, dict) and batch.get("input_file_id") == file:
                return str(batch["id"])
        return None

    async def _poll(self, batch_id: str) -> dict[str, Any]:
        seen = None
        while True:
            batch = await self._call(HTTPRequest(f"batches/{batch_id}", b"", method="GET"))
            status, counts = batch.get("status"), batch.get("request_counts") or {}
            if (status, counts) != seen:
                seen = (status, counts)
                logger.info("batch %s: %s, %s of %s requests done", batch_id, status,
                            counts.get("completed", "?"), counts.get("total", "?"))  # fmt: skip
            if status in _ENDED:
                return batch
            await asyncio.sleep(self.poll_seconds)

    async def _results(self, batch: dict[str, Any]) -> dict[str, HTTPResponse]:
        results: dict[str, HTTPResponse] = {}
        for name in ("output_file_id", "error_file_id"):
            if batch.get(name):
                request = HTTPRequest(f"files/{batch[name]}/content", b"", method="GET")
                content = await self._call(request, raw=True)
                for raw in content.splitlines():
                    line = _line(raw)
                    if line is not None:
                        results[line[0]] = line[1]
        return results

    async def _call(self, request: HTTPRequest, raw: bool = False, retry: bool = True) -> Any:
        """One control request, retried on transient failures as a generation request is (``retry``); its JSON
        (or, ``raw``, its bytes)."""
        attempt = 0
        while True:
            try:
                response = await self.transport.send(request)
                if raw and 200 <= response.status < 300:
                    return response.body
                return protocol.decode_document(response, lambda: self.transport.summary(request), self._redact)
            except CuratorSynthError as error:
                if not retry or not self.retry.should_retry(error, attempt):
                    raise
                await asyncio.sleep(self.retry.backoff(attempt, error))
                attempt += 1

    # ------------------------------------------------------------------------------------ answering
    def _finish(self, job: _Job, results: dict[str, HTTPResponse]) -> None:
        job.results = results
        waiters, job.waiters = job.waiters, {}
        for key, futures in waiters.items():
            for future in futures:
                if not future.done():
                    future.set_result(self._deliver(job, key))

    def _fail(self, job: _Job, error: Exception) -> None:
        waiters, job.waiters = job.waiters, {}
        for futures in waiters.values():
            for future in futures:
                if not future.done():
                    future.set_exception(error)

    def _deliver(self, job: _Job, key: str) -> HTTPResponse:
        assert job.results is not None
        job.delivered.add(key)
        job.unsettled += 1
        return job.results[key]

    def _settled(self, job: _Job) -> None:
        job.unsettled -= 1
        submitted = job.submitted
        if job.unsettled == 0 and submitted is not None and job.delivered >= job.keys:
            self.registry.collected(submitted.file)
            self._jobs.pop(submitted.file, None)


def _upload(content: bytes, filename: str) -> HTTPRequest:
    """``POST files``: a multipart form with ``purpose=batch`` and the JSON Lines ``file``."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/jsonl\r\n\r\n"
    )
    body = head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return HTTPRequest("files", body, content_type=f"multipart/form-data; boundary={boundary}")


def _line(raw: bytes) -> tuple[str, HTTPResponse] | None:
    """(custom_id, the answer it carries) of an output or error file line; None for a line that is not one."""
    try:
        line = json.loads(raw)
        custom_id = str(line["custom_id"])
    except (ValueError, KeyError, TypeError):
        return None
    response = line.get("response")
    if isinstance(response, dict) and isinstance(response.get("status_code"), int):
        body = response.get("body")
        encoded = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        return custom_id, HTTPResponse(response["status_code"], {}, encoded)
    error = line.get("error") if isinstance(line.get("error"), dict) else {}
    said = f"{error.get('code') or 'error'}: {error.get('message') or 'no message'}"
    return custom_id, _error(500, f"the batch did not answer this request ({said})")


def _unanswered(batch: dict[str, Any]) -> HTTPResponse:
    """The answer of a request its batch ended without: transient (a later batch asks again), unless the batch
    failed validation line by line (then no batch would take it)."""
    status = batch.get("status")
    errors = (batch.get("errors") or {}).get("data") or []
    said = "; ".join(f"line {e.get('line')}: {e.get('code')}: {e.get('message')}" for e in errors[:3] if e)
    permanent = status == "failed" and any(isinstance(e, dict) and e.get("line") for e in errors)
    message = f"batch {batch.get('id')} ended {status} without answering this request" + (f" ({said})" if said else "")
    return _error(400 if permanent else 503, message)


def _error(status: int, message: str) -> HTTPResponse:
    body = {"error": {"message": message, "type": "server_error" if status >= 500 else "invalid_request_error"}}
    return HTTPResponse(status, {}, json.dumps(body).encode())


def _unsupported(error: CuratorSynthError) -> CuratorSynthError:
    """A refusal of the upload or of the batch's creation: the endpoint has no batch API (vLLM's and llama.cpp's
    servers have none), or refuses this one."""
    if isinstance(error, APIStatusError) and error.status_code in (404, 405, 501):
        return ConfigError(f"the endpoint has no batch API ({error}): run this stage with batch: false")
    return error
