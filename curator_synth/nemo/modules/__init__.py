"""NeMo Curator 0.9's ``nemo_curator.modules``: ``blend_datasets``, ``ExactDuplicates`` and the filter steps
(``Score``, ``ScoreFilter``, ``Filter``, ``Sequential``, ``ParallelScoreFilter``); docs/nemo_migration.md."""

from curator_synth.nemo.modules.dataset_ops import blend_datasets
from curator_synth.nemo.modules.exact_dedup import ExactDuplicates
from curator_synth.nemo.modules.filter import Filter, ParallelScoreFilter, Score, ScoreFilter, Sequential

__all__ = ["ExactDuplicates", "Filter", "ParallelScoreFilter", "Score", "ScoreFilter", "Sequential", "blend_datasets"]
