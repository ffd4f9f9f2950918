"""NeMo Curator 0.9's ``nemo_curator.modules``: ``blend_datasets``, ``Shuffle``, ``AddId``, ``ExactDuplicates``, the
filter steps (``Score``, ``ScoreFilter``, ``Filter``, ``Sequential``, ``ParallelScoreFilter``), ``Modify``,
``DocumentSplitter``, ``DocumentJoiner``, ``TaskDecontamination`` and ``BaseConfig``; docs/nemo_migration.md."""

from curator_synth.nemo.modules.add_id import AddId
from curator_synth.nemo.modules.config import BaseConfig
from curator_synth.nemo.modules.dataset_ops import Shuffle, blend_datasets
from curator_synth.nemo.modules.exact_dedup import ExactDuplicates
from curator_synth.nemo.modules.filter import Filter, ParallelScoreFilter, Score, ScoreFilter, Sequential
from curator_synth.nemo.modules.modify import Modify
from curator_synth.nemo.modules.splitter import DocumentJoiner, DocumentSplitter
from curator_synth.nemo.modules.task import TaskDecontamination

__all__ = [
    "AddId",
    "BaseConfig",
    "DocumentJoiner",
    "DocumentSplitter",
    "ExactDuplicates",
    "Filter",
    "Modify",
    "ParallelScoreFilter",
    "Score",
    "ScoreFilter",
    "Sequential",
    "Shuffle",
    "TaskDecontamination",
    "blend_datasets",
]
