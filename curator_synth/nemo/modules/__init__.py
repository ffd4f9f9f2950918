"""NeMo Curator 0.9's ``nemo_curator.modules``: so far ``blend_datasets`` and ``ExactDuplicates`` (the filters'
steps, ``AddId``, ``Shuffle``... follow: docs/nemo_migration.md)."""

from curator_synth.nemo.modules.dataset_ops import blend_datasets
from curator_synth.nemo.modules.exact_dedup import ExactDuplicates

__all__ = ["ExactDuplicates", "blend_datasets"]
