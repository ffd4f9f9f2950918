"""Datasets: ``DocumentDataset`` (Dask-partitioned records) and its readers and writers."""

from curator_synth.dataset.core import DocumentDataset
from curator_synth.dataset.io import DEFAULT_BLOCKSIZE, BadLine, DataFormatError, ReadReport

__all__ = ["DEFAULT_BLOCKSIZE", "BadLine", "DataFormatError", "DocumentDataset", "ReadReport"]
