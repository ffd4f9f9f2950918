"""NeMo Curator 0.9's ``nemo_curator.modules``: so far ``blend_datasets`` (the filters' steps, ``ExactDuplicates``,
``AddId``, ``Shuffle``... follow: docs/nemo_migration.md)."""

from curator_synth.nemo.modules.dataset_ops import blend_datasets

__all__ = ["blend_datasets"]
