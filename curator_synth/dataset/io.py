"""Shared pieces of dataset I/O: the data-format error, input-file resolution and partition planning.

The readers (``jsonl.py``, ``parquet.py``) and the writer (``writers.py``) build on these. Nothing here
touches Dask: partitions are planned as plain, picklable values so workers of a ``distributed`` cluster can
read them.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from dask.utils import parse_bytes

from curator_synth.errors import ConfigError, DataFormatError

__all__ = [
    "DEFAULT_BLOCKSIZE",
    "BadLine",
    "DataFormatError",
    "InputFiles",
    "Piece",
    "ReadReport",
    "plan_partitions",
    "resolve_input_files",
]

#: Target bytes of source text per partition when neither ``blocksize`` nor ``files_per_partition`` is given.
#: Parsed records take several times their text size in memory; 64 MB keeps a partition well under 1 GB.
DEFAULT_BLOCKSIZE = "64MB"

InputFiles = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]  # noqa: UP007 (runtime alias, py3.10)


@dataclass(frozen=True)
class BadLine:
    """One input line that was not a JSON object (kept as an example in a :class:`ReadReport`)."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class ReadReport:
    """What reading the sources found: records read and bad lines (skipped with ``on_bad_lines="skip"``).

    ``examples`` holds up to :attr:`MAX_EXAMPLES` bad lines, in file order.
    """

    MAX_EXAMPLES = 20

    files: int = 0
    records: int = 0
    bad_lines: int = 0
    examples: tuple[BadLine, ...] = field(default=())

    def __add__(self, other: ReadReport) -> ReadReport:
        return ReadReport(
            files=self.files + other.files,
            records=self.records + other.records,
            bad_lines=self.bad_lines + other.bad_lines,
            examples=(self.examples + other.examples)[: self.MAX_EXAMPLES],
        )


@dataclass(frozen=True)
class Piece:
    """A byte range of one file: the lines that *start* in ``[start, end)`` (``end=None``: to the end)."""

    path: str
    start: int = 0
    end: int | None = None


def resolve_input_files(input_files: InputFiles, extensions: Iterable[str]) -> list[str]:
    """Expand a file, a directory (its files with one of ``extensions``, sorted), a glob, or a list of these.

    The order is kept (a list's order; sorted within a directory or glob). Nothing found is a ``ConfigError``.
    """
    items = [input_files] if isinstance(input_files, (str, os.PathLike)) else list(input_files)
    suffixes = tuple(extensions)
    found: list[str] = []
    for item in items:
        text = os.fspath(item)
        if os.path.isdir(text):
            names = sorted(n for n in os.listdir(text) if n.endswith(suffixes) and not n.startswith("."))
            found.extend(os.path.join(text, n) for n in names if os.path.isfile(os.path.join(text, n)))
        elif os.path.isfile(text):
            found.append(text)
        elif glob.has_magic(text):
            matches = sorted(p for p in glob.glob(text) if os.path.isfile(p))
            if not matches:
                raise ConfigError(f"no files match {text!r}")
            found.extend(matches)
        else:
            raise ConfigError(f"input file or directory not found: {text!r}")
    if not found:
        raise ConfigError(f"no {'/'.join(suffixes)} files in {[os.fspath(i) for i in items]!r}")
    return found


def plan_partitions(
    files: Sequence[str], *, files_per_partition: int | None, blocksize: int | str | None
) -> list[tuple[Piece, ...]]:
    """Group files into partitions: ``files_per_partition`` whole files each, or about ``blocksize`` bytes each.

    With a blocksize, small files are packed together and a file larger than the blocksize is split into byte
    ranges (the reader moves each range's edges to line boundaries). Giving both is a ``ConfigError``.
    """
    if files_per_partition is not None and blocksize is not None:
        raise ConfigError("give files_per_partition or blocksize, not both")
    if files_per_partition is not None:
        if files_per_partition < 1:
            raise ConfigError(f"files_per_partition must be >= 1, got {files_per_partition}")
        return [
            tuple(Piece(f) for f in files[i : i + files_per_partition])
            for i in range(0, len(files), files_per_partition)
        ]
    size = parse_bytes(blocksize if blocksize is not None else DEFAULT_BLOCKSIZE)
    if size < 1:
        raise ConfigError(f"blocksize must be positive, got {blocksize!r}")
    partitions: list[tuple[Piece, ...]] = []
    group: list[Piece] = []
    group_bytes = 0
    for path in files:
        length = Path(path).stat().st_size
        if length > size:
            partitions.extend((Piece(path, s, min(s + size, length)),) for s in range(0, length, size))
            continue
        if group and group_bytes + length > size:
            partitions.append(tuple(group))
            group, group_bytes = [], 0
        group.append(Piece(path))
        group_bytes += length
    if group:
        partitions.append(tuple(group))
    return partitions
