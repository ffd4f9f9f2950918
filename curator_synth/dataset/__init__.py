"""Datasets: ``DocumentDataset`` (Dask-partitioned records) and its readers and writers."""

from curator_synth.dataset.core import DocumentDataset

__all__ = ["DocumentDataset"]
