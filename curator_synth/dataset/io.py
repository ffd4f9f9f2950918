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

import pandas as pd
from dask.utils import parse_bytes

from curator_synth.errors import ConfigError, DataFormatError

__all__ = [
    "DEFAULT_BLOCKSIZE",
    "FORMATS",
    "POSITIONS",
    "SUPPORTED_SUFFIXES",
    "AddedColumns",
    "BadLine",
    "DataFormatError",
    "InputFiles",
    "Piece",
    "ReadReport",
    "check_readable",
    "format_of",
    "format_runs",
    "plan_partitions",
    "position_error",
    "position_name",
    "resolve_input_files",
]

#: Target bytes of source text per partition when neither ``blocksize`` nor ``files_per_partition`` is given.
#: Parsed records take several times their text size in memory; 64 MB keeps a partition well under 1 GB.
DEFAULT_BLOCKSIZE = "64MB"

#: The readable formats by the file-name suffixes a directory listing picks up (``.json`` is JSON Lines too).
FORMATS: dict[str, tuple[str, ...]] = {"jsonl": (".jsonl", ".json"), "parquet": (".parquet", ".pq")}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(suffix for suffixes in FORMATS.values() for suffix in suffixes)
#: What a record's 1-based position in a file of each format is called in messages.
POSITIONS: dict[str, str] = {"jsonl": "line", "parquet": "row"}

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
class AddedColumns:
    """The bookkeeping columns a reader adds to each record: its file's base name (``filename``) and its 1-based
    line, or row for Parquet (``line``); None: not added. Picklable: it travels with each read task."""

    filename: str | None = None
    line: str | None = None

    def __post_init__(self) -> None:
        if self.filename is not None and self.filename == self.line:
            raise ConfigError(f"add_filename and add_line_number both name the column {self.filename!r}")

    def dtypes(self) -> dict[str, str]:
        """Column -> dtype of the columns asked for."""
        named = {self.filename: "str", self.line: "int64"}
        return {column: dtype for column, dtype in named.items() if column is not None}

    def add_to(self, meta: pd.DataFrame, owner: str) -> None:
        """Add the (empty) columns to ``meta``; one the data already has is a ``ConfigError`` (``owner``: who)."""
        arguments = {self.filename: "add_filename", self.line: "add_line_number"}
        for column, dtype in self.dtypes().items():
            if column in meta.columns:
                raise ConfigError(f"{owner} already has a {column!r} column; pass {arguments[column]}='<name>'")
            meta[column] = pd.Series(dtype=dtype)


@dataclass(frozen=True)
class Piece:
    """A byte range of one file: the lines that *start* in ``[start, end)`` (``end=None``: to the end)."""

    path: str
    start: int = 0
    end: int | None = None


def resolve_input_files(input_files: InputFiles, extensions: Iterable[str]) -> list[str]:
    """Expand a file, a directory (its files with one of ``extensions``, sorted), a glob, or a list of these.

    The order is kept (a list's order; sorted within a directory or glob); hidden files of a directory are
    skipped. Nothing found, or a directory without one such file, is a ``ConfigError`` saying what it holds.
    """
    items = [input_files] if isinstance(input_files, (str, os.PathLike)) else list(input_files)
    suffixes = tuple(extensions)
    found: list[str] = []
    for item in items:
        text = os.fspath(item)
        if os.path.isdir(text):
            found.extend(_directory_files(text, suffixes))
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


def _directory_files(directory: str, suffixes: tuple[str, ...]) -> list[str]:
    """The directory's non-hidden files ending in one of ``suffixes``, sorted by name; none is a ``ConfigError``."""
    names = sorted(n for n in os.listdir(directory) if not n.startswith("."))
    files = [os.path.join(directory, n) for n in names if os.path.isfile(os.path.join(directory, n))]
    chosen = [path for path in files if path.endswith(suffixes)]
    if not chosen:
        held = ", ".join(os.path.basename(path) for path in files[:10]) + (", ..." if len(files) > 10 else "")
        raise ConfigError(
            f"no {'/'.join(suffixes)} files in directory {directory!r}; it holds "
            + (f"{len(files)} other file(s): {held}" if files else "no files")
        )
    return chosen


def check_readable(path: str) -> None:
    """Raise ``ConfigError`` when ``path`` cannot be opened for reading, ``DataFormatError`` when a Parquet file
    has no readable footer (only the footer is read)."""
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as error:
        raise ConfigError(f"cannot read {path!r}: {error.strerror or error}") from None
    if format_of(path) == "parquet":
        import pyarrow.parquet as pq

        try:
            pq.read_schema(path)
        except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
            raise DataFormatError(path, None, f"not a readable Parquet file: {error}") from None


def format_of(path: str) -> str:
    """The :data:`FORMATS` name of a file by its suffix; a file of another suffix is read as JSON Lines."""
    for name, suffixes in FORMATS.items():
        if path.endswith(suffixes):
            return name
    return "jsonl"


def position_name(path: str) -> str:
    """What a record's 1-based position in this file is called: ``"line"`` (JSON Lines) or ``"row"`` (Parquet)."""
    return POSITIONS[format_of(path)]


def position_error(path: str, position: int, reason: str) -> DataFormatError:
    """A ``DataFormatError`` at a record's 1-based position: ``a.jsonl:7: reason``, or ``a.parquet: row 7: reason``
    (``.line`` holds the row number then)."""
    name = position_name(path)
    if name == "line":
        return DataFormatError(path, position, reason)
    error = DataFormatError(path, None, f"{name} {position}: {reason}")
    error.line = position
    return error


def format_runs(files: Sequence[str]) -> list[tuple[str, list[str]]]:
    """``files`` cut into runs of consecutive files of one format, in order: ``[("jsonl", [...]), ...]``."""
    runs: list[tuple[str, list[str]]] = []
    for path in files:
        name = format_of(path)
        if runs and runs[-1][0] == name:
            runs[-1][1].append(path)
        else:
            runs.append((name, [path]))
    return runs


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
            if group:  # the small files before it go first: rows keep the files' order
                partitions.append(tuple(group))
                group, group_bytes = [], 0
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
