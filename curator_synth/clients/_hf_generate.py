"""In-process generation behind the request engine: an OpenAI-protocol transport over a Hugging Face model.

:class:`InProcessTransport` takes the engine's canonical request (a chat or completions body, exactly what
would go to an endpoint), hands it to a :class:`BatchGenerator` and answers with an OpenAI-shaped JSON body
(``choices`` + ``usage``). The engine around it therefore gives the in-process client the same journal,
retries, concurrency window and :class:`~curator_synth.clients.stats.ClientStats` as the endpoint clients.

:class:`BatchGenerator` owns one daemon thread (started on demand, gone after 30 s idle). Requests from
any event loop queue up; the thread takes the first, gathers more for up to ``gather_window`` seconds (or until
``max_batch_size`` rows), renders and tokenizes the prompts, left-pads them into one batch (a request with ``n``
answers is ``n`` rows) and calls ``model.generate`` once; torch releases the GIL, so the event loop keeps
running. Requests that arrive during a generation form the next batch.

Sampling and stopping are per row (:mod:`curator_synth.clients._hf_sampling`), so requests with different
parameters and seeds share a batch.

This module imports torch and transformers; :mod:`curator_synth.clients.transformers` imports it lazily.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import GenerationConfig, LogitsProcessorList

from curator_synth.clients import protocol
from curator_synth.clients._hf_sampling import RowSampler, RowStopper, row_seed, stop_strings
from curator_synth.clients.config import ConnectionConfig
from curator_synth.clients.transport.base import HTTPRequest, HTTPResponse, Transport
from curator_synth.errors import (
    ConfigError,
    ConversationFormatError,
    CuratorSynthError,
    RequestSummary,
    ServerError,
)

__all__ = ["BatchGenerator", "GenerationStats", "InProcessTransport"]

#: Locks that serialise ``generate`` per model object across the clients of a process (cores are shared).
_MODEL_LOCKS: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
_MODEL_LOCKS_GUARD = threading.Lock()


def _model_lock(model: Any) -> threading.Lock:
    with _MODEL_LOCKS_GUARD:
        lock = _MODEL_LOCKS.get(model)
        if lock is None:
            lock = _MODEL_LOCKS[model] = threading.Lock()
        return lock


@dataclass
class _Job:
    """One request waiting for generation, parsed from its canonical body."""

    chat: bool
    body: dict[str, Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[dict[str, Any]]
    ids: list[int] = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(self.body.get("n", 1))


@dataclass
class GenerationStats:
    """What the generator thread did: ``generate()`` calls, rows generated, seconds inside ``generate``."""

    batches: int = 0
    rows: int = 0
    requests: int = 0
    seconds: float = 0.0


class BatchGenerator:
    """Gathers requests into batches and generates them with ``model.generate`` in one daemon thread."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        model_name: str,
        max_batch_size: int = 8,
        gather_window: float = 0.01,
        idle_timeout: float = 30.0,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.model_name = model_name
        self.max_batch_size = max_batch_size
        self.gather_window = gather_window
        self.idle_timeout = idle_timeout
        self.stats = GenerationStats()
        self.eos_ids = self._eos_ids()
        pad = tokenizer.pad_token_id
        if pad is None:
            pad = getattr(model.generation_config, "pad_token_id", None)
        if pad is None:
            pad = min(self.eos_ids) if self.eos_ids else 0
        self.pad_id: int = int(pad)
        self.context = getattr(model.config, "max_position_embeddings", None)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._carry: _Job | None = None

    def _eos_ids(self) -> frozenset[int]:
        ids: set[int] = set()
        for value in (getattr(self.model.generation_config, "eos_token_id", None), self.tokenizer.eos_token_id):
            if isinstance(value, int):
                ids.add(value)
            elif isinstance(value, (list, tuple)):
                ids.update(int(item) for item in value)
        return frozenset(ids)

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    # ------------------------------------------------------------------------------------- event-loop side
    def transport_factory(self, config: ConnectionConfig) -> Transport:
        return InProcessTransport(config, self)

    def submit(self, path: str, body: dict[str, Any]) -> asyncio.Future[dict[str, Any]]:
        """Queue one request; the future resolves to its OpenAI-shaped response payload."""
        loop = asyncio.get_running_loop()
        job = _Job(chat=path == protocol.CHAT_PATH, body=body, loop=loop, future=loop.create_future())
        with self._thread_lock:  # the thread only exits, under this lock, when the queue is empty
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="curator-synth-generate", daemon=True)
                self._thread.start()
            self._queue.put(job)
        return job.future

    # --------------------------------------------------------------------------------------- thread side
    def _run(self) -> None:
        """Generate batch after batch; exit after ``idle_timeout`` seconds without requests (started again on use)."""
        while True:
            if self._carry is None:
                try:
                    first = self._queue.get(timeout=self.idle_timeout)
                except queue.Empty:
                    with self._thread_lock:
                        if self._queue.empty():
                            self._thread = None
                            return
                    continue
            else:
                first, self._carry = self._carry, None
            self._generate(self._gather(first))

    def _gather(self, first: _Job) -> list[_Job]:
        """The batch of ``first`` and whatever arrives within ``gather_window``, up to ``max_batch_size`` rows."""
        batch, rows = [first], first.n
        deadline = time.monotonic() + self.gather_window
        while rows < self.max_batch_size:
            try:
                job = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if rows + job.n > self.max_batch_size:
                self._carry = job  # first of the next batch
                break
            batch.append(job)
            rows += job.n
        return batch

    def _prepare(self, job: _Job) -> None:
        body = job.body
        if job.chat:
            if not self.has_chat_template:
                raise ConversationFormatError(
                    f"the tokenizer of {self.model_name!r} has no chat template: pass conversation_formatter"
                )
            try:
                text = self.tokenizer.apply_chat_template(body["messages"], add_generation_prompt=True, tokenize=False)
            except Exception as error:  # jinja errors, e.g. "System role not supported"
                raise ConversationFormatError(f"the chat template of {self.model_name!r} failed: {error}") from error
            job.ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        else:
            text = body["prompt"]
            bos = self.tokenizer.bos_token
            special = not (isinstance(bos, str) and bos and text.startswith(bos))
            job.ids = list(self.tokenizer(text, add_special_tokens=special)["input_ids"])
        if not job.ids:
            raise ConversationFormatError("the prompt is empty: there is nothing to continue")
        if self.context is not None and len(job.ids) + int(body["max_tokens"]) > self.context:
            raise ConfigError(
                f"the prompt has {len(job.ids)} tokens; with max_tokens={body['max_tokens']} it exceeds the "
                f"context of {self.model_name!r} ({self.context} tokens)"
            )

    def _generate(self, batch: list[_Job]) -> None:
        ready: list[_Job] = []
        for job in batch:
            if job.future.cancelled():
                continue
            try:
                self._prepare(job)
            except CuratorSynthError as error:
                _deliver(job, error)
            else:
                ready.append(job)
        if not ready:
            return
        try:
            payloads = self._generate_ready(ready)
        except RuntimeError as error:  # torch failures (out of memory, ...): typed and retryable
            failure = ServerError(
                f"in-process generation failed: {type(error).__name__}: {error}",
                status_code=500,
                request=_summary(self.model_name),
            )
            failure.__cause__ = error
            for job in ready:
                _deliver(job, failure)
        except BaseException as error:  # a bug: reaches the caller as it is
            for job in ready:
                _deliver(job, error)
        else:
            for job, payload in zip(ready, payloads, strict=True):
                _deliver(job, payload)

    def _generate_ready(self, jobs: list[_Job]) -> list[dict[str, Any]]:
        rows = [job for job in jobs for _ in range(job.n)]
        width = max(len(job.ids) for job in jobs)
        input_ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(rows), width), dtype=torch.long)
        for index, job in enumerate(rows):
            input_ids[index, width - len(job.ids) :] = torch.tensor(job.ids, dtype=torch.long)
            attention[index, width - len(job.ids) :] = 1
        seeds = [row_seed(job.body.get("seed"), k) for job in jobs for k in range(job.n)]
        max_tokens = [int(job.body["max_tokens"]) for job in rows]
        sampler = RowSampler([job.body for job in rows], seeds, width)
        stopper = RowStopper(
            width, max_tokens, [stop_strings(job.body.get("stop")) for job in rows], self.eos_ids, self._decode
        )
        config = GenerationConfig(
            max_new_tokens=max(max_tokens),
            do_sample=False,
            num_beams=1,
            repetition_penalty=1.0,
            no_repeat_ngram_size=0,
            min_new_tokens=0,
            pad_token_id=self.pad_id,
            eos_token_id=sorted(self.eos_ids) or None,
        )
        device = getattr(self.model, "device", torch.device("cpu"))
        started = time.perf_counter()
        with _model_lock(self.model), torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids.to(device),
                attention_mask=attention.to(device),
                generation_config=config,
                logits_processor=LogitsProcessorList([sampler]),
                stopping_criteria=[stopper],
            )
        self.stats.seconds += time.perf_counter() - started
        self.stats.batches += 1
        self.stats.rows += len(rows)
        self.stats.requests += len(jobs)
        generated = output[:, width:].tolist()
        payloads: list[dict[str, Any]] = []
        row = 0
        for job in jobs:
            choices, completion = [], 0
            for k in range(job.n):
                tokens = generated[row]
                length = stopper.lengths[row]
                if length is None:  # generation ended with the batch (cannot happen with RowStopper; be safe)
                    length = len(tokens)
                    while length and tokens[length - 1] == self.pad_id:
                        length -= 1
                tokens = tokens[:length]
                completion += length
                text, stopped = self._text(tokens, stop_strings(job.body.get("stop")))
                finish = "length" if stopper.hit_length[row] and not stopped else "stop"
                choices.append(self._choice(job.chat, k, text, finish))
                row += 1
            payloads.append(
                {
                    "object": "chat.completion" if job.chat else "text_completion",
                    "model": self.model_name,
                    "choices": choices,
                    "usage": {
                        "prompt_tokens": len(job.ids),
                        "completion_tokens": completion,
                        "total_tokens": len(job.ids) + completion,
                    },
                }
            )
        return payloads

    def _decode(self, tokens: list[int]) -> str:
        return str(self.tokenizer.decode(tokens, skip_special_tokens=False))

    def _text(self, tokens: list[int], stops: tuple[str, ...]) -> tuple[str, bool]:
        """The answer text (end-of-sequence token dropped, cut before the first stop string) and whether it was cut."""
        if tokens and tokens[-1] in self.eos_ids:
            tokens = tokens[:-1]
        text = self._decode(tokens)
        cuts = [text.find(stop) for stop in stops if stop and stop in text]
        return (text[: min(cuts)], True) if cuts else (text, False)

    @staticmethod
    def _choice(chat: bool, index: int, text: str, finish: str) -> dict[str, Any]:
        if chat:
            return {"index": index, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
        return {"index": index, "text": text, "finish_reason": finish}


def _summary(model_name: str) -> RequestSummary:
    return RequestSummary.create("POST", "http://in-process.invalid/v1/", model_name)


def _deliver(job: _Job, outcome: dict[str, Any] | BaseException) -> None:
    """Resolve the job's future on its own event loop (the loop may be gone: then nobody waits)."""

    def resolve() -> None:
        if job.future.done():
            return
        if isinstance(outcome, BaseException):
            job.future.set_exception(outcome)
        else:
            job.future.set_result(outcome)

    with contextlib.suppress(RuntimeError):  # the loop was closed
        job.loop.call_soon_threadsafe(resolve)


class InProcessTransport(Transport):
    """The engine's transport for in-process generation: the request body in, an OpenAI-shaped body out."""

    def __init__(self, config: ConnectionConfig, generator: BatchGenerator) -> None:
        super().__init__(config)
        self.generator = generator

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        payload = await self.generator.submit(request.path, json.loads(request.body))
        return HTTPResponse(200, {}, protocol.encode_body(payload))

    async def aclose(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.generator.model_name!r})"
