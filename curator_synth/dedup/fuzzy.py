"""Fuzzy deduplication with MinHash-LSH: near-duplicate documents form groups (connected components).

NeMo Curator 0.9 shape: ``FuzzyDuplicates(config=FuzzyDuplicatesConfig(...))``, ``identify_duplicates(dataset)``
returning ``(id, group)`` and ``remove(dataset, duplicates)``. The stages:

1. **Signatures and bands** (``map_partitions``): shingle every document (char n-grams by default, or word
   n-grams), compute ``num_hashes = num_buckets * hashes_per_bucket`` MinHash values, fold each band of
   ``hashes_per_bucket`` values into a bucket key. Vectorised over the partition (``curator_synth.dedup.minhash``).
2. **Buckets** (shuffle on the bucket key): every bucket lands whole in one partition; documents sharing a
   bucket are candidates. Edges: a star to the bucket's smallest id, or — with ``false_positive_check`` —
   pairs with the ``num_anchors`` smallest ids whose exact Jaccard (same shingling) reaches
   ``jaccard_threshold``; the others are dropped.
3. **Components** (driver): a vectorised union-find over the collected edges gives the groups.

A pair of documents with Jaccard ``s`` shares at least one bucket with probability
``1 - (1 - s**r)**b`` (``b`` buckets of ``r`` hashes). The defaults (``b=18, r=15``, 270 hashes) put the
steep part of that curve at 0.825, just above the default ``jaccard_threshold`` 0.8: on the T0 benchmark
(docs/benchmarks.md) the pairs they assert are 0.967 of the true pairs at 0.992 precision. NeMo Curator's
defaults (``b=20, r=13``, midpoint 0.794) find slightly more pairs (0.981) with more false ones (0.983
precision); pass them for NeMo-identical settings. A pair at Jaccard 0.9 shares a bucket with probability
0.984 (0.997 with NeMo's), one at 0.95 with 0.99998, one at 0.3 almost never. Documents without any shingle
(empty text) are never duplicates.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

import dask.dataframe as dd
import numpy as np
import pandas as pd

from curator_synth.dataset import DocumentDataset
from curator_synth.dedup.exact import remove_duplicates
from curator_synth.dedup.lsh import BUCKET, bucket_edges, groups_from_edges, shuffle_method, verify_pairs
from curator_synth.dedup.minhash import (
    MinHasher,
    ShingleFunction,
    band_keys,
    char_shingle_hashes,
    word_shingle_hashes,
)
from curator_synth.errors import ConfigError

__all__ = ["FuzzyDuplicates", "FuzzyDuplicatesConfig"]

DEFAULT_CHAR_NGRAMS = 5


@dataclass(frozen=True)
class FuzzyDuplicatesConfig:
    """Validated, immutable settings of :class:`FuzzyDuplicates` (NeMo Curator's field names).

    Shingling: ``char_ngrams`` (default 5 when neither is given) or ``word_ngrams`` (whitespace tokens) —
    not both. ``num_hashes`` may be given as a check; it must equal ``num_buckets * hashes_per_bucket``.
    ``num_anchors`` only matters with ``false_positive_check``.
    """

    id_field: str = "id"
    text_field: str = "text"
    seed: int = 42
    char_ngrams: int | None = None
    word_ngrams: int | None = None
    num_buckets: int = 18
    hashes_per_bucket: int = 15
    num_hashes: int | None = None
    false_positive_check: bool = False
    jaccard_threshold: float = 0.8
    num_anchors: int = 2
    perform_removal: bool = False

    def __post_init__(self) -> None:
        if self.char_ngrams is not None and self.word_ngrams is not None:
            raise ConfigError("give char_ngrams or word_ngrams, not both")
        if self.char_ngrams is None and self.word_ngrams is None:
            object.__setattr__(self, "char_ngrams", DEFAULT_CHAR_NGRAMS)
        for name in ("char_ngrams", "word_ngrams"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        for name in ("num_buckets", "hashes_per_bucket", "num_anchors"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        product = self.num_buckets * self.hashes_per_bucket
        if self.num_hashes is None:
            object.__setattr__(self, "num_hashes", product)
        elif self.num_hashes != product:
            raise ConfigError(f"num_hashes={self.num_hashes} must equal num_buckets * hashes_per_bucket = {product}")
        if not 0.0 < self.jaccard_threshold <= 1.0:
            raise ConfigError(f"jaccard_threshold must be in (0, 1], got {self.jaccard_threshold!r}")
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**63:
            raise ConfigError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not self.id_field or not self.text_field:
            raise ConfigError("id_field and text_field must be non-empty column names")

    @property
    def shingles(self) -> ShingleFunction:
        """The shingling function (picklable): texts -> (64-bit shingle hashes, per-document offsets)."""
        if self.word_ngrams is not None:
            return functools.partial(word_shingle_hashes, n=self.word_ngrams)
        return functools.partial(char_shingle_hashes, n=self.char_ngrams or DEFAULT_CHAR_NGRAMS)

    @property
    def collision_probability(self) -> Any:
        """``s -> 1 - (1 - s**r)**b``: the chance that a pair of Jaccard ``s`` shares a bucket."""
        b, r = self.num_buckets, self.hashes_per_bucket
        return lambda s: 1.0 - (1.0 - np.asarray(s, dtype=float) ** r) ** b


def _bucket_partition(part: pd.DataFrame, config: FuzzyDuplicatesConfig) -> pd.DataFrame:
    texts = part[config.text_field].fillna("").astype(str).tolist()
    hashes, offsets = config.shingles(texts)
    signatures = MinHasher(int(config.num_hashes or 0), config.seed).signatures(hashes, offsets)
    keep = np.diff(offsets) > 0
    keys = band_keys(signatures[keep], config.num_buckets, config.hashes_per_bucket)
    ids = part[config.id_field].to_numpy()[keep]
    return pd.DataFrame({config.id_field: np.repeat(ids, config.num_buckets), BUCKET: keys.ravel()})


class FuzzyDuplicates:
    """Near-duplicate groups by MinHash-LSH; ``FuzzyDuplicates(config)`` or ``FuzzyDuplicates(**fields)``."""

    def __init__(self, config: FuzzyDuplicatesConfig | None = None, **fields: Any) -> None:
        if config is not None and fields:
            raise ConfigError("pass a FuzzyDuplicatesConfig or keyword fields, not both")
        if config is not None and not isinstance(config, FuzzyDuplicatesConfig):
            raise ConfigError(f"config must be a FuzzyDuplicatesConfig, got {type(config).__name__}")
        try:
            self.config = config if config is not None else FuzzyDuplicatesConfig(**fields)
        except TypeError as error:  # unknown keyword
            raise ConfigError(str(error)) from error

    def with_options(self, **fields: Any) -> FuzzyDuplicates:
        """A copy with some settings changed (validated again)."""
        return FuzzyDuplicates(replace(self.config, **fields))

    def _check(self, dataset: DocumentDataset) -> None:
        missing = {self.config.id_field, self.config.text_field} - set(dataset.columns)
        if missing:
            raise ConfigError(f"dataset lacks column(s) {sorted(missing)}; it has {dataset.columns}")

    def buckets(self, dataset: DocumentDataset) -> dd.DataFrame:
        """Lazy ``(id_field, _bucket)``: one row per document and band (``num_buckets`` rows per document)."""
        self._check(dataset)
        id_field = self.config.id_field
        meta = pd.DataFrame({id_field: dataset.df._meta[id_field].iloc[:0], BUCKET: pd.Series([], dtype="int64")})
        columns = [id_field, self.config.text_field]
        return dataset.df[columns].map_partitions(_bucket_partition, self.config, meta=meta)

    def candidate_edges(self, dataset: DocumentDataset) -> dd.DataFrame:
        """Lazy edges ``(id_a, id_b)`` with ``id_a < id_b`` (verified when ``false_positive_check``)."""
        config = self.config
        id_field = config.id_field
        buckets = self.buckets(dataset).shuffle(on=BUCKET, shuffle_method=shuffle_method())
        id_meta = dataset.df._meta[id_field].iloc[:0]
        meta = pd.DataFrame({"id_a": id_meta, "id_b": id_meta})
        anchors = config.num_anchors if config.false_positive_check else None
        edges = buckets.map_partitions(bucket_edges, id_field, anchors, meta=meta)
        if not config.false_positive_check:
            return edges
        edges = edges.drop_duplicates(split_out=edges.npartitions, shuffle_method=shuffle_method())
        texts = dataset.df[[id_field, config.text_field]]
        left = texts.rename(columns={id_field: "id_a", config.text_field: "text_a"})
        right = texts.rename(columns={id_field: "id_b", config.text_field: "text_b"})
        method = shuffle_method()
        pairs = edges.merge(left, on="id_a", shuffle_method=method).merge(right, on="id_b", shuffle_method=method)
        verified_meta = meta.assign(jaccard=pd.Series([], dtype="float64"))
        return pairs.map_partitions(verify_pairs, config.shingles, config.jaccard_threshold, meta=verified_meta)

    def identify_duplicates(self, dataset: DocumentDataset) -> DocumentDataset:
        """``(id_field, group)`` for every document in a group of two or more (computes the edges now).

        Groups are numbered 0, 1, ... by their smallest id: the same data gives the same table on any
        scheduler or partitioning.
        """
        edges = self.candidate_edges(dataset)[["id_a", "id_b"]].compute().drop_duplicates(ignore_index=True)
        groups = groups_from_edges(edges, self.config.id_field)
        return DocumentDataset(dd.from_pandas(groups, npartitions=1))

    def remove(self, dataset: DocumentDataset, duplicates: DocumentDataset | None = None) -> DocumentDataset:
        """``dataset`` with one representative (smallest id) per group; identifies the groups if not given."""
        if duplicates is None:
            duplicates = self.identify_duplicates(dataset)
        return remove_duplicates(dataset, duplicates, self.config.id_field)

    def __call__(self, dataset: DocumentDataset) -> DocumentDataset:
        return self.remove(dataset) if self.config.perform_removal else self.identify_duplicates(dataset)
