"""NeMo's ``DocumentDataset``: curator_synth's own :class:`~curator_synth.dataset.DocumentDataset` (the same
constructor, ``from_pandas``, ``read_json``, ``read_parquet``, ``to_*``, ``head``, ``persist``, ``repartition``) with
NeMo's pickle methods, and NeMo's ``_read_json_or_parquet`` helper."""

from __future__ import annotations

import os
from typing import Any, cast

import pandas as pd

from curator_synth.dataset import DocumentDataset as _Native
from curator_synth.errors import ConfigError

__all__ = ["DocumentDataset"]


class DocumentDataset(_Native):
    @classmethod
    def read_pickle(
        cls, input_files: str | os.PathLike[str] | list[str], backend: str = "pandas", columns: list[str] | None = None
    ) -> DocumentDataset:
        """Read pickled pandas frames, concatenated (in as many partitions as files). Unpickling runs code from the
        file: read only files you trust. NeMo's ``backend`` and ``columns`` arguments are honoured
        (``backend="pandas"`` only)."""
        if backend != "pandas":
            raise ConfigError(f"only backend='pandas' is supported, got {backend!r}")
        files = [input_files] if isinstance(input_files, (str, os.PathLike)) else list(input_files)
        frames = [pd.read_pickle(path) for path in files]
        frame = pd.concat(frames, ignore_index=True) if len(frames) != 1 else frames[0]
        dataset = cls.from_pandas(frame[columns] if columns is not None else frame, npartitions=max(1, len(frames)))
        return cast(DocumentDataset, dataset)  # from_pandas builds cls

    def to_pickle(self, output_file_dir: str, write_to_filename: bool = False) -> None:
        """Not supported, as in NeMo Curator: write parquet (``to_parquet``) or JSON Lines (``to_json``)."""
        raise NotImplementedError("DocumentDataset does not support to_pickle yet: use to_parquet or to_json")


def _read_json_or_parquet(
    input_files: str | list[str],
    file_type: str,
    backend: str = "pandas",
    files_per_partition: int | None = None,
    blocksize: int | str | None = None,
    add_filename: bool | str = False,
    input_meta: Any = None,
    columns: list[str] | None = None,
    **kwargs: Any,
) -> Any:
    """NeMo's reader behind ``DocumentDataset.read_json`` / ``read_parquet``: files or directories (a string or a
    list of strings) of ``file_type`` ``"jsonl"`` / ``"json"`` / ``"parquet"``, as a Dask DataFrame."""
    if not isinstance(input_files, (str, list)):
        raise TypeError(f"input_files must be a string or a list of strings, got {type(input_files).__name__}")
    if file_type in ("jsonl", "json"):
        dataset = _Native.read_json(
            input_files, backend=backend, files_per_partition=files_per_partition, blocksize=blocksize,
            add_filename=add_filename, input_meta=input_meta, columns=columns, **kwargs,
        )  # fmt: skip
    elif file_type == "parquet":
        dataset = _Native.read_parquet(input_files, backend=backend, columns=columns, add_filename=add_filename)
    else:
        raise ConfigError(f"file_type must be 'jsonl', 'json' or 'parquet', got {file_type!r}")
    return dataset.df
