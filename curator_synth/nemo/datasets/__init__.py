"""NeMo Curator 0.9's ``nemo_curator.datasets``: ``DocumentDataset`` (so far; ``ParallelDataset`` follows)."""

from curator_synth.nemo.datasets.doc_dataset import DocumentDataset

__all__ = ["DocumentDataset"]
