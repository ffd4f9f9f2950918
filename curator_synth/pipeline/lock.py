"""One run per output directory: an advisory lock (``fcntl.flock``) on ``<output_dir>/.curator-synth.lock``.

Two runs writing the same stage directories would interleave their parts and swap each other's temporary
directories away; the second one is refused at once, naming the process that holds the directory. The lock
goes with the process (a killed run leaves no stale lock: the kernel releases it), so a re-run never needs
manual clean-up.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from curator_synth.errors import ConfigError

__all__ = ["LOCK_FILE", "run_lock"]

LOCK_FILE = ".curator-synth.lock"


@contextlib.contextmanager
def run_lock(output_dir: Path) -> Iterator[None]:
    """Hold ``output_dir``'s lock for the block; :class:`ConfigError` if another process holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    path = output_dir / LOCK_FILE
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise ConfigError(
                f"another curator-synth run ({holder}) is using {output_dir}; wait for it to finish or give"
                " another output directory"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}")
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock
