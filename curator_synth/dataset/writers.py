"""Writing a Dask DataFrame as JSON Lines or Parquet files, atomically.

Two phases. Each partition is written by a Dask task (on the local scheduler or a distributed worker) to
temporary files in a hidden staging directory inside the output directory (``.write-{write id}/``). Once every
task has succeeded, the caller renames them to their final names with ``os.replace`` (concatenating, in
partition order, the chunks of a source file that was split over several partitions). A failure anywhere
removes the staging directory; a task still running then cannot leave a file behind, because tasks never
create the directory (their writes fail). So a final name only ever holds a complete file, and a hard crash
can leave only the hidden staging directory, which the readers never pick up.

Output names: ``part.{i}.jsonl`` / ``part.{i}.parquet`` per partition, or with ``write_to_filename`` one file
per value of the file-name column (the source file's stem plus the output extension).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import dask
import dask.dataframe as dd
import pandas as pd

from curator_synth.dataset.values import plain
from curator_synth.errors import ConfigError

__all__ = ["write"]

Format = Literal["jsonl", "parquet"]
_EXTENSIONS: dict[str, str] = {"jsonl": ".jsonl", "parquet": ".parquet"}


@dataclass(frozen=True)
class _Spec:
    directory: str
    staging: str  # hidden directory for this write's temporary files
    fmt: Format
    write_id: str
    filename_column: str | None  # set when writing one file per source file name
    keep_filename_column: bool


@dataclass(frozen=True)
class _Chunk:
    final: str  # file name in the output directory
    temp: str  # full path of the temporary file
    partition: int


# ----------------------------------------------------------------------------------------------- JSON
def _write_jsonl(frame: pd.DataFrame, path: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for record in frame.to_dict(orient="records"):
            f.write(json.dumps(plain(record), ensure_ascii=False, default=str))
            f.write("\n")


def _write_file(frame: pd.DataFrame, path: str, fmt: Format) -> None:
    """Write one file at ``path``; on any failure the (partial) file is removed before re-raising."""
    try:
        if fmt == "jsonl":
            _write_jsonl(frame, path)
        else:
            frame.to_parquet(path, index=False)
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------------------- partitions
def _output_name(source: object, fmt: Format) -> str:
    name = str(source)
    if not name or source is None or os.path.basename(name) != name or name in (".", ".."):
        raise ConfigError(f"cannot use {source!r} as an output file name (write_to_filename needs base names)")
    return os.path.splitext(name)[0] + _EXTENSIONS[fmt]


def _write_partition(frame: pd.DataFrame, partition: int, spec: _Spec) -> list[_Chunk]:
    def temp_for(final: str) -> str:
        return os.path.join(spec.staging, f"{final}.{partition}.tmp")

    if spec.filename_column is None:
        final = f"part.{partition}{_EXTENSIONS[spec.fmt]}"
        _write_file(frame, temp_for(final), spec.fmt)
        return [_Chunk(final, temp_for(final), partition)]
    chunks: list[_Chunk] = []
    column = spec.filename_column
    if frame[column].isna().any():
        raise ConfigError(f"write_to_filename: some rows have no {column!r} value")
    for source, group in frame.groupby(column, sort=False):
        final = _output_name(source, spec.fmt)
        part = group if spec.keep_filename_column else group.drop(columns=[column])
        _write_file(part, temp_for(final), spec.fmt)
        chunks.append(_Chunk(final, temp_for(final), partition))
    return chunks


# ---------------------------------------------------------------------------------------- commit
def _concatenate(chunks: Sequence[_Chunk], target: str, fmt: Format) -> None:
    if fmt == "jsonl":
        with open(target, "wb") as out:
            for chunk in chunks:
                with open(chunk.temp, "rb") as f:
                    shutil.copyfileobj(f, out)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.concat_tables([pq.read_table(c.temp) for c in chunks], promote_options="permissive")
    pq.write_table(table, target)


def _commit(chunks: Sequence[_Chunk], spec: _Spec) -> list[Path]:
    by_name: dict[str, list[_Chunk]] = {}
    for chunk in sorted(chunks, key=lambda c: c.partition):
        by_name.setdefault(chunk.final, []).append(chunk)
    written: list[Path] = []
    for final, parts in by_name.items():
        target = os.path.join(spec.directory, final)
        if len(parts) == 1:
            os.replace(parts[0].temp, target)
        else:  # a source file split over several partitions: join its chunks in partition order
            joined = os.path.join(spec.staging, f"{final}.joined.tmp")
            _concatenate(parts, joined, spec.fmt)
            os.replace(joined, target)
            for part in parts:
                Path(part.temp).unlink(missing_ok=True)
        written.append(Path(target))
    return written


def _clean_up(spec: _Spec) -> None:
    """Remove the staging directory. It is renamed first: a task still running after a failure elsewhere can
    then no longer create a file under the old path, and any file it created before is seen by ``rmtree``."""
    discarded = f"{spec.staging}.discarded"
    try:
        os.rename(spec.staging, discarded)
    except FileNotFoundError:
        return
    shutil.rmtree(discarded, ignore_errors=True)


def write(
    df: dd.DataFrame,
    output_path: str | os.PathLike[str],
    fmt: Format,
    *,
    write_to_filename: bool | str = False,
    keep_filename_column: bool = False,
) -> list[Path]:
    """Write ``df`` into the directory ``output_path`` (created if needed); returns the files written.

    ``write_to_filename``: ``True`` for one file per value of the ``"file_name"`` column, or the name of
    another column holding file names. Existing files of other names in the directory are left alone.
    """
    directory = os.fspath(output_path)
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise ConfigError(f"output_path must be a directory, {directory!r} is a file")
    column = None
    if write_to_filename:
        column = write_to_filename if isinstance(write_to_filename, str) else "file_name"
        if column not in df.columns:
            raise ConfigError(
                f"write_to_filename needs a {column!r} column with source file names (read with add_filename=True)"
            )
    os.makedirs(directory, exist_ok=True)
    write_id = uuid.uuid4().hex[:12]
    spec = _Spec(directory, os.path.join(directory, f".write-{write_id}"), fmt, write_id, column, keep_filename_column)
    os.makedirs(spec.staging)
    tasks = [dask.delayed(_write_partition)(part, i, spec) for i, part in enumerate(df.to_delayed())]
    try:
        results = dask.compute(*tasks)
        written = _commit([chunk for chunks in results for chunk in chunks], spec)
    finally:
        _clean_up(spec)
    return written
