"""Semantic deduplication: texts whose embeddings have cosine similarity at or above a threshold are duplicates.

The SemDeDup recipe (Abbas et al., 2023), as in NeMo Curator: embed every record (:class:`~curator_synth.
embeddings.Embedder`, by default the packaged offline all-MiniLM-L6-v2), cluster the embeddings with seeded
k-means, compare every pair *within* a cluster (blocks of rows, so memory stays ``block_size x cluster size``),
and join the pairs at or above ``threshold`` into groups with union-find (connected components). Duplicates
are therefore transitive: if a~b and b~c, a, b and c form one group even when cos(a, c) is below the threshold.

Clustering makes the comparison ~``n * n / n_clusters`` instead of ``n * n``; the price is that a pair split
across two clusters is missed (rare for pairs at cosine >= 0.9; ``n_clusters=1`` compares every pair).

Embedding runs per partition on the Dask workers; the ids and vectors (384 float32 per record for MiniLM,
~1.5 GB per million records) are then gathered on the client, where clustering and comparison run.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from curator_synth.embeddings import Embedder, l2_normalize, stack_embeddings
from curator_synth.errors import ConfigError

if TYPE_CHECKING:
    from curator_synth.dataset import DocumentDataset

__all__ = ["SemanticDuplicates", "cluster_embeddings", "similarity_groups"]

#: Default cluster size when ``n_clusters`` is not given: ``ceil(n / 1000)`` clusters.
RECORDS_PER_CLUSTER = 1000


def cluster_embeddings(embeddings: np.ndarray, n_clusters: int, seed: int = 0) -> np.ndarray:
    """Seeded k-means labels (:func:`~curator_synth.dedup.kmeans.kmeans` up to 20 000 distinct rows,
    scikit-learn's ``MiniBatchKMeans`` above).

    Identical rows (the same text embedded twice) are clustered once, weighted by their count — the same
    k-means objective, on fewer points — and the number of clusters never exceeds the number of distinct rows:
    asked for at least that many, each distinct row is its own cluster (numbered in order of first appearance)
    and no k-means runs. One cluster: all 0."""
    n = len(embeddings)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    distinct, first, inverse, counts = np.unique(
        embeddings, axis=0, return_index=True, return_inverse=True, return_counts=True
    )
    inverse = inverse.reshape(-1)
    n_clusters = max(1, min(n_clusters, len(distinct)))
    if n_clusters == 1:
        return np.zeros(n, dtype=np.int64)
    if n_clusters == len(distinct):
        order = np.argsort(first, kind="stable")  # distinct rows by first appearance
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        return rank[inverse].astype(np.int64)
    weights = counts.astype(np.float64)
    if len(distinct) <= 20_000:
        from curator_synth.dedup.kmeans import kmeans

        return kmeans(distinct, n_clusters, seed, weights)[inverse]
    from sklearn.cluster import MiniBatchKMeans

    model = MiniBatchKMeans(n_clusters=n_clusters, random_state=seed, n_init=3, batch_size=4096)
    return np.asarray(model.fit_predict(distinct, sample_weight=weights), dtype=np.int64)[inverse]


def similarity_groups(
    embeddings: np.ndarray, labels: np.ndarray, threshold: float, block_size: int = 2048
) -> np.ndarray:
    """Group number per row (-1: no duplicate) from within-cluster pairs with cosine >= ``threshold``.

    ``embeddings`` must be L2-normalised. Groups are numbered 0, 1, ... in order of their first row.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(embeddings)
    sources: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for cluster in np.unique(labels):
        members = np.flatnonzero(labels == cluster)
        vectors = embeddings[members]
        for start in range(0, len(members), block_size):
            similar = vectors[start : start + block_size] @ vectors[start:].T >= threshold
            rows, cols = np.nonzero(similar)
            upper = cols > rows  # columns are offset by ``start``: col c is member start + c, row r is start + r
            sources.append(members[start + rows[upper]])
            targets.append(members[start + cols[upper]])
    if not sources or not sum(len(s) for s in sources):
        return np.full(n, -1, dtype=np.int64)
    src, dst = np.concatenate(sources), np.concatenate(targets)
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    sizes = np.bincount(component)
    positions = np.flatnonzero(sizes[component] > 1)
    groups = np.full(n, -1, dtype=np.int64)
    # renumber the components in order of their first row
    _, first, inverse = np.unique(component[positions], return_index=True, return_inverse=True)
    groups[positions] = np.argsort(np.argsort(first))[inverse]
    return groups


class SemanticDuplicates:
    """Finds and removes semantic near-duplicates in a :class:`~curator_synth.DocumentDataset`.

    ``threshold``: cosine similarity at or above which two records are duplicates (0.9 by default).
    ``n_clusters``: k-means clusters (None: ``ceil(n / 1000)``). ``keep``: which record of a group survives
    ``remove`` — ``"first"`` (earliest in dataset order) or ``"centroid"`` (the member closest to the group's
    mean embedding, i.e. its most typical phrasing). ``embedding_field``: use vectors already in that column
    (e.g. from :meth:`Embedder.embed_dataset`) instead of embedding ``text_field``.
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        n_clusters: int | None = None,
        threshold: float = 0.9,
        text_field: str = "text",
        id_field: str = "id",
        seed: int = 0,
        keep: Literal["first", "centroid"] = "first",
        embedding_field: str | None = None,
    ) -> None:
        if not -1.0 <= threshold <= 1.0:
            raise ConfigError(f"threshold is a cosine similarity in [-1, 1], got {threshold}")
        if n_clusters is not None and n_clusters < 1:
            raise ConfigError(f"n_clusters must be at least 1, got {n_clusters}")
        if keep not in ("first", "centroid"):
            raise ConfigError(f"keep must be 'first' or 'centroid', got {keep!r}")
        self.embedder = embedder if embedder is not None or embedding_field else Embedder()
        self.n_clusters = n_clusters
        self.threshold = threshold
        self.text_field = text_field
        self.id_field = id_field
        self.seed = seed
        self.keep = keep
        self.embedding_field = embedding_field

    def identify_duplicates(self, dataset: DocumentDataset) -> pd.DataFrame:
        """One row per record that has a duplicate: ``id_field``, ``group`` (0, 1, ...) and ``representative``
        (True for the one record per group that :meth:`remove` keeps), sorted by group then dataset order."""
        ids, embeddings = self._gather(dataset)
        n_clusters = self.n_clusters or math.ceil(len(ids) / RECORDS_PER_CLUSTER)
        labels = cluster_embeddings(embeddings, n_clusters, self.seed)
        groups = similarity_groups(embeddings, labels, self.threshold)
        positions = np.flatnonzero(groups >= 0)
        representative = np.zeros(len(ids), dtype=bool)
        for group in np.unique(groups[positions]):
            members = np.flatnonzero(groups == group)
            if self.keep == "first":
                representative[members[0]] = True
            else:
                closeness = embeddings[members] @ embeddings[members].mean(axis=0)
                # ties (every pair of two is one) go to the earliest member
                representative[members[int(np.argmax(closeness >= closeness.max() - 1e-6))]] = True
        result = pd.DataFrame(
            {
                self.id_field: ids[positions],
                "group": groups[positions],
                "representative": representative[positions],
            }
        )
        return result.sort_values(["group"], kind="stable").reset_index(drop=True)

    def remove(self, dataset: DocumentDataset, duplicates: pd.DataFrame | None = None) -> DocumentDataset:
        """The dataset without the non-representative members of each group (lazy; order preserved).

        ``duplicates``: the result of :meth:`identify_duplicates`, when already computed.
        """
        from curator_synth.dataset import DocumentDataset

        if duplicates is None:
            duplicates = self.identify_duplicates(dataset)
        dropped = duplicates.loc[~duplicates["representative"], self.id_field].tolist()
        if not dropped:
            return dataset
        df = dataset.df
        return DocumentDataset(df[~df[self.id_field].isin(dropped)])

    # ------------------------------------------------------------------------------------------ inputs
    def _gather(self, dataset: DocumentDataset) -> tuple[np.ndarray, np.ndarray]:
        if self.id_field not in dataset.columns:
            raise ConfigError(f"no id column {self.id_field!r}; columns are {dataset.columns}")
        if self.embedding_field is not None:
            if self.embedding_field not in dataset.columns:
                raise ConfigError(f"no embedding column {self.embedding_field!r}; columns are {dataset.columns}")
            column = self.embedding_field
        else:
            assert self.embedder is not None
            column = "_semantic_embedding"
            dataset = self.embedder.embed_dataset(dataset, self.text_field, column)
        frame = dataset.df[[self.id_field, column]].compute()
        ids = frame[self.id_field].to_numpy()
        if pd.Series(ids).duplicated().any():
            raise ConfigError(f"ids in {self.id_field!r} must be unique for semantic dedup")
        embeddings = l2_normalize(stack_embeddings(frame[column].tolist()))
        return ids, embeddings
