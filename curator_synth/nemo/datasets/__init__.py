"""NeMo Curator 0.9's ``nemo_curator.datasets``: ``DocumentDataset`` and ``ParallelDataset``."""

from curator_synth.nemo.datasets.doc_dataset import DocumentDataset
from curator_synth.nemo.datasets.parallel_dataset import ParallelDataset

__all__ = ["DocumentDataset", "ParallelDataset"]
