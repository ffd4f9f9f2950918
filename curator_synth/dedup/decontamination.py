"""Benchmark decontamination: remove training records that contain long n-grams of an evaluation set's texts.

NeMo Curator 0.9's ``TaskDecontamination`` idea, over a :class:`~curator_synth.dataset.DocumentDataset` (or a
list of records). Two passes, both ``map_partitions`` with the n-gram index sent to the workers once:

1. count, for every benchmark n-gram, the documents that contain it (a per-partition count summed on the client);
   an n-gram found in more than ``max_matches`` documents is common text (a licence line, a famous quotation),
   not contamination, and is ignored;
2. annotate every record with what it contains of the remaining n-grams: ``decontamination_reason``
   (``contaminated:<task>``, or missing), ``contamination_tasks`` (comma-separated) and
   ``contamination_ngrams`` (how many distinct n-grams). The contaminated records are removed: they are
   :attr:`DecontaminationResult.removed`, with those columns, never dropped unseen.

``mode="split"`` is NeMo's other behaviour: each match is cut out with ``remove_char_each_side`` characters on
either side (to the sentence end), the pieces longer than ``min_document_length`` stay as records of their own
(ids ``<id>#0``, ``<id>#1``...: the id column becomes strings), and a record left with no piece or with more than
``max_splits`` is removed whole, with its reason.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import dask
import pandas as pd

from curator_synth.dataset import DocumentDataset
from curator_synth.dedup.benchmarks import Benchmark
from curator_synth.dedup.ngram_index import Contamination, NgramIndex, SplitOptions, split_document
from curator_synth.errors import ConfigError

__all__ = [
    "NGRAMS_COLUMN",
    "REASON_COLUMN",
    "TASKS_COLUMN",
    "BenchmarkDecontamination",
    "DecontaminationResult",
]

REASON_COLUMN = "decontamination_reason"
TASKS_COLUMN = "contamination_tasks"
NGRAMS_COLUMN = "contamination_ngrams"
_ADDED = [REASON_COLUMN, TASKS_COLUMN, NGRAMS_COLUMN]


@dataclass(frozen=True)
class DecontaminationResult:
    """``annotated``: every output record with the three contamination columns (lazy); ``ngram_counts``: how many
    documents hold each benchmark n-gram found; ``common``: those of them ignored (more than ``max_matches``)."""

    annotated: DocumentDataset
    ngram_counts: dict[str, int]
    common: frozenset[str]

    @property
    def kept(self) -> DocumentDataset:
        """The records kept, with their own columns only (in split mode, pieces of cut records among them)."""
        frame = self.annotated.df
        return DocumentDataset(frame[frame[REASON_COLUMN].isna()].drop(columns=_ADDED))

    @property
    def removed(self) -> DocumentDataset:
        """The records removed, with ``decontamination_reason`` and the other contamination columns."""
        frame = self.annotated.df
        return DocumentDataset(frame[~frame[REASON_COLUMN].isna()])

    def compute(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(kept, removed)`` as pandas, from one pass over the records (computing the two apart scans twice)."""
        kept, removed = dask.compute(self.kept.df, self.removed.df)
        return kept, removed

    def reasons(self) -> dict[str, int]:
        """Removed records by reason (computes)."""
        counts = self.removed.df[REASON_COLUMN].value_counts().compute()
        return {str(reason): int(count) for reason, count in counts.items()}


class BenchmarkDecontamination:
    """Find and remove records containing n-grams of benchmark texts (see the module docstring).

    ``benchmarks``: :class:`~curator_synth.dedup.benchmarks.Benchmark` objects (distinct names), or a ready
    :class:`~curator_synth.dedup.ngram_index.NgramIndex`. ``ngram_size`` words per n-gram (13); benchmark texts of
    ``min_ngram_size`` (8) to ``ngram_size - 1`` words are one n-gram each, shorter ones none. ``max_matches``:
    an n-gram in more documents than this is common text and ignored (None: never).
    """

    def __init__(
        self,
        benchmarks: Benchmark | Sequence[Benchmark] | NgramIndex,
        text_field: str = "text",
        id_field: str | None = "id",
        ngram_size: int = 13,
        min_ngram_size: int = 8,
        max_matches: int | None = 10,
        mode: Literal["remove", "split"] = "remove",
        split: SplitOptions | None = None,
    ) -> None:
        if not text_field:
            raise ConfigError("text_field must be a non-empty column name")
        if max_matches is not None and max_matches < 1:
            raise ConfigError(f"max_matches must be >= 1 (or None for no limit), got {max_matches}")
        if mode not in ("remove", "split"):
            raise ConfigError(f"mode must be 'remove' or 'split', got {mode!r}")
        if isinstance(benchmarks, NgramIndex):
            self.index = benchmarks
        else:
            self.index = NgramIndex.from_benchmarks(benchmarks, ngram_size, min_ngram_size)
        self.text_field = text_field
        self.id_field = id_field
        self.max_matches = max_matches
        self.mode = mode
        self.split = split or SplitOptions()

    @property
    def tasks(self) -> tuple[str, ...]:
        return self.index.tasks

    # ------------------------------------------------------------------------------------------- datasets
    def count_ngrams(self, dataset: DocumentDataset) -> dict[str, int]:
        """Pass 1 (computes): every benchmark n-gram found, with the number of documents holding it."""
        self._check(dataset)
        texts = dataset.df[self.text_field]
        meta = pd.Series([], dtype="int64", index=pd.Index([], dtype=object))
        counts = texts.map_partitions(_count_partition, _shared(self.index), meta=meta).compute()
        return {str(ngram): int(count) for ngram, count in counts.groupby(level=0).sum().items()}

    def common_ngrams(self, counts: Mapping[str, int]) -> frozenset[str]:
        """The n-grams of ``counts`` found in more than ``max_matches`` documents."""
        limit = self.max_matches
        return frozenset(ngram for ngram, count in counts.items() if limit is not None and count > limit)

    def decontaminate(self, dataset: DocumentDataset, counts: Mapping[str, int] | None = None) -> DecontaminationResult:
        """Count (unless ``counts`` of :meth:`count_ngrams` are given), then annotate lazily (pass 2)."""
        self._check(dataset)
        counts = dict(self.count_ngrams(dataset) if counts is None else counts)
        common = self.common_ngrams(counts)
        index = self.index.restrict(ngram for ngram in counts if ngram not in common)
        frame = dataset.df
        meta = _annotated_meta(frame._meta, self._split_ids(dataset))
        if self.mode == "split":
            step: Any = _split_partition
            args: tuple[Any, ...] = (self.text_field, self._split_ids(dataset), _shared(index), self.split)
        else:
            step, args = _annotate_partition, (self.text_field, _shared(index))
        return DecontaminationResult(DocumentDataset(frame.map_partitions(step, *args, meta=meta)), counts, common)

    __call__ = decontaminate

    def remove(self, dataset: DocumentDataset) -> DocumentDataset:
        """The records kept (see :meth:`decontaminate` for the removed ones and their reasons)."""
        return self.decontaminate(dataset).kept

    def identify(self, dataset: DocumentDataset) -> DocumentDataset:
        """The records removed, with their reasons (in remove mode: every contaminated record)."""
        return self.decontaminate(dataset).removed

    # ---------------------------------------------------------------------------------------------- lists
    def find(self, texts: Sequence[str]) -> list[Contamination | None]:
        """For each text, its :class:`Contamination` or None (``max_matches`` counts documents of ``texts``)."""
        found = [self.index.found_in(text) if isinstance(text, str) else set() for text in texts]
        counts = Counter(ngram for ngrams in found for ngram in ngrams)
        common = self.common_ngrams(counts)
        return [self.index.contamination(ngrams - common) for ngrams in found]

    def filter_records(self, records: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """``(kept, removed)`` of a list of records (dicts); the removed ones with the contamination keys."""
        if not records:
            return [], []
        dataset = DocumentDataset.from_pandas(pd.DataFrame(list(records)), npartitions=1)
        kept, removed = self.decontaminate(dataset).compute()
        return _records(kept), _records(removed)

    # -------------------------------------------------------------------------------------------- helpers
    def _check(self, dataset: DocumentDataset) -> None:
        if self.text_field not in dataset.columns:
            raise ConfigError(f"dataset lacks column {self.text_field!r}; it has {dataset.columns}")
        clash = [column for column in _ADDED if column in dataset.columns]
        if clash:
            raise ConfigError(f"dataset already has column(s) {clash}: decontamination adds them")

    def _split_ids(self, dataset: DocumentDataset) -> str | None:
        """The id column renamed per piece in split mode (None: no id column, or remove mode)."""
        if self.mode != "split" or self.id_field is None or self.id_field not in dataset.columns:
            return None
        return self.id_field


def _shared(value: Any) -> Any:
    """``value`` as one task of the graph, so a large index is sent to each worker once, not per partition."""
    return dask.delayed(value, name=f"decontamination-index-{uuid.uuid4().hex}")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(key): value for key, value in row.items()} for row in frame.to_dict("records")]


def _annotated_meta(meta: pd.DataFrame, id_field: str | None) -> pd.DataFrame:
    added = {
        REASON_COLUMN: pd.Series([], dtype=object),
        TASKS_COLUMN: pd.Series([], dtype=object),
        NGRAMS_COLUMN: pd.Series([], dtype="int64"),
    }
    out = meta.assign(**added)
    return out.astype({id_field: object}) if id_field is not None else out


def _count_partition(texts: pd.Series, index: NgramIndex) -> pd.Series:
    counts: Counter[str] = Counter()
    for text in texts:
        if isinstance(text, str):
            counts.update(index.found_in(text))
    return pd.Series(list(counts.values()), index=pd.Index(list(counts), dtype=object), dtype="int64")


def _columns(found: Sequence[Contamination | None]) -> dict[str, list[Any]]:
    return {
        REASON_COLUMN: [None] * len(found),
        TASKS_COLUMN: [",".join(item.tasks) if item else None for item in found],
        NGRAMS_COLUMN: [len(item.ngrams) if item else 0 for item in found],
    }


def _with_columns(part: pd.DataFrame, columns: Mapping[str, list[Any]]) -> pd.DataFrame:
    dtypes = {REASON_COLUMN: object, TASKS_COLUMN: object, NGRAMS_COLUMN: "int64"}
    return part.assign(**{name: pd.Series(columns[name], index=part.index, dtype=dtypes[name]) for name in _ADDED})


def _annotate_partition(part: pd.DataFrame, text_field: str, index: NgramIndex) -> pd.DataFrame:
    found = [index.contamination(index.found_in(text)) if isinstance(text, str) else None for text in part[text_field]]
    columns = _columns(found)
    columns[REASON_COLUMN] = [item.reason if item else None for item in found]
    return _with_columns(part, columns)


def _split_partition(
    part: pd.DataFrame, text_field: str, id_field: str | None, index: NgramIndex, options: SplitOptions
) -> pd.DataFrame:
    """One row per kept piece (unchanged rows as they are), one row per record removed whole."""
    take: list[int] = []
    texts: list[Any] = []
    found: list[Contamination | None] = []
    reasons: list[str | None] = []
    pieces_of: list[int | None] = []
    for position, text in enumerate(part[text_field]):
        pieces, ngrams = split_document(text, index, options) if isinstance(text, str) else ([text], set())
        item = index.contamination(ngrams)
        whole = item is None or not 1 <= len(pieces) <= options.max_splits
        for number, piece in enumerate([text] if whole else pieces):
            take.append(position)
            texts.append(piece)
            found.append(item)
            reasons.append(item.reason if item is not None and whole else None)
            pieces_of.append(None if whole else number)
    out = part.iloc[take]
    columns = _columns(found)
    columns[REASON_COLUMN] = reasons
    out = _with_columns(out, columns)
    out[text_field] = pd.Series(texts, index=out.index, dtype=part[text_field].dtype)
    if id_field is not None:
        pairs = zip(out[id_field], pieces_of, strict=True)
        ids = [str(value) if piece is None else f"{value}#{piece}" for value, piece in pairs]
        out[id_field] = pd.Series(ids, index=out.index, dtype=object)
    return out
