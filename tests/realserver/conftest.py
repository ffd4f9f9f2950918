"""A real OpenAI-compatible inference server for the ``realserver`` tests: llama.cpp (``python -m
llama_cpp.server``) on 127.0.0.1 with the tiny random Llama of ``tests/data/models``.

Needs ``pip install 'llama-cpp-python[server]'`` (CI installs the wheel built for this machine kind from
``../shared/wheels``). Without it the tests are skipped with that reason; with ``CI`` set they fail instead, so CI
can never pass without running them.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

MODEL = Path(__file__).resolve().parents[1] / "data" / "models" / "tiny-random-llama.gguf"
ALIAS = "tiny-random"
CONTEXT = 2048
_NEEDS = "pip install 'llama-cpp-python[server]' (CI installs the wheel from ../shared/wheels)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.realserver)


class LlamaServer:
    """One ``llama_cpp.server`` process; :meth:`kill` and :meth:`start` again reuse the port. Its access log (one
    line per answered request) is in :attr:`log`."""

    def __init__(self, log: Path, port: int | None = None) -> None:
        self.log = log
        self.port = port or _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LlamaServer:
        command = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(MODEL), "--model_alias", ALIAS,
            "--n_ctx", str(CONTEXT), "--host", "127.0.0.1", "--port", str(self.port), "--n_threads", "2",
        ]  # fmt: skip
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def answered(self) -> int:
        """Generation requests answered 200 so far (uvicorn's access log lines, every start counted)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return len(re.findall(r'"POST /v1/(?:chat/)?completions HTTP/1\.1" 200', text))

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require_llama_cpp() -> None:
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("uvicorn") is None:
        reason = f"needs a real llama.cpp server: {_NEEDS}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the realserver tests")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """The session's llama.cpp server (one request at a time, as it serves)."""
    require_llama_cpp()
    server = LlamaServer(tmp_path_factory.mktemp("llama") / "server.log").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_llama(tmp_path: Path) -> Iterator[LlamaServer]:
    """A server of this test's own, to kill and restart."""
    require_llama_cpp()
    server = LlamaServer(tmp_path / "server.log").start()
    try:
        yield server
    finally:
        server.stop()
