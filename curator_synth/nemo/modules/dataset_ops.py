"""NeMo's ``blend_datasets(target_size, datasets, sampling_weights)``: a fixed mix of several datasets.

Weights are normalised; dataset *i* contributes ``ceil(weight_i * target_size)`` documents, its rows in order,
repeated from the start as often as needed (so the result may be slightly larger than ``target_size``), and the
parts are concatenated in the order of ``datasets``. For ratios per category, cross-source dedup and provenance,
curator_synth's own :func:`curator_synth.blending.blend` does more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import dask.dataframe as dd

from curator_synth.dataset import DocumentDataset

__all__ = ["blend_datasets"]


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
