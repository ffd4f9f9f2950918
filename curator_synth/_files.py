"""Files: JSON Lines objects read with errors naming the line; atomic writes — a file (or a directory) is either its
old content or its complete new content, never a partial one; a write that fails (a full disk, a read-only file
system) raises :class:`~curator_synth.errors.StorageError` naming the path and the cause, nothing half-written is
left — and the data shipped in the package (``package:NAME`` in a recipe)."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from curator_synth.errors import DataFormatError, StorageError

__all__ = ["PACKAGE_DATA", "atomic_dir", "atomic_write", "jsonl_objects", "package_data", "storage_error"]

#: The prefix of a recipe path naming the package's own data: ``package:self_instruct/seed_tasks.jsonl``.
PACKAGE_DATA = "package:"


def package_data(name: str) -> Path:
    """The path of ``curator_synth/data/<name>`` (a glob pattern stays a pattern)."""
    return Path(__file__).parent / "data" / name.lstrip("/")


def jsonl_objects(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict[str, object]]]:
    """``(line number, object)`` for every non-blank line of a JSON Lines file; a line that is not a JSON object is
    a :class:`~curator_synth.errors.DataFormatError` naming the file and the line (an ``OSError`` is the caller's)."""
    with open(path, "rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as error:
                raise DataFormatError(path, number, f"not valid JSON: {error}") from None
            if not isinstance(row, dict):
                raise DataFormatError(path, number, f"a JSON object was expected, got {type(row).__name__}")
            yield number, row


def storage_error(error: OSError, path: str | os.PathLike[str]) -> StorageError:
    """The library's error for a failed write of ``path``: ``no space left on device: cannot write <path>``."""
    full = error.errno in (28, 122)  # ENOSPC, EDQUOT
    cause = "no space left on device" if full else (error.strerror or str(error) or type(error).__name__)
    return StorageError(f"{cause}: cannot write {os.fspath(path)}")


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Call ``write(temp)`` on a uniquely named hidden file beside ``path``, then rename it onto ``path``
    (``os.replace``); on any error the temporary file is removed and ``path`` is left as it was."""
    target = Path(path)
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        write(temp)
        os.replace(temp, target)
    except OSError as error:
        raise storage_error(error, target) from error
    finally:
        temp.unlink(missing_ok=True)
    return target


def atomic_dir(target: Path, write: Callable[[Path], object]) -> None:
    """Write a directory next to ``target`` (``write(temp)``) and swap it in, so ``target`` is either old or
    complete."""
    temp = target.with_name(f".{target.name}.tmp")
    old = target.with_name(f".{target.name}.old")
    try:
        shutil.rmtree(temp, ignore_errors=True)
        write(temp)
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            os.replace(target, old)
        os.replace(temp, target)
    except OSError as error:
        shutil.rmtree(temp, ignore_errors=True)
        raise storage_error(error, target) from error
    shutil.rmtree(old, ignore_errors=True)
