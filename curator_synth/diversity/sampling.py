"""Diversity sampling: :class:`DiversitySampler` and its strategies (random, cluster-balanced, topic-stratified).

Sampling picks row *positions* and then takes them from the data, so a :class:`~curator_synth.DocumentDataset`
stays partitioned (only the column that decides the sample — a topic, or the embeddings — is gathered) and the
sample keeps the data's row order. Every strategy is seeded and returns ``min(n, len(data))`` rows. Strategies
are registered by name in :data:`SAMPLING_STRATEGIES`; a plugin adds its own by entry point.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, overload

import numpy as np

from curator_synth.errors import ConfigError
from curator_synth.registry import Registry

if TYPE_CHECKING:
    import pandas as pd

    from curator_synth.dataset import DocumentDataset
    from curator_synth.embeddings import Embedder

__all__ = [
    "ALLOCATIONS",
    "MAX_DEFAULT_CLUSTERS",
    "SAMPLING_STRATEGIES",
    "ClusterBalancedStrategy",
    "DiversitySampler",
    "RandomStrategy",
    "SamplingStrategy",
    "TopicStratifiedStrategy",
    "balanced_allocation",
    "proportional_allocation",
]

Strategy = str
"""A name in :data:`SAMPLING_STRATEGIES`: ``"random"``, ``"cluster_balanced"``, ``"topic_stratified"`` or a plugin's."""

#: Cluster-balanced sampling's default ``n_clusters`` is ``min(n, MAX_DEFAULT_CLUSTERS)``: one cluster per
#: sampled row covers the data best (measured on 180 real texts with heavy redundancy: 39-40 distinct items in
#: a sample of 40 with k = 40, 19-26 with k = 4..16, 22-27 at random); the cap bounds k-means' cost.
MAX_DEFAULT_CLUSTERS = 1000


# --------------------------------------------------------------------------------------------- allocation
def balanced_allocation(sizes: Sequence[int], n: int) -> list[int]:
    """Equal shares of ``n`` over groups of the given sizes; what a small group cannot fill goes to the others
    (water-filling). Returns per-group counts, each <= its size, summing to ``min(n, sum(sizes))``."""
    counts = [0] * len(sizes)
    remaining = min(n, sum(sizes))
    order = sorted(range(len(sizes)), key=lambda i: (sizes[i], i))
    for done, index in enumerate(order):
        share = math.ceil(remaining / (len(order) - done))
        counts[index] = min(sizes[index], share)
        remaining -= counts[index]
    return counts


def proportional_allocation(sizes: Sequence[int], n: int) -> list[int]:
    """Shares of ``n`` proportional to the group sizes (largest-remainder rounding; ties to the larger group)."""
    total = sum(sizes)
    n = min(n, total)
    if total == 0:
        return [0] * len(sizes)
    quotas = [n * size / total for size in sizes]
    counts = [int(quota) for quota in quotas]
    by_remainder = sorted(range(len(sizes)), key=lambda i: (-(quotas[i] - counts[i]), -sizes[i], i))
    for index in by_remainder[: n - sum(counts)]:
        counts[index] += 1
    return counts


ALLOCATIONS: dict[str, Callable[[Sequence[int], int], list[int]]] = {
    "proportional": proportional_allocation,
    "equal": balanced_allocation,
}
"""How a stratified sample shares ``n`` over groups: by group size, or equally (water-filling)."""


# ------------------------------------------------------------------------------------------- strategies
Column = Callable[[str], Sequence[Any]]
"""``column(name)`` returns the values of one column of the data being sampled."""


class SamplingStrategy:
    """How :class:`DiversitySampler` groups rows before sampling. Subclasses set ``name`` and implement
    :meth:`groups`; register them in :data:`SAMPLING_STRATEGIES` (entry points extend it) to name them in
    recipes. ``needs_embeddings``: the sampler makes sure an embedder or an embedding column is available."""

    name: ClassVar[str]
    needs_embeddings: ClassVar[bool] = False

    def validate(self, sampler: DiversitySampler) -> None:
        """Raise :class:`ConfigError` when ``sampler`` lacks a setting this strategy needs."""

    def groups(
        self, sampler: DiversitySampler, column: Column, embedding_field: str | None
    ) -> tuple[np.ndarray, Callable[[Sequence[int], int], list[int]]] | None:
        """A group label per row and the allocation over groups; None: sample uniformly."""
        raise NotImplementedError


SAMPLING_STRATEGIES: Registry[type[SamplingStrategy]] = Registry("sampling_strategies")


@SAMPLING_STRATEGIES.register("random")
class RandomStrategy(SamplingStrategy):
    """Uniform without replacement."""

    name = "random"

    def groups(
        self, sampler: DiversitySampler, column: Column, embedding_field: str | None
    ) -> tuple[np.ndarray, Callable[[Sequence[int], int], list[int]]] | None:
        return None


@SAMPLING_STRATEGIES.register("topic_stratified")
class TopicStratifiedStrategy(SamplingStrategy):
    """Strata from the ``topic_field`` column, shared by the sampler's ``allocation``."""

    name = "topic_stratified"

    def validate(self, sampler: DiversitySampler) -> None:
        if sampler.topic_field is None:
            raise ConfigError("strategy='topic_stratified' needs topic_field")

    def groups(
        self, sampler: DiversitySampler, column: Column, embedding_field: str | None
    ) -> tuple[np.ndarray, Callable[[Sequence[int], int], list[int]]] | None:
        assert sampler.topic_field is not None
        return _codes(column(sampler.topic_field)), ALLOCATIONS[sampler.allocation]


@SAMPLING_STRATEGIES.register("cluster_balanced")
class ClusterBalancedStrategy(SamplingStrategy):
    """k-means clusters of the (L2-normalised) embeddings, equal shares per cluster."""

    name = "cluster_balanced"
    needs_embeddings = True

    def groups(
        self, sampler: DiversitySampler, column: Column, embedding_field: str | None
    ) -> tuple[np.ndarray, Callable[[Sequence[int], int], list[int]]] | None:
        from curator_synth.dedup.semantic import cluster_embeddings
        from curator_synth.embeddings import l2_normalize, stack_embeddings

        if embedding_field is not None:
            embeddings = stack_embeddings(column(embedding_field))
        else:
            assert sampler.embedder is not None
            embeddings = sampler.embedder.embed(list(column(sampler.text_field)))
        n_clusters = sampler.n_clusters or min(sampler.n, MAX_DEFAULT_CLUSTERS)
        return cluster_embeddings(l2_normalize(embeddings), n_clusters, sampler.seed), balanced_allocation


# ---------------------------------------------------------------------------------------------- sampler
class DiversitySampler:
    """Draws ``n`` rows from a ``DocumentDataset`` or pandas ``DataFrame`` (the result has the input's type).

    - ``"random"``: uniform without replacement.
    - ``"cluster_balanced"``: k-means on the text embeddings (``n_clusters``; None: ``min(n, 1000)``), then an
      equal share from every cluster, redistributing what small clusters cannot fill; random within a cluster.
      Flattens the density of the data, so over-represented kinds of text stop dominating the sample. Few
      clusters (k << n) only balance k-means' partition, which need not follow the redundancy in the data.
    - ``"topic_stratified"``: by the ``topic_field`` column, ``allocation="proportional"`` (the topic mix of the
      data, exactly rounded) or ``"equal"`` (equal shares, redistributed like the clusters).

    Embeddings come from ``embedding_field`` when given (e.g. written by ``Embedder.embed_dataset``), else
    from ``embedder`` (None: the packaged offline all-MiniLM-L6-v2) over ``text_field``.
    """

    def __init__(
        self,
        strategy: Strategy = "random",
        n: int = 1000,
        seed: int = 0,
        embedder: Embedder | None = None,
        n_clusters: int | None = None,
        topic_field: str | None = None,
        text_field: str = "text",
        embedding_field: str | None = None,
        allocation: Literal["proportional", "equal"] = "proportional",
    ) -> None:
        if n < 0:
            raise ConfigError(f"n must be >= 0, got {n}")
        if allocation not in ALLOCATIONS:
            raise ConfigError(f"allocation must be one of {sorted(ALLOCATIONS)}, got {allocation!r}")
        if n_clusters is not None and n_clusters < 1:
            raise ConfigError(f"n_clusters must be at least 1, got {n_clusters}")
        self.strategy = strategy
        self.method = SAMPLING_STRATEGIES.get(strategy)()
        self.n = n
        self.seed = seed
        self.embedder = embedder
        self.n_clusters = n_clusters
        self.topic_field = topic_field
        self.text_field = text_field
        self.embedding_field = embedding_field
        self.allocation = allocation
        self.method.validate(self)
        if self.method.needs_embeddings and embedder is None and embedding_field is None:
            from curator_synth.embeddings import Embedder

            self.embedder = Embedder()

    @overload
    def sample(self, data: DocumentDataset) -> DocumentDataset: ...
    @overload
    def sample(self, data: pd.DataFrame) -> pd.DataFrame: ...
    def sample(self, data: DocumentDataset | pd.DataFrame) -> DocumentDataset | pd.DataFrame:
        """``min(n, len(data))`` rows of ``data``, in their original order."""
        from curator_synth.dataset import DocumentDataset

        if isinstance(data, DocumentDataset):
            lengths = data.df.map_partitions(len).compute().tolist()
            source, embedding_field = data, self.embedding_field
            if self.method.needs_embeddings and embedding_field is None and sum(lengths) > self.n:
                assert self.embedder is not None  # embed on the workers, gather only the vectors
                embedding_field = "_diversity_embedding"
                source = self.embedder.embed_dataset(data, self.text_field, embedding_field)
            positions = self.choose(sum(lengths), lambda column: _gather_column(source, column), embedding_field)
            return _take_dataset(data, lengths, positions)
        frame = data
        positions = self.choose(len(frame), lambda column: frame[column].tolist(), self.embedding_field)
        return frame.iloc[positions]

    def choose(self, total: int, column: Any, embedding_field: str | None = None) -> np.ndarray:
        """Sorted positions of the sample among ``total`` rows; ``column(name)`` returns a column's values and
        ``embedding_field`` names the column of embeddings (None: embed ``text_field`` with the embedder)."""
        rng = np.random.default_rng(self.seed)
        grouping = None if self.n >= total else self.method.groups(self, column, embedding_field)
        if grouping is None:
            return np.sort(rng.choice(total, size=min(self.n, total), replace=False))
        labels, allocate = grouping
        groups = [np.flatnonzero(labels == label) for label in np.unique(labels)]
        counts = allocate([len(group) for group in groups], self.n)
        picked = [
            rng.choice(group, size=count, replace=False) for group, count in zip(groups, counts, strict=True) if count
        ]
        return np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.int64)


def _codes(values: Sequence[Any]) -> np.ndarray:
    """Integer labels for arbitrary (hashable) values; missing values form their own group."""
    import pandas as pd

    codes, _ = pd.factorize(pd.Series(list(values), dtype=object), use_na_sentinel=False)
    return np.asarray(codes)


def _gather_column(dataset: Any, column: str) -> list[Any]:
    if column not in dataset.columns:
        raise ConfigError(f"no column {column!r}; columns are {dataset.columns}")
    return list(dataset.df[column].compute().tolist())


def _take_dataset(dataset: Any, lengths: list[int], positions: np.ndarray) -> Any:
    import dask
    import dask.dataframe as dd

    from curator_synth.dataset import DocumentDataset

    offsets = np.concatenate([[0], np.cumsum(lengths)])
    parts = []
    for number, part in enumerate(dataset.df.to_delayed()):
        local = positions[(positions >= offsets[number]) & (positions < offsets[number + 1])] - offsets[number]
        parts.append(dask.delayed(_iloc)(part, local))
    return DocumentDataset(dd.from_delayed(parts, meta=dataset.df._meta, verify_meta=False))


def _iloc(part: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    return part.iloc[positions]
