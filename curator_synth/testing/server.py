"""FakeLLMServer: a loopback OpenAI-compatible HTTP server with fault injection, for tests and benchmarks.

The server runs either in a daemon thread with its own event loop (``mode="thread"``) or in a forked child
process (``mode="process"``: benchmarks then do not share the GIL with the client under test). Both modes
are driven through the same control endpoints on the server itself (``GET /_fake/stats``,
``GET /_fake/hits``, ``POST /_fake/reset``, ``POST /_fake/config``), so the control API behaves the same in
both. The listening socket is bound by :meth:`FakeLLMServer.start` in the calling thread, so a busy port
fails there, and the port is known before the server loop runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import multiprocessing
import signal
import socket
import threading
import warnings
from collections.abc import Sequence
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

from curator_synth.errors import ConfigError
from curator_synth.testing._core import ServerCore, body_key, serve
from curator_synth.testing.batches import check_batch_delay
from curator_synth.testing.faults import Faults
from curator_synth.testing.latency import Latency, check_latency
from curator_synth.testing.responders import Echo, Responder

__all__ = ["FakeLLMServer"]

_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 5.0
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}


class FakeLLMServer:
    """An OpenAI-compatible server on the loopback interface that answers with a responder.

    Use it as a context manager, or ``start()`` (returns ``self``) and ``stop()`` (safe to call twice, or
    after a failed start). Endpoints: ``POST /v1/chat/completions``, ``POST /v1/completions``,
    ``GET /v1/models``, and OpenAI's batch API; responses have OpenAI's shapes and ``usage`` counted with
    :func:`~curator_synth.testing.count_tokens`.

    - ``responder``: callable ``(FakeRequest) -> str | FakeReply``, once per choice (default :class:`Echo`).
      In process mode the child uses its forked copy: state kept in it is not visible in the parent.
    - ``latency``: seconds before answering (``asyncio.sleep``): a float, a ``(low, high)`` uniform range
      drawn with ``seed``, or a callable ``(FakeRequest) -> float``. Requests refused with 400/401/429
      are answered at once.
    - ``faults``: :class:`Faults` to inject into generation requests (None: none).
    - ``api_key``: when set, ``/v1`` requests need ``Authorization: Bearer <api_key>``; else 401, whose
      ``WWW-Authenticate: Bearer <token>`` echoes the token sent (as some real servers do).
    - ``rpm_limit``: requests admitted per rolling ``rate_window`` seconds (default 60: requests per minute); the
      others get 429 with ``Retry-After`` and OpenAI's ``x-ratelimit-*-requests`` headers (sent on admitted answers
      too). ``rate_limit_headers=False`` sends no ``x-ratelimit-*`` header at all and refuses with only
      ``Retry-After: 1``, as many gateways do (a client must then learn the rate from the 429s alone).
      A shorter ``rate_window`` runs rate-limit scenarios in seconds instead of minutes.
    - ``context_length``: the model's context in (fake) tokens, as vLLM serves it: the listing gives it as
      ``max_model_len``, and a request whose prompt tokens plus ``max_tokens`` exceed it gets vLLM's 400 ("This
      model's maximum context length is N tokens ...").
    - ``unsupported``: body fields refused with OpenAI's 400 ``unsupported_parameter`` (``param`` names the field),
      e.g. ``("max_tokens",)`` as OpenAI's reasoning models refuse it ("Use 'max_completion_tokens' instead").
    - ``batch_delay``: seconds from a batch's creation to its completion, for the batch API (``/v1/files``,
      ``/v1/batches``: :mod:`curator_synth.testing.batches`); each line is answered as the online endpoint answers
      it, ``faults`` included, so a batch can complete with some lines failed.
    - ``port=0`` picks a free port; read it from :attr:`port` or :attr:`base_url` after ``start()``.

    The control methods (:meth:`stats`, :meth:`hits`, :meth:`reset_stats`, :meth:`set_faults`,
    :meth:`set_latency`, :meth:`set_batch_delay`) are blocking HTTP calls to the server; call them from the test,
    never from inside a responder (the server would wait on itself).
    """

    def __init__(
        self,
        responder: Responder | None = None,
        latency: Latency = 0.0,
        faults: Faults | None = None,
        mode: Literal["thread", "process"] = "thread",
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        rpm_limit: int | None = None,
        seed: int = 0,
        rate_window: float = 60.0,
        rate_limit_headers: bool = True,
        context_length: int | None = None,
        unsupported: Sequence[str] = (),
        batch_delay: float = 0.0,
    ) -> None:
        if mode not in ("thread", "process"):
            raise ConfigError(f"mode must be 'thread' or 'process', got {mode!r}")
        if faults is not None and not isinstance(faults, Faults):
            raise ConfigError(f"faults must be a Faults instance or None, got {type(faults).__name__}")
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigError(f"port must be an int in 0..65535, got {port!r}")
        self.mode = mode
        self.host = host
        self._requested_port = port
        self._core_args = (
            responder if responder is not None else Echo(),
            check_latency(latency),
            faults,
            api_key,
            rpm_limit,
            seed,
            rate_window,
            rate_limit_headers,
            context_length,
            unsupported,
            batch_delay,
        )
        # Build one core now so bad arguments (rpm_limit, rate_window, latency) fail in the constructor.
        ServerCore(*self._core_args)
        self._port: int | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._core: ServerCore | None = None  # thread mode only: the core living on self._loop
        self._process: Any = None  # multiprocessing.context.ForkProcess
        self._conn: Connection | None = None
        self._last_exitcode: int | None = None  # process mode: exit code of the last child (0 = clean stop)

    # ------------------------------------------------------------------------------------- lifecycle
    @property
    def running(self) -> bool:
        """True between a successful ``start()`` and ``stop()``."""
        return self._port is not None

    @property
    def port(self) -> int:
        """The bound TCP port (raises if the server is not running)."""
        if self._port is None:
            raise RuntimeError("FakeLLMServer is not running: call start() or use it as a context manager")
        return self._port

    @property
    def _connect_host(self) -> str:
        return _WILDCARDS.get(self.host, self.host)

    @property
    def url(self) -> str:
        """``http://host:port`` (no path), e.g. for the control endpoints."""
        host = self._connect_host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI base URL to give a client: ``http://127.0.0.1:<port>/v1``."""
        return f"{self.url}/v1"

    def start(self) -> FakeLLMServer:
        """Bind, start serving and wait until the server accepts requests; a running server is left as is."""
        with self._lock:
            if self._port is not None:
                return self
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.create_server((self.host, self._requested_port), family=family, backlog=2048)
            port = sock.getsockname()[1]
            try:
                if self.mode == "thread":
                    self._start_thread(sock)
                else:
                    self._start_process(sock)
            except BaseException:
                sock.close()
                self._teardown()
                raise
            self._port = port
            return self

    def _start_thread(self, sock: socket.socket) -> None:
        ready = threading.Event()
        errors: list[BaseException] = []

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop_event = asyncio.Event()
            self._core = ServerCore(*self._core_args)
            await serve(self._core, sock, ready.set, self._stop_event)

        def run() -> None:
            try:
                asyncio.run(main())
            except BaseException as exc:
                errors.append(exc)
            finally:
                ready.set()

        port = sock.getsockname()[1]
        self._thread = threading.Thread(target=run, name=f"FakeLLMServer:{port}", daemon=True)
        self._thread.start()
        if not ready.wait(_START_TIMEOUT):
            raise RuntimeError(f"FakeLLMServer did not start within {_START_TIMEOUT:g} s")
        if errors:
            raise RuntimeError(f"FakeLLMServer failed to start: {errors[0]!r}") from errors[0]

    def _start_process(self, sock: socket.socket) -> None:
        context = multiprocessing.get_context("fork")
        parent_conn, child_conn = context.Pipe()
        self._conn = parent_conn
        port = sock.getsockname()[1]
        self._process = context.Process(
            target=_child_main,
            args=(self._core_args, sock, child_conn, parent_conn),
            name=f"FakeLLMServer:{port}",
            daemon=True,
        )
        with warnings.catch_warnings():
            # Python >= 3.12 warns about fork() in a multi-threaded parent; the child only runs the server.
            warnings.filterwarnings("ignore", message=r".*fork\(\).*", category=DeprecationWarning)
            self._process.start()
        child_conn.close()
        sock.close()  # the child has its own copy
        if not parent_conn.poll(_START_TIMEOUT):
            raise RuntimeError(f"FakeLLMServer process did not start within {_START_TIMEOUT:g} s")
        try:
            status, detail = parent_conn.recv()
        except EOFError:
            status, detail = "error", f"child exited with code {self._process.exitcode}"
        if status != "ready":
            raise RuntimeError(f"FakeLLMServer process failed to start: {detail}")

    def stop(self) -> None:
        """Stop serving, close every connection (in-flight requests see a disconnect) and join the thread
        or child process. Idempotent."""
        with self._lock:
            self._port = None
            self._teardown()

    def _teardown(self) -> None:
        loop, stop_event, thread = self._loop, self._stop_event, self._thread
        if loop is not None and stop_event is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(stop_event.set)
        if thread is not None:
            thread.join(_STOP_TIMEOUT)
        self._loop = self._stop_event = self._thread = self._core = None

        process, conn = self._process, self._conn
        if conn is not None:
            with contextlib.suppress(OSError, ValueError):
                conn.send("stop")
        if process is not None:
            process.join(_STOP_TIMEOUT)
            if process.is_alive():
                process.terminate()
                process.join(1.0)
            if process.is_alive():
                process.kill()
                process.join()
            self._last_exitcode = process.exitcode
            process.close()
        if conn is not None:
            conn.close()
        self._process = self._conn = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._port is not None else "stopped"
        return f"<FakeLLMServer mode={self.mode} {where}>"

    # --------------------------------------------------------------------------------------- control
    def _control(self, method: str, path: str, payload: Any = None) -> Any:
        conn = http.client.HTTPConnection(self._connect_host, self.port, timeout=30)
        try:
            body = json.dumps(payload).encode() if payload is not None else None
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise ConfigError(f"FakeLLMServer control {method} {path} failed: {data.decode(errors='replace')}")
        return json.loads(data)

    def stats(self) -> dict[str, Any]:
        """Counters since start or the last :meth:`reset_stats`.

        Keys: ``requests`` (``/v1`` requests received, faults included), ``responses_ok`` (well-formed 200s),
        ``rate_limited`` (429s of ``rpm_limit``), ``by_endpoint`` (``chat``, ``completions``, ``models``),
        ``by_status`` (status as str → count; dropped requests have none), ``faults`` (injected faults per
        kind), ``in_flight``, ``max_in_flight`` (peak concurrent ``/v1`` requests, latency sleeps included),
        ``prompt_tokens`` and ``completion_tokens`` (of well-formed answers), ``completion_token_limit`` (the
        sum of ``max_tokens`` × ``n`` they asked for), ``unlimited_choices`` and ``unlimited_completion_tokens``
        (answers asked without a limit, and their tokens), ``body_hits`` (sha256 of the canonical body → count,
        see :meth:`hits`), ``faults_config`` and ``latency`` (current settings).
        """
        stats: dict[str, Any] = self._control("GET", "/_fake/stats")
        return stats

    def hits(self, body: dict[str, Any]) -> int:
        """How many times exactly this JSON body was POSTed to ``/v1/*`` (401/429/400 answers included)."""
        return int(self._control("GET", f"/_fake/hits?key={quote(body_key(body))}")["hits"])

    def reset_stats(self) -> None:
        """Zero the counters (requests in flight stay in flight; request numbering goes on)."""
        self._control("POST", "/_fake/reset")

    def set_faults(self, faults: Faults | None) -> None:
        """Replace the injected faults; a new ``script`` starts with the next generation request."""
        if faults is not None and not isinstance(faults, Faults):
            raise ConfigError(f"faults must be a Faults instance or None, got {type(faults).__name__}")
        self._control("POST", "/_fake/config", {"faults": faults.to_json() if faults else None})

    def set_batch_delay(self, seconds: float) -> None:
        """Seconds from a batch's creation to its completion, for the batches created from now on and those still
        running (a batch completes when it is next looked at once that much time has passed)."""
        self._control("POST", "/_fake/config", {"batch_delay": check_batch_delay(seconds)})

    def set_latency(self, latency: Latency) -> None:
        """Replace the latency. A callable can only be set at run time in thread mode (it cannot cross into
        the child process); pass it to the constructor in process mode."""
        latency = check_latency(latency)
        if not callable(latency):
            self._control("POST", "/_fake/config", {"latency": latency})
            return
        if self.mode != "thread" or self._loop is None:
            raise ConfigError("a callable latency can be set at run time only in thread mode")
        core, loop = self._core, self._loop
        assert core is not None

        async def apply() -> None:
            core.set_latency(latency)

        asyncio.run_coroutine_threadsafe(apply(), loop).result(_STOP_TIMEOUT)


def _child_main(core_args: tuple[Any, ...], sock: socket.socket, conn: Connection, parent_end: Connection) -> None:
    """Entry point of the forked server process: serve until told to stop or the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business; no child traceback
    parent_end.close()  # so the parent's death shows here as EOF

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_reader(conn.fileno(), stop.set)  # "stop" message or EOF
        core = ServerCore(*core_args)

        def ready() -> None:
            conn.send(("ready", None))

        try:
            await serve(core, sock, ready, stop)
        finally:
            loop.remove_reader(conn.fileno())

    try:
        asyncio.run(main())
    except BaseException as exc:
        with contextlib.suppress(OSError):
            conn.send(("error", repr(exc)))
    finally:
        conn.close()
