"""Reading Parquet files into a lazy Dask DataFrame.

Without ``add_filename``/``add_line_number``/``files_per_partition`` this is ``dask.dataframe.read_parquet``
(row-group aware). With any of them, each partition reads whole files with pandas (the file-name and 1-based
row-number columns added when asked); the schema is the first file's.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd

from curator_synth.dataset.io import AddedColumns, DataFormatError
from curator_synth.dataset.values import would_stringify
from curator_synth.errors import ConfigError

__all__ = ["read_parquet"]


def _read_files(files: tuple[str, ...], columns: list[str] | None, added: AddedColumns) -> pd.DataFrame:
    frames = []
    for path in files:
        try:
            frame = pd.read_parquet(path, columns=columns)
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise DataFormatError(path, None, f"not a readable Parquet file: {exc}") from exc
        if added.filename is not None:
            frame[added.filename] = pd.Series([os.path.basename(path)] * len(frame), index=frame.index, dtype="str")
        if added.line is not None:
            frame[added.line] = pd.Series(range(1, len(frame) + 1), index=frame.index, dtype="int64")
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _empty_frame(path: str, columns: list[str] | None, added: AddedColumns) -> pd.DataFrame:
    """The pandas frame with no rows that the file's schema gives (read from the footer only)."""
    import pyarrow.parquet as pq

    try:
        frame = pq.read_schema(path).empty_table().to_pandas()
    except (OSError, ValueError) as exc:
        raise DataFormatError(path, None, f"not a readable Parquet file: {exc}") from exc
    if columns is not None:
        unknown = [c for c in columns if c not in frame.columns]
        if unknown:
            raise ConfigError(f"columns {unknown} are not in {path}")
        frame = frame[columns]
    added.add_to(frame, path)
    return frame


def _read_partition(
    files: tuple[str, ...], select: list[str] | None, added: AddedColumns, schema: pd.DataFrame
) -> pd.DataFrame:
    # (not named ``columns``: dask would then push its column projections into this function)
    frame = _read_files(files, select, added)
    missing = [c for c in schema.columns if c not in frame.columns]
    if missing:
        raise DataFormatError(files[0], None, f"columns {missing} of the first file's schema are missing")
    frame = frame[list(schema.columns)]
    for column, dtype in schema.dtypes.items():
        if frame[column].dtype != dtype and not would_stringify(frame[column], dtype):  # lists stay lists
            try:
                frame[column] = frame[column].astype(dtype)
            except (TypeError, ValueError) as exc:
                raise DataFormatError(files[0], None, f"column {column!r} cannot be read as {dtype}: {exc}") from exc
    return frame


def read_parquet(
    files: Sequence[str],
    *,
    columns: Sequence[str] | None = None,
    files_per_partition: int | None = None,
    added: AddedColumns,
    **kwargs: Any,
) -> dd.DataFrame:
    """A lazy Dask DataFrame over Parquet ``files`` (extra ``kwargs`` go to ``dask.dataframe.read_parquet``);
    ``added``: the file-name and row-number columns to add."""
    selected = list(columns) if columns is not None else None
    with dask.config.set({"dataframe.convert-string": False}):
        if not added.dtypes() and files_per_partition is None:
            return dd.read_parquet(list(files), columns=selected, **kwargs)
        if kwargs:
            raise ConfigError(
                f"options {sorted(kwargs)} cannot be combined with add_filename/add_line_number/files_per_partition"
            )
        per = files_per_partition or 1
        if per < 1:
            raise ConfigError(f"files_per_partition must be >= 1, got {per}")
        groups = [tuple(files[i : i + per]) for i in range(0, len(files), per)]
        meta = _empty_frame(files[0], selected, added)
        return dd.from_map(
            _read_partition,
            groups,
            select=selected,
            added=added,
            schema=meta,
            meta=meta,
            label="read-parquet",
            enforce_metadata=False,
        )
