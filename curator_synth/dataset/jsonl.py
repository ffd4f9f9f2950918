"""Reading JSON Lines into a lazy Dask DataFrame, one partition per planned group of files or byte ranges.

Every non-blank line must be a JSON object (UTF-8; a leading BOM is accepted). A line that is not — invalid
UTF-8, invalid JSON, an array or scalar, or an object with keys outside the dataset's columns — is a *bad
line*: with ``on_bad_lines="error"`` reading raises :class:`DataFormatError` naming file and line; with
``"skip"`` it is dropped, logged per partition, and counted by :func:`scan` (``DocumentDataset.read_report``).

The schema (``meta``) comes from ``input_meta``, or from the first :data:`META_SAMPLE_ROWS` records of the
first non-empty file; ``columns`` selects columns (other keys are then ignored, not bad). Each record can
carry its file's base name and its 1-based line number (blank and bad lines counted) in added columns.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import dask
import dask.dataframe as dd
import pandas as pd

from curator_synth.dataset.io import AddedColumns, BadLine, DataFormatError, Piece, ReadReport
from curator_synth.dataset.values import would_stringify
from curator_synth.errors import ConfigError

__all__ = ["META_SAMPLE_ROWS", "JsonlOptions", "read_jsonl", "read_partition", "scan"]

log = logging.getLogger("curator_synth.dataset")

#: Records read up front (from the first non-empty file) to infer column names and dtypes.
META_SAMPLE_ROWS = 1000

_BOM = b"\xef\xbb\xbf"
_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}

OnBadLines = Literal["error", "skip"]


@dataclass(frozen=True)
class JsonlOptions:
    """How partitions are read (picklable: it travels to distributed workers with each task)."""

    meta: pd.DataFrame
    on_bad_lines: OnBadLines = "error"
    select: bool = False  # True when the user gave ``columns``: other keys are ignored rather than bad
    added: AddedColumns = field(default_factory=AddedColumns)

    @property
    def record_columns(self) -> list[str]:
        """The columns read from the records (the meta's, without the added file-name and line columns)."""
        return [c for c in self.meta.columns if c not in self.added.dtypes()]


# -------------------------------------------------------------------------------------------- lines
def _lines(piece: Piece) -> Iterator[tuple[int, bytes]]:
    """``(byte offset, raw line)`` for every line that starts inside the piece's byte range."""
    with open(piece.path, "rb") as f:
        pos = piece.start
        if pos > 0:
            f.seek(pos - 1)
            if f.read(1) != b"\n":  # mid-line: that line belongs to the previous piece
                pos += len(f.readline())
        while piece.end is None or pos < piece.end:
            raw = f.readline()
            if not raw:
                return
            yield pos, raw
            pos += len(raw)


def _line_number(path: str, offset: int) -> int:
    """1-based number of the line starting at byte ``offset`` (counts newlines before it; used on errors)."""
    count = 0
    with open(path, "rb") as f:
        remaining = offset
        while remaining > 0:
            chunk = f.read(min(remaining, 1 << 20))
            if not chunk:
                break
            count += chunk.count(b"\n")
            remaining -= len(chunk)
    return count + 1


def _parse(raw: bytes, offset: int, allowed: frozenset[str] | None) -> dict[str, Any] | str | None:
    """The record on a line, ``None`` for a blank line, or the reason the line is bad (a ``str``)."""
    if offset == 0 and raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg}: column {exc.colno})"
    if not isinstance(value, dict):
        return f"not a JSON object (got {_JSON_KINDS.get(type(value), type(value).__name__)})"
    if allowed is not None and not value.keys() <= allowed:
        extra = sorted(set(value) - allowed)
        return (
            f"keys {extra} are not among the dataset's columns {sorted(allowed)} (inferred from the first records;"
            " pass columns= to select, or input_meta= to give the full schema)"
        )
    return value


def _records(
    pieces: Sequence[Piece],
    allowed: frozenset[str] | None,
    on_bad_lines: OnBadLines,
    bad: list[BadLine],
    numbered: bool = False,
) -> Iterator[tuple[Piece, int | None, dict[str, Any]]]:
    """Parsed records of the pieces with their 1-based line numbers, in order. Bad lines raise, or are appended
    to ``bad`` when skipping.

    A piece starting inside a file knows its line numbers only after counting the newlines before it: done on
    a bad line, or for every piece when ``numbered`` (else the number yielded is None there).
    """
    for piece in pieces:
        counted: int | None = 1 if piece.start == 0 else None  # line number of the current line, once known
        for offset, raw in _lines(piece):
            if counted is None and numbered:
                counted = _line_number(piece.path, offset)
            parsed = _parse(raw, offset, allowed)
            if isinstance(parsed, str):
                line = counted if counted is not None else _line_number(piece.path, offset)
                if on_bad_lines == "error":
                    raise DataFormatError(piece.path, line, parsed)
                bad.append(BadLine(piece.path, line, parsed))
            elif parsed is not None:
                yield piece, counted, parsed
            if counted is not None:
                counted += 1


def _allowed_keys(options: JsonlOptions) -> frozenset[str] | None:
    return None if options.select else frozenset(options.record_columns)


# ---------------------------------------------------------------------------------------- partitions
def read_partition(pieces: tuple[Piece, ...], options: JsonlOptions) -> pd.DataFrame:
    """Read one partition into pandas with exactly the columns and dtypes of ``options.meta``."""
    bad: list[BadLine] = []
    rows: list[dict[str, Any]] = []
    names: list[str] = []
    lines: list[int | None] = []
    numbered = options.added.line is not None
    for piece, line, record in _records(pieces, _allowed_keys(options), options.on_bad_lines, bad, numbered):
        rows.append(record)
        names.append(os.path.basename(piece.path))
        lines.append(line)
    if bad:
        log.warning("skipped %d bad JSON lines in %d file(s); first: %s", len(bad), len(pieces), bad[0])
    columns = options.record_columns
    frame = pd.DataFrame.from_records(rows, columns=columns) if rows else pd.DataFrame(columns=columns)
    if options.added.filename is not None:
        frame[options.added.filename] = names
    if options.added.line is not None:
        frame[options.added.line] = lines
    frame = frame[list(options.meta.columns)]
    for column, dtype in options.meta.dtypes.items():
        if frame[column].dtype == dtype or would_stringify(frame[column], dtype):
            continue  # (non-string values under a text dtype stay as they are, never their repr)
        try:
            frame[column] = frame[column].astype(dtype)
        except (TypeError, ValueError) as exc:
            raise DataFormatError(
                pieces[0].path,
                None,
                f"column {column!r} cannot be read as {dtype} (the dtype inferred from the first records): {exc};"
                f" pass input_meta={{{column!r}: ...}} with a dtype that fits every file",
            ) from exc
    return frame


def scan(pieces: tuple[Piece, ...], options: JsonlOptions) -> ReadReport:
    """Count records and bad lines of one partition without building a DataFrame."""
    bad: list[BadLine] = []
    skip: OnBadLines = "skip"
    records = sum(1 for _ in _records(pieces, _allowed_keys(options), skip, bad))
    return ReadReport(
        files=len({p.path for p in pieces if p.start == 0}),
        records=records,
        bad_lines=len(bad),
        examples=tuple(bad[: ReadReport.MAX_EXAMPLES]),
    )


# ------------------------------------------------------------------------------------------ building
def _infer_meta(partitions: Sequence[tuple[Piece, ...]], on_bad_lines: OnBadLines) -> pd.DataFrame:
    sample: list[dict[str, Any]] = []
    for pieces in partitions:
        for _, _, record in _records(pieces, None, on_bad_lines, []):
            sample.append(record)
            if len(sample) >= META_SAMPLE_ROWS:
                return pd.DataFrame.from_records(sample).iloc[:0]
    return pd.DataFrame.from_records(sample).iloc[:0]


def _meta_from_input(input_meta: Mapping[str, Any] | str) -> pd.DataFrame:
    if isinstance(input_meta, str):
        try:
            input_meta = json.loads(input_meta)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"input_meta is not a JSON object of column -> dtype: {exc}") from exc
    if not isinstance(input_meta, Mapping):
        raise ConfigError("input_meta must map column names to dtypes")
    try:
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in input_meta.items()})
    except TypeError as exc:
        raise ConfigError(f"input_meta has a dtype pandas does not know: {exc}") from exc


def read_jsonl(
    partitions: Sequence[tuple[Piece, ...]],
    *,
    on_bad_lines: OnBadLines = "error",
    columns: Sequence[str] | None = None,
    input_meta: Mapping[str, Any] | str | None = None,
    added: AddedColumns,
) -> tuple[dd.DataFrame, JsonlOptions]:
    """A lazy Dask DataFrame over the planned partitions (only the meta sample is read now); ``added``: the
    file-name and line-number columns to add."""
    if on_bad_lines not in ("error", "skip"):
        raise ConfigError(f"on_bad_lines must be 'error' or 'skip', got {on_bad_lines!r}")
    meta = _meta_from_input(input_meta) if input_meta is not None else _infer_meta(partitions, on_bad_lines)
    if columns is not None:
        columns = list(columns)
        meta = pd.DataFrame({c: meta[c] if c in meta.columns else pd.Series(dtype=object) for c in columns})
    added.add_to(meta, "the records")
    options = JsonlOptions(meta=meta, on_bad_lines=on_bad_lines, select=columns is not None, added=added)
    # dask's "convert-string" would turn object columns holding lists/dicts into strings: pandas 3 already
    # gives text columns the Arrow-backed "str" dtype, so it is switched off for this graph.
    with dask.config.set({"dataframe.convert-string": False}):
        df = dd.from_map(read_partition, list(partitions), options=options, meta=meta, label="read-jsonl")
    return df, options
