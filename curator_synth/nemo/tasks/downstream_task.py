"""NeMo's ``DownstreamTask`` contract, and :class:`TextTask`: any benchmark from local files or strings.

A task's ``generate_ngrams()`` returns ``{ngram: 0}`` for every n-gram of its texts (normalised words joined by a
space: :func:`curator_synth.dedup.benchmarks.ngram_words`). NeMo's built-in tasks download their benchmarks from
the Hugging Face hub; curator_synth downloads nothing, so the benchmark is given as a file or as strings.
"""

from __future__ import annotations

import importlib
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence

from curator_synth.dedup.benchmarks import BENCHMARK_SUFFIXES, Benchmark, benchmark_ngrams, read_benchmark_texts
from curator_synth.errors import ConfigError, DataFormatError

__all__ = ["DownstreamTask", "TextTask", "import_task"]


class DownstreamTask(ABC):
    """A benchmark to decontaminate against: subclasses set ``_task_name`` and implement :meth:`generate_ngrams`,
    usually by calling :meth:`_update_ngrams` on each benchmark text."""

    def __init__(self) -> None:
        super().__init__()
        self._task_name: str | None = None
        self._ngrams: dict[str, int] = {}

    @abstractmethod
    def generate_ngrams(self) -> dict[str, int]:
        """``{ngram: 0}`` for every n-gram of the task's texts."""

    @property
    def ngrams(self) -> dict[str, int]:
        return self._ngrams

    @property
    def name(self) -> str:
        """The task's name in removal reasons: ``_task_name``, else the class name in lower case."""
        return self._task_name or type(self).__name__.lower()

    def _update_ngrams(self, text: str, min_ngram_size: int = 8, max_ngram_size: int = 13) -> None:
        """Add the n-grams of ``text``: its ``max_ngram_size``-word windows, or its whole word sequence if it has
        ``min_ngram_size`` to ``max_ngram_size - 1`` words (none if fewer)."""
        for ngram in benchmark_ngrams([text], max_ngram_size, min_ngram_size):
            self._ngrams.setdefault(ngram, 0)


class TextTask(DownstreamTask):
    """A benchmark named ``name`` from ``texts`` (strings) or ``path``: a JSON Lines, Parquet or ``.txt`` file, or
    a directory of them, with the benchmark texts in ``field`` (a key or column, or a list of them; a value may be
    a list of strings). A malformed file is a ``DataFormatError`` naming the file and line, and a benchmark with
    no text of ``min_ngram_size`` words a ``ConfigError``, both here at construction."""

    def __init__(
        self,
        name: str,
        texts: Iterable[str] | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        field: str | Sequence[str] = "text",
        min_ngram_size: int = 8,
        max_ngram_size: int = 13,
    ) -> None:
        super().__init__()
        if (texts is None) == (path is None):
            raise ConfigError(f"TextTask {name!r}: give the benchmark's texts or its path, exactly one of the two")
        self._task_name = name
        self._min_ngram_size = min_ngram_size
        self._max_ngram_size = max_ngram_size
        if texts is not None:
            self.benchmark = Benchmark.from_texts(name, texts)
        else:
            files = _benchmark_files(os.fspath(path or ""))
            found = [text for file in files for text in read_benchmark_texts(file, field)]
            self.benchmark = Benchmark(name, tuple(found), os.fspath(path or ""))
        self.benchmark.ngrams(max_ngram_size, min_ngram_size)  # refuses a benchmark that gives no n-gram

    def generate_ngrams(self) -> dict[str, int]:
        for text in self.benchmark.texts:
            self._update_ngrams(text, self._min_ngram_size, self._max_ngram_size)
        return self.ngrams


def _benchmark_files(path: str) -> list[str]:
    """``path`` itself, or the benchmark files (by suffix) under the directory ``path``, sorted."""
    if not os.path.isdir(path):
        return [path]
    suffixes = tuple(suffix for kind in BENCHMARK_SUFFIXES.values() for suffix in kind)
    files = sorted(
        os.path.join(root, name) for root, _dirs, names in os.walk(path) for name in names if name.endswith(suffixes)
    )
    if not files:
        raise DataFormatError(path, None, f"no benchmark file ({', '.join(suffixes)}) in this directory")
    return files


def import_task(task_path: str) -> type[DownstreamTask]:
    """The task class at ``"package.module.ClassName"``; a class that is no ``DownstreamTask`` is a ``TypeError``."""
    module_path, _, class_name = task_path.rpartition(".")
    task_class = getattr(importlib.import_module(module_path), class_name)
    if not (isinstance(task_class, type) and issubclass(task_class, DownstreamTask)):
        raise TypeError(f"{task_path} must be a subclass of curator_synth.nemo.tasks.DownstreamTask")
    return task_class
