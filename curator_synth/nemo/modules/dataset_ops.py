"""NeMo's dataset operations: ``Shuffle`` (below) and ``blend_datasets(target_size, datasets, sampling_weights)``, a
fixed mix of several datasets.

Weights are normalised; dataset *i* contributes ``ceil(weight_i * target_size)`` documents, its rows in order,
repeated from the start as often as needed (so the result may be slightly larger than ``target_size``), and the
parts are concatenated in the order of ``datasets``. For ratios per category, cross-source dedup and provenance,
curator_synth's own :func:`curator_synth.blending.blend` does more.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import dask.dataframe as dd
import numpy as np
import pandas as pd

from curator_synth.dataset import DocumentDataset

__all__ = ["Shuffle", "blend_datasets", "default_filename"]

_KEY = "_shuffle_rand"


def default_filename(partition_num: int) -> str:
    """NeMo's name for the file of output partition ``partition_num``: ``file_0000000003.jsonl``."""
    return f"file_{partition_num:010d}.jsonl"


class Shuffle:
    """Randomly permute the documents, into ``npartitions`` partitions (by default as many as the input has).

    Every row gets a random key (drawn per partition from ``seed`` plus the partition's number when ``seed`` is
    given, so the permutation is reproducible); rows are shuffled to partitions by key and sorted by it within
    each. The index is reset. A ``filename_col`` column, which the permutation makes wrong, is rewritten with
    ``partition_to_filename(partition number)``.
    """

    def __init__(
        self,
        seed: int | None = None,
        npartitions: int | None = None,
        partition_to_filename: Callable[[int], str] = default_filename,
        filename_col: str = "file_name",
    ) -> None:
        self.seed = seed
        self.npartitions = npartitions
        self.partition_to_filename = partition_to_filename
        self.filename_col = filename_col

    def __call__(self, dataset: DocumentDataset) -> DocumentDataset:
        if _KEY in dataset.df.columns:
            raise ValueError(f"the dataset already has a column {_KEY!r}, which Shuffle uses for its keys")
        keyed = dataset.df.map_partitions(self._keys, meta=dataset.df._meta.assign(**{_KEY: np.int64(0)}))
        npartitions = self.npartitions or dataset.df.npartitions
        shuffled = keyed.shuffle(on=_KEY, npartitions=npartitions, ignore_index=True)
        return DocumentDataset(shuffled.map_partitions(self._finish, meta=dataset.df._meta))

    def _keys(self, part: pd.DataFrame, partition_info: dict[str, Any] | None = None) -> pd.DataFrame:
        number = partition_info["number"] if partition_info else 0
        generator = np.random.default_rng(None if self.seed is None else [self.seed, number])
        return part.assign(**{_KEY: generator.integers(0, np.iinfo("int64").max, size=len(part))})

    def _finish(self, part: pd.DataFrame, partition_info: dict[str, Any] | None = None) -> pd.DataFrame:
        part = part.sort_values(_KEY, kind="stable").drop(columns=[_KEY]).reset_index(drop=True)
        if self.filename_col in part.columns and partition_info is not None:
            part[self.filename_col] = self.partition_to_filename(partition_info["number"])
        return part


def blend_datasets(
    target_size: int, datasets: Sequence[DocumentDataset], sampling_weights: Sequence[float]
) -> DocumentDataset:
    if len(datasets) != len(sampling_weights):
        raise ValueError(
            f"Different number of datasets and weights specified. {len(datasets)} datasets and"
            f" {len(sampling_weights)} weights"
        )
    if any(weight < 0 for weight in sampling_weights) or sum(sampling_weights) <= 0:
        raise ValueError(f"sampling_weights must be >= 0 with a positive sum, got {list(sampling_weights)}")
    total = sum(sampling_weights)
    parts: list[dd.DataFrame] = []
    for number, (dataset, weight) in enumerate(zip(datasets, sampling_weights, strict=True)):
        wanted = math.ceil(weight / total * target_size)
        if wanted == 0:
            continue
        lengths = dataset.df.map_partitions(len).compute().tolist()  # once: the size, and where the rows are
        if sum(lengths) == 0:
            raise ValueError(f"dataset {number} is empty, but its weight asks for {wanted} documents")
        whole, rest = divmod(wanted, sum(lengths))
        parts += [dataset.df] * whole
        if rest:
            parts.append(_first_rows(dataset.df, lengths, rest))
    return DocumentDataset(dd.concat(parts))


def _first_rows(df: dd.DataFrame, lengths: list[int], n: int) -> dd.DataFrame:
    """The first ``n`` rows of ``df`` (partitions of ``lengths`` rows), in its partitions: only the partitions
    needed, the last one cut."""
    taken, count = [], 0
    for index, length in enumerate(lengths):
        if count >= n:
            break
        part = df.partitions[index]
        taken.append(part if count + length <= n else part.head(n - count, npartitions=1, compute=False))
        count += length
    return dd.concat(taken)
