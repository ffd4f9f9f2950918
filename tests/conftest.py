"""Shared pytest set-up: ``slow`` tests (benchmarks, soak tests) run only with ``--run-slow``."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

# A suite started in the background of a non-interactive shell (a CI wrapper, `cmd &` in a script) inherits SIGINT
# ignored, and every process it starts would ignore Ctrl-C too. The tests that press Ctrl-C (a run keeps its
# answers and exits 130; fake-server stops) need what a terminal gives: a Python handler here becomes the default
# action in the children.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False, help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    marker = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(marker)


# ----------------------------------------------------------------------------------------------- no network
_LOOPBACK_NAMES = {"localhost", "ip6-localhost", "ip6-loopback"}


def _is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    return host in _LOOPBACK_NAMES or host.startswith("127.") or host in {"::1", "0.0.0.0", ""}


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> object:
    """Tests never leave the machine: name lookups and connections to non-loopback hosts fail loudly."""
    import socket

    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host is not None and not _is_loopback(host):
            raise OSError(f"test tried to resolve {host!r}: tests must not use the network")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    def guarded_connect(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):  # type: ignore[index]
            raise OSError(f"test tried to connect to {address!r}: tests must not use the network")
        return real_connect(self, address)  # type: ignore[arg-type]

    socket.getaddrinfo = guarded_getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    yield
    socket.getaddrinfo = real_getaddrinfo
    socket.socket.connect = real_connect  # type: ignore[method-assign]


# ---------------------------------------------------------------------------------------------------- docs
DOCS_DIR = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture
def run_doc(capsys: pytest.CaptureFixture[str]) -> object:
    """``run_doc("generators/nemotron.md", min_blocks=10)`` runs every ```python block of a docs page in one
    namespace, in order, and returns the printed lines (pages whose examples all run offline)."""
    import re

    def run(page: str, *, min_blocks: int = 1) -> list[str]:
        path = DOCS_DIR / page
        blocks = re.findall(r"```python\n(.*?)```", path.read_text(), re.S)
        assert len(blocks) >= min_blocks, f"{page}: expected at least {min_blocks} python examples"
        namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
        for number, block in enumerate(blocks):
            exec(compile(block, f"{page}, block {number}", "exec"), namespace)
        return capsys.readouterr().out.splitlines()

    return run


# ---------------------------------------------------------------------------------------------- small disks
class SmallDisks:
    """Directories on new size-limited tmpfs mounts: a real full disk (writes fail with ENOSPC)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.mounted: list[Path] = []

    def make(self, size: str) -> Path:
        target = self.root / f"disk{len(self.mounted)}"
        target.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)], capture_output=True)
        if done.returncode != 0:
            reason = f"cannot mount a size-limited tmpfs ({done.stderr.decode().strip()}); run as root"
            if os.environ.get("CI"):
                pytest.fail(reason)
            pytest.skip(reason)
        self.mounted.append(target)
        return target

    @staticmethod
    def resize(disk: Path, size: str) -> None:
        """Grow a disk in place: "free space" before a re-run."""
        subprocess.run(["mount", "-o", f"remount,size={size}", str(disk)], check=True)


@pytest.fixture
def small_disks(tmp_path: Path) -> Iterator[SmallDisks]:
    """``small_disks.make("2m")`` mounts a tmpfs of that size in tmp_path (unmounted after the test). Needs root
    (CI runs as root); elsewhere the test is skipped with the reason, and with ``CI`` set it fails instead."""
    disks = SmallDisks(tmp_path)
    yield disks
    for target in disks.mounted:
        subprocess.run(["umount", "-l", str(target)], check=False)
