"""``DocumentDataset``: a partitioned table of records (a Dask DataFrame), NeMo Curator's name and shape.

Curation steps take a dataset and return a new one; nothing runs until a result is written, converted to
pandas or persisted. The default scheduler is Dask's local one; with a ``distributed.Client`` alive (e.g. a
``LocalCluster``) the same code runs on its workers.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd

from curator_synth.dataset import jsonl, parquet, writers
from curator_synth.dataset.io import (
    FORMATS,
    SUPPORTED_SUFFIXES,
    AddedColumns,
    InputFiles,
    Piece,
    ReadReport,
    format_runs,
    plan_partitions,
    resolve_input_files,
)
from curator_synth.errors import ConfigError

__all__ = ["DocumentDataset"]

JsonlSource = tuple[list[tuple[Piece, ...]], jsonl.JsonlOptions]


def _added(add_filename: bool | str, add_line_number: bool | str) -> AddedColumns:
    """The columns the ``add_*`` options name: ``"file_name"``/``"line_number"`` for True, a string as given."""

    def column(option: bool | str, default: str) -> str | None:
        if not option:
            return None
        return option if isinstance(option, str) else default

    return AddedColumns(column(add_filename, "file_name"), column(add_line_number, "line_number"))


class DocumentDataset:
    """A dataset of documents/records; ``.df`` is the underlying ``dask.dataframe.DataFrame``."""

    def __init__(self, df: dd.DataFrame) -> None:
        if not isinstance(df, dd.DataFrame):
            raise ConfigError(f"DocumentDataset wraps a dask DataFrame, got {type(df).__name__}")
        self.df = df
        # Set by read_json/read_files: the planned partitions and options, so read_report() can rescan them.
        self._jsonl_sources: list[JsonlSource] | None = None

    def _derived(self, df: dd.DataFrame) -> DocumentDataset:
        """A dataset of the same rows (persisted/repartitioned): keeps the read report's sources."""
        result = DocumentDataset(df)
        result._jsonl_sources = self._jsonl_sources
        return result

    # ----------------------------------------------------------------------------------------- building
    @classmethod
    def from_pandas(
        cls, data: pd.DataFrame, npartitions: int | None = None, chunksize: int | None = None
    ) -> DocumentDataset:
        if npartitions is None and chunksize is None:
            npartitions = 1
        # Without this, dask turns object columns holding lists/dicts into strings.
        with dask.config.set({"dataframe.convert-string": False}):
            return cls(dd.from_pandas(data, npartitions=npartitions, chunksize=chunksize))

    @classmethod
    def read_json(
        cls,
        input_files: InputFiles,
        backend: str = "pandas",
        files_per_partition: int | None = None,
        blocksize: int | str | None = None,
        add_filename: bool | str = False,
        input_meta: Mapping[str, Any] | str | None = None,
        columns: Sequence[str] | None = None,
        on_bad_lines: jsonl.OnBadLines = "error",
        add_line_number: bool | str = False,
    ) -> DocumentDataset:
        """Lazily read JSON Lines: a file, a directory (its ``*.jsonl``/``*.json`` files, sorted), a glob, or a list.

        Partitions hold ``files_per_partition`` whole files, or about ``blocksize`` bytes (default
        ``DEFAULT_BLOCKSIZE``; large files are split on line boundaries). ``add_filename`` adds the source file's
        base name as column ``"file_name"`` (or the column named by a string), ``add_line_number`` each record's
        1-based line in its file as column ``"line_number"`` (blank and bad lines counted; a piece of a file
        split by ``blocksize`` first counts the lines before it). Only the first records are read
        now, to infer the schema (or give it as ``input_meta``, column -> dtype). A bad line raises
        :class:`~curator_synth.dataset.io.DataFormatError` naming file and line, or with ``on_bad_lines="skip"``
        is dropped; :meth:`read_report` counts them.
        """
        if backend != "pandas":
            raise ConfigError(f"only backend='pandas' is supported, got {backend!r}")
        files = resolve_input_files(input_files, FORMATS["jsonl"])
        partitions = plan_partitions(files, files_per_partition=files_per_partition, blocksize=blocksize)
        df, options = jsonl.read_jsonl(
            partitions,
            on_bad_lines=on_bad_lines,
            columns=columns,
            input_meta=input_meta,
            added=_added(add_filename, add_line_number),
        )
        dataset = cls(df)
        dataset._jsonl_sources = [(partitions, options)]
        return dataset

    @classmethod
    def read_parquet(
        cls,
        input_files: InputFiles,
        backend: str = "pandas",
        files_per_partition: int | None = None,
        add_filename: bool | str = False,
        columns: Sequence[str] | None = None,
        add_line_number: bool | str = False,
        **kwargs: Any,
    ) -> DocumentDataset:
        """Lazily read Parquet: a file, a directory (its ``*.parquet``/``*.pq`` files, sorted), a glob, or a list.

        ``add_filename`` and ``files_per_partition`` as in :meth:`read_json`; ``add_line_number`` adds each row's
        1-based row number in its file (column ``"line_number"``, or the one named). Other ``kwargs`` go to
        ``dask.dataframe.read_parquet`` (e.g. ``blocksize``, ``filters``).
        """
        if backend != "pandas":
            raise ConfigError(f"only backend='pandas' is supported, got {backend!r}")
        files = resolve_input_files(input_files, FORMATS["parquet"])
        return cls(
            parquet.read_parquet(
                files,
                columns=columns,
                files_per_partition=files_per_partition,
                added=_added(add_filename, add_line_number),
                **kwargs,
            )
        )

    @classmethod
    def read_files(
        cls,
        input_files: InputFiles,
        files_per_partition: int | None = None,
        add_filename: bool | str = False,
        add_line_number: bool | str = False,
        columns: Sequence[str] | None = None,
        on_bad_lines: jsonl.OnBadLines = "error",
    ) -> DocumentDataset:
        """Lazily read JSON Lines and Parquet together: every supported file of a directory (``.jsonl``,
        ``.json``, ``.parquet``, ``.pq``), a glob, a file or a list; a named file of another suffix is read as
        JSON Lines.

        Each run of consecutive files of one format is read by :meth:`read_json` or :meth:`read_parquet` (with
        these arguments; ``on_bad_lines`` applies to JSON Lines) and the results are concatenated in file
        order, columns aligned (a column some files lack is null there). :meth:`read_report` counts the JSON
        Lines files.
        """
        shared: dict[str, Any] = {"files_per_partition": files_per_partition, "add_filename": add_filename,
                                  "add_line_number": add_line_number, "columns": columns}  # fmt: skip
        readers: dict[str, Callable[[list[str]], DocumentDataset]] = {
            "jsonl": functools.partial(cls.read_json, on_bad_lines=on_bad_lines, **shared),
            "parquet": functools.partial(cls.read_parquet, **shared),
        }
        files = resolve_input_files(input_files, SUPPORTED_SUFFIXES)
        parts: list[DocumentDataset] = [readers[name](run) for name, run in format_runs(files)]
        if len(parts) == 1:
            dataset = parts[0]
        else:
            with dask.config.set({"dataframe.convert-string": False}):
                dataset = cls(dd.concat([part.df for part in parts]))
        dataset._jsonl_sources = [source for part in parts for source in part._jsonl_sources or []]
        return dataset

    def read_report(self) -> ReadReport:
        """Files, records and bad lines of the JSON Lines this dataset was read from (rescans them, in parallel).

        Counting happens in a separate pass over the sources rather than as a side effect of computing the
        partitions, so it is exact on any scheduler and however often the data is recomputed.
        """
        if self._jsonl_sources is None:
            raise ConfigError("read_report() is for datasets made by DocumentDataset.read_json or read_files")
        tasks = [
            dask.delayed(jsonl.scan)(pieces, options) for partitions, options in self._jsonl_sources
            for pieces in partitions
        ]  # fmt: skip
        return sum(dask.compute(*tasks), ReadReport())

    def bad_lines(self) -> int:
        """How many lines of the sources were not JSON objects (skipped with ``on_bad_lines="skip"``)."""
        return self.read_report().bad_lines

    # ------------------------------------------------------------------------------------------ writing
    def to_json(
        self,
        output_path: str | os.PathLike[str],
        write_to_filename: bool | str = False,
        keep_filename_column: bool = False,
    ) -> list[Path]:
        """Write JSON Lines (UTF-8, one object per line) into the directory ``output_path``; returns the files.

        One ``part.{i}.jsonl`` per partition, or with ``write_to_filename`` one file per source file name (the
        ``"file_name"`` column, dropped unless ``keep_filename_column``). Atomic: see ``dataset/writers.py``.
        """
        return writers.write(
            self.df,
            output_path,
            "jsonl",
            write_to_filename=write_to_filename,
            keep_filename_column=keep_filename_column,
        )

    def to_parquet(
        self,
        output_path: str | os.PathLike[str],
        write_to_filename: bool | str = False,
        keep_filename_column: bool = False,
    ) -> list[Path]:
        """Write Parquet files into the directory ``output_path``, named and written as :meth:`to_json` does."""
        return writers.write(
            self.df,
            output_path,
            "parquet",
            write_to_filename=write_to_filename,
            keep_filename_column=keep_filename_column,
        )

    # ------------------------------------------------------------------------------------------ results
    def to_pandas(self) -> pd.DataFrame:
        return self.df.compute()

    def head(self, n: int = 5, npartitions: int = -1) -> pd.DataFrame:
        """The first ``n`` rows (looking through all partitions by default, unlike dask's head)."""
        return self.df.head(n, npartitions=npartitions, compute=True)

    def persist(self) -> DocumentDataset:
        return self._derived(self.df.persist())

    def repartition(self, npartitions: int | None = None, partition_size: str | None = None) -> DocumentDataset:
        if npartitions is None and partition_size is None:
            raise ConfigError("repartition needs npartitions or partition_size")
        if partition_size is not None:
            return self._derived(self.df.repartition(partition_size=partition_size))
        return self._derived(self.df.repartition(npartitions=npartitions))

    @property
    def npartitions(self) -> int:
        return int(self.df.npartitions)

    @property
    def columns(self) -> list[str]:
        return list(self.df.columns)

    def __len__(self) -> int:
        return len(self.df)

    def __repr__(self) -> str:
        return f"DocumentDataset(npartitions={self.npartitions}, columns={self.columns})"

    def map_partitions(self, func: Any, *args: Any, meta: Any = None, **kwargs: Any) -> DocumentDataset:
        """Apply a pandas-level function to every partition (``meta``: the output's empty frame, when known)."""
        if meta is None:
            return DocumentDataset(self.df.map_partitions(func, *args, **kwargs))
        return DocumentDataset(self.df.map_partitions(func, *args, meta=meta, **kwargs))
