"""``DocumentDataset``: a partitioned table of records (a Dask DataFrame), NeMo Curator's name and shape.

Curation steps take a dataset and return a new one; nothing runs until a result is written, converted to
pandas or persisted. The default scheduler is Dask's local one; with a ``distributed.Client`` alive (e.g. a
``LocalCluster``) the same code runs on its workers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd

from curator_synth.dataset import jsonl, parquet, writers
from curator_synth.dataset.io import InputFiles, Piece, ReadReport, plan_partitions, resolve_input_files
from curator_synth.errors import ConfigError

__all__ = ["DocumentDataset"]


class DocumentDataset:
    """A dataset of documents/records; ``.df`` is the underlying ``dask.dataframe.DataFrame``."""

    def __init__(self, df: dd.DataFrame) -> None:
        if not isinstance(df, dd.DataFrame):
            raise ConfigError(f"DocumentDataset wraps a dask DataFrame, got {type(df).__name__}")
        self.df = df
        # Set by read_json: the planned partitions and options, so read_report() can rescan the sources.
        self._jsonl_source: tuple[list[tuple[Piece, ...]], jsonl.JsonlOptions] | None = None

    def _derived(self, df: dd.DataFrame) -> DocumentDataset:
        """A dataset of the same rows (persisted/repartitioned): keeps the read report's source."""
        result = DocumentDataset(df)
        result._jsonl_source = self._jsonl_source
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
    ) -> DocumentDataset:
        """Lazily read JSON Lines: a file, a directory (its ``*.jsonl``/``*.json`` files, sorted), a glob, or a list.

        Partitions hold ``files_per_partition`` whole files, or about ``blocksize`` bytes (default
        ``DEFAULT_BLOCKSIZE``; large files are split on line boundaries). ``add_filename`` adds the source file's
        base name as column ``"file_name"`` (or the column named by a string). Only the first records are read
        now, to infer the schema (or give it as ``input_meta``, column -> dtype). A bad line raises
        :class:`~curator_synth.dataset.io.DataFormatError` naming file and line, or with ``on_bad_lines="skip"``
        is dropped; :meth:`read_report` counts them.
        """
        if backend != "pandas":
            raise ConfigError(f"only backend='pandas' is supported, got {backend!r}")
        files = resolve_input_files(input_files, (".jsonl", ".json"))
        partitions = plan_partitions(files, files_per_partition=files_per_partition, blocksize=blocksize)
        filename_column = (add_filename if isinstance(add_filename, str) else "file_name") if add_filename else None
        df, options = jsonl.read_jsonl(
            partitions,
            on_bad_lines=on_bad_lines,
            columns=columns,
            input_meta=input_meta,
            filename_column=filename_column,
        )
        dataset = cls(df)
        dataset._jsonl_source = (partitions, options)
        return dataset

    @classmethod
    def read_parquet(
        cls,
        input_files: InputFiles,
        backend: str = "pandas",
        files_per_partition: int | None = None,
        add_filename: bool | str = False,
        columns: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> DocumentDataset:
        """Lazily read Parquet: a file, a directory (its ``*.parquet`` files, sorted), a glob, or a list.

        ``add_filename`` and ``files_per_partition`` as in :meth:`read_json`; other ``kwargs`` go to
        ``dask.dataframe.read_parquet`` (e.g. ``blocksize``, ``filters``).
        """
        if backend != "pandas":
            raise ConfigError(f"only backend='pandas' is supported, got {backend!r}")
        files = resolve_input_files(input_files, parquet.EXTENSIONS)
        filename_column = (add_filename if isinstance(add_filename, str) else "file_name") if add_filename else None
        return cls(
            parquet.read_parquet(
                files,
                columns=columns,
                files_per_partition=files_per_partition,
                filename_column=filename_column,
                **kwargs,
            )
        )

    def read_report(self) -> ReadReport:
        """Files, records and bad lines of the JSON Lines this dataset was read from (rescans them, in parallel).

        Counting happens in a separate pass over the sources rather than as a side effect of computing the
        partitions, so it is exact on any scheduler and however often the data is recomputed.
        """
        if self._jsonl_source is None:
            raise ConfigError("read_report() is for datasets made by DocumentDataset.read_json")
        partitions, options = self._jsonl_source
        reports = dask.compute(*[dask.delayed(jsonl.scan)(pieces, options) for pieces in partitions])
        return sum(reports, ReadReport())

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
