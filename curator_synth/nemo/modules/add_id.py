"""NeMo's ``AddId``: a string id for every document, ``<id_prefix>-<number>``.

Without ``start_index`` the number is made in each partition alone (its row number, then the partition's number,
each zero-padded: unique across the dataset, no pass over the data first). With ``start_index`` the documents are
numbered in order from it, ten digits wide (``doc_id-0000000000``); the partitions' lengths are computed first.
For ids that hash the record's content, see :mod:`curator_synth.dataset.identity`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from curator_synth.dataset import DocumentDataset

__all__ = ["AddId"]


class AddId:
    def __init__(self, id_field: str, id_prefix: str = "doc_id", start_index: int | None = None) -> None:
        self.id_field = id_field
        self.id_prefix = id_prefix
        self.start_index = start_index

    def __call__(self, dataset: DocumentDataset) -> DocumentDataset:
        meta = dataset.df._meta.assign(**{self.id_field: pd.Series(dtype="string")})
        if self.start_index is None:
            width = len(str(dataset.df.npartitions))
            return DocumentDataset(dataset.df.map_partitions(self._local_ids, width, meta=meta))
        lengths = dataset.df.map_partitions(len).compute().tolist()
        starts = [self.start_index + sum(lengths[:number]) for number in range(len(lengths))]
        return DocumentDataset(dataset.df.map_partitions(self._ordered_ids, starts, meta=meta))

    def _local_ids(self, part: pd.DataFrame, width: int, partition_info: dict[str, Any] | None = None) -> pd.DataFrame:
        number = partition_info["number"] if partition_info else 0
        local = len(str(len(part)))
        ids = [f"{self.id_prefix}-{row:0{local}d}{number:0{width}d}" for row in range(len(part))]
        return part.assign(**{self.id_field: pd.array(ids, dtype="string")})

    def _ordered_ids(
        self, part: pd.DataFrame, starts: list[int], partition_info: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        first = starts[partition_info["number"]] if partition_info else 0
        ids = [f"{self.id_prefix}-{first + row:010d}" for row in range(len(part))]
        return part.assign(**{self.id_field: pd.array(ids, dtype="string")})
