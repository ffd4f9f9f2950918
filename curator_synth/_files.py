"""Atomic file writes: a file is either its old content or its complete new content, never a partial one."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Call ``write(temp)`` on a uniquely named hidden file beside ``path``, then rename it onto ``path``
    (``os.replace``); on any error the temporary file is removed and ``path`` is left as it was."""
    target = Path(path)
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        write(temp)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return target
