"""NeMo's ``TaskDecontamination``: NeMo's signature and behaviour over the native
:class:`curator_synth.dedup.BenchmarkDecontamination` in split mode.

Every n-gram of the tasks is looked for; one found in more than ``max_matches`` documents is common text and
stays. Each other match is cut out with ``remove_char_each_side`` characters on either side (to the sentence end);
the pieces longer than ``min_document_length`` characters become rows of their own (the other columns repeated,
as NeMo's ``explode``), and a document left with no piece, or cut into more than ``max_splits``, is removed whole
and written to ``removed_dir`` when there is one. The differences from NeMo are in docs/nemo_migration.md.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from curator_synth.dedup.decontamination import BenchmarkDecontamination, DecontaminationResult
from curator_synth.dedup.ngram_index import NgramIndex, SplitOptions
from curator_synth.errors import ConfigError
from curator_synth.nemo.datasets import DocumentDataset
from curator_synth.nemo.tasks import DownstreamTask

__all__ = ["TaskDecontamination"]


class TaskDecontamination:
    """Remove segments of downstream evaluation tasks from a dataset (NeMo Curator 0.9's signature).

    ``max_ngram_size`` is accepted for NeMo's sake: the n-gram lengths looked for are those the tasks give
    (their own ``max_ngram_size``, 13 by default, and their shorter whole texts).
    """

    def __init__(
        self,
        tasks: DownstreamTask | Iterable[DownstreamTask],
        text_field: str = "text",
        max_ngram_size: int = 13,
        max_matches: int = 10,
        min_document_length: int = 200,
        remove_char_each_side: int = 200,
        max_splits: int = 10,
        removed_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.tasks = [tasks] if isinstance(tasks, DownstreamTask) else list(tasks)
        if not self.tasks:
            raise ConfigError("TaskDecontamination needs at least one task")
        strays = [type(task).__name__ for task in self.tasks if not isinstance(task, DownstreamTask)]
        if strays:
            raise ConfigError(f"tasks must be DownstreamTask objects, got {strays}")
        self.text_field = text_field
        self.max_ngram_size = max_ngram_size
        self.max_matches = max_matches
        self.min_document_length = min_document_length
        self.remove_char_each_side = remove_char_each_side
        self.max_splits = max_splits
        self.removed_dir = os.fspath(removed_dir) if removed_dir is not None else None
        self._split = SplitOptions(remove_char_each_side, min_document_length, max_splits)

    def __call__(self, dataset: DocumentDataset) -> DocumentDataset:
        return self.call(dataset)

    def call(self, dataset: DocumentDataset) -> DocumentDataset:
        """The dataset without the tasks' n-grams (see the module docstring)."""
        decontamination = self._native(self.prepare_task_ngram_count())
        return self._kept(decontamination.decontaminate(dataset))

    def prepare_task_ngram_count(self) -> dict[str, int]:
        """``{ngram: 0}`` for every n-gram of every task (computed, where NeMo returns a ``Delayed``)."""
        merged: dict[str, int] = {}
        for task in self.tasks:
            merged.update(task.generate_ngrams())
        return merged

    def find_matching_ngrams(self, task_ngrams: Mapping[str, int], dataset: DocumentDataset) -> dict[str, Any]:
        """``{"matched-ngrams": {ngram: documents holding it}, "ngrams-freq": [(length, task n-grams of that
        length), ...]}`` (computed, where NeMo returns a ``Delayed``)."""
        counts = self._native(task_ngrams).count_ngrams(dataset)
        lengths = Counter(len(ngram.split()) for ngram in task_ngrams)
        return {"matched-ngrams": counts, "ngrams-freq": sorted(lengths.items())}

    def remove_matching_ngrams(
        self, matched_ngrams: Mapping[str, int], ngram_freq: list[tuple[int, int]], dataset: DocumentDataset
    ) -> DocumentDataset:
        """Cut out the ``matched_ngrams`` found in at most ``max_matches`` documents (``ngram_freq`` is unused: the
        lengths come from the n-grams)."""
        if not matched_ngrams:
            return DocumentDataset(dataset.df)
        return self._kept(self._native(matched_ngrams).decontaminate(dataset, matched_ngrams))

    def _native(self, task_ngrams: Iterable[str]) -> BenchmarkDecontamination:
        """The native decontamination of ``task_ngrams``, attributed to the first task holding each n-gram."""
        wanted = set(task_ngrams)
        by_task: dict[str, list[str]] = {}
        for task in self.tasks:
            own = task.ngrams or task.generate_ngrams()
            by_task.setdefault(_task_name(task), []).extend(ngram for ngram in own if ngram in wanted)
            wanted.difference_update(own)
        if wanted:  # n-grams given directly that no task holds
            by_task.setdefault("tasks", []).extend(wanted)
        index = NgramIndex.from_task_ngrams({name: found for name, found in by_task.items() if found})
        return BenchmarkDecontamination(
            index, self.text_field, id_field=None, max_matches=self.max_matches, mode="split", split=self._split
        )

    def _kept(self, result: DecontaminationResult) -> DocumentDataset:
        if self.removed_dir is not None:
            removed = result.removed
            by_file = "file_name" in removed.columns
            removed.to_json(self.removed_dir, write_to_filename=by_file, keep_filename_column=by_file)
        return DocumentDataset(result.kept.df)


def _task_name(task: DownstreamTask) -> str:
    return str(getattr(task, "name", None) or getattr(task, "_task_name", None) or type(task).__name__.lower())
