"""FakeLLMServer lifecycle (start, stop, failures) and process mode, with plain httpx clients."""

from __future__ import annotations

import multiprocessing
import socket
import threading
import time
from typing import Any

import httpx
import pytest

from curator_synth.errors import ConfigError
from curator_synth.testing import Echo, FakeLLMServer, Faults


def chat_body(content: str = "hello fake world", **options: Any) -> dict[str, Any]:
    return {"model": "fake-model", "messages": [{"role": "user", "content": content}], **options}


def chat(client: httpx.Client, srv: FakeLLMServer, body: dict[str, Any]) -> httpx.Response:
    return client.post(f"{srv.base_url}/chat/completions", json=body)


def server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("FakeLLMServer")]


# ------------------------------------------------------------------------------------------ lifecycle
def test_base_url_start_stop_and_repr() -> None:
    srv = FakeLLMServer()
    assert not srv.running
    with pytest.raises(RuntimeError):
        srv.base_url  # noqa: B018
    assert srv.start() is srv
    assert srv.start() is srv  # already running: no second server
    port = srv.port
    assert srv.base_url == f"http://127.0.0.1:{port}/v1"
    assert repr(srv) == f"<FakeLLMServer mode=thread http://127.0.0.1:{port}/v1>"
    assert len(server_threads()) == 1
    srv.stop()
    srv.stop()
    assert not srv.running
    assert server_threads() == []
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2)


def test_stop_is_quick_with_requests_in_flight_and_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    errors: list[BaseException] = []
    srv = FakeLLMServer(latency=30.0).start()

    def call() -> None:
        try:
            httpx.post(f"{srv.base_url}/chat/completions", json=chat_body(), timeout=10)
        except BaseException as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    deadline = time.monotonic() + 5
    while srv.stats()["in_flight"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.perf_counter()
    srv.stop()
    stop_time = time.perf_counter() - started
    caller.join(5)
    assert stop_time < 1.0
    assert len(errors) == 1
    assert isinstance(errors[0], httpx.RemoteProtocolError)
    assert server_threads() == []
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""


def test_failed_start_raises_and_stop_is_safe() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        srv = FakeLLMServer(port=busy.getsockname()[1])
        with pytest.raises(OSError, match="in use"):
            srv.start()
        srv.stop()
        srv.stop()
    assert not srv.running
    assert server_threads() == []


def test_bad_arguments_fail_in_constructor() -> None:
    with pytest.raises(ConfigError):
        FakeLLMServer(mode="fiber")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        FakeLLMServer(latency=(2, 1))
    with pytest.raises(ConfigError):
        FakeLLMServer(rpm_limit=0)
    with pytest.raises(ConfigError):
        FakeLLMServer(rpm_limit=5, rate_window=0)
    with pytest.raises(ConfigError):
        FakeLLMServer(rpm_limit=5, rate_limit_headers="no")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        FakeLLMServer(faults={"drop": 1.0})  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------- process mode
def test_process_mode_serves_counts_and_injects_faults(client: httpx.Client, capfd: pytest.CaptureFixture[str]) -> None:
    srv = FakeLLMServer(Echo("P:"), mode="process", faults=Faults(script=["500", "drop"]))
    with srv:
        process = srv._process
        assert process is not None
        assert process.is_alive()
        assert server_threads() == []  # nothing runs in this process
        assert chat(client, srv, chat_body()).status_code == 500
        with pytest.raises(httpx.RemoteProtocolError):
            chat(client, srv, chat_body())
        ok = chat(client, srv, chat_body("hi there"))
        assert ok.json()["choices"][0]["message"]["content"] == "P:hi there"
        assert srv.hits(chat_body("hi there")) == 1
        assert srv.hits(chat_body()) == 2
        stats = srv.stats()
        assert stats["requests"] == 3
        assert stats["faults"]["500"] == stats["faults"]["drop"] == 1
        assert stats["by_status"] == {"500": 1, "200": 1}
        srv.set_faults(Faults(rate_limit=1.0, retry_after=0.5))
        limited = chat(client, srv, chat_body())
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "0.5"
        srv.set_faults(None)
        srv.set_latency(0.2)
        started = time.perf_counter()
        assert chat(client, srv, chat_body()).status_code == 200
        assert time.perf_counter() - started >= 0.2
        with pytest.raises(ConfigError):
            srv.set_latency(lambda r: 0.1)  # a callable cannot cross into the child
        srv.reset_stats()
        assert srv.stats()["requests"] == 0
    assert srv._last_exitcode == 0  # stopped cleanly, not killed
    assert multiprocessing.active_children() == []
    srv.stop()
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""
