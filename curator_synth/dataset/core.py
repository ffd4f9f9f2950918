"""``DocumentDataset``: a partitioned table of records (a Dask DataFrame), NeMo Curator's name and shape.

Curation steps take a dataset and return a new one; nothing runs until a result is written, converted to
pandas or persisted. The default scheduler is Dask's local one; with a ``distributed.Client`` alive (e.g. a
``LocalCluster``) the same code runs on its workers.
"""

from __future__ import annotations

from typing import Any

import dask.dataframe as dd
import pandas as pd

from curator_synth.errors import ConfigError

__all__ = ["DocumentDataset"]


class DocumentDataset:
    """A dataset of documents/records; ``.df`` is the underlying ``dask.dataframe.DataFrame``."""

    def __init__(self, df: dd.DataFrame) -> None:
        if not isinstance(df, dd.DataFrame):
            raise ConfigError(f"DocumentDataset wraps a dask DataFrame, got {type(df).__name__}")
        self.df = df

    # ----------------------------------------------------------------------------------------- building
    @classmethod
    def from_pandas(
        cls, data: pd.DataFrame, npartitions: int | None = None, chunksize: int | None = None
    ) -> DocumentDataset:
        if npartitions is None and chunksize is None:
            npartitions = 1
        return cls(dd.from_pandas(data, npartitions=npartitions, chunksize=chunksize))

    # ------------------------------------------------------------------------------------------ results
    def to_pandas(self) -> pd.DataFrame:
        return self.df.compute()

    def head(self, n: int = 5, npartitions: int = -1) -> pd.DataFrame:
        """The first ``n`` rows (looking through all partitions by default, unlike dask's head)."""
        return self.df.head(n, npartitions=npartitions, compute=True)

    def persist(self) -> DocumentDataset:
        return DocumentDataset(self.df.persist())

    def repartition(self, npartitions: int | None = None, partition_size: str | None = None) -> DocumentDataset:
        if npartitions is None and partition_size is None:
            raise ConfigError("repartition needs npartitions or partition_size")
        if partition_size is not None:
            return DocumentDataset(self.df.repartition(partition_size=partition_size))
        return DocumentDataset(self.df.repartition(npartitions=npartitions))

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
