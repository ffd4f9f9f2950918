"""Diversity: :class:`DiversitySampler` (random, cluster-balanced, topic-stratified) and diversity metrics.

Sampling picks row *positions* and then takes them from the data, so a :class:`~curator_synth.DocumentDataset`
stays partitioned (only the column that decides the sample — a topic, or the embeddings — is gathered) and the
sample keeps the data's row order. Every strategy is seeded and returns ``min(n, len(data))`` rows.

Metrics (:func:`compute_diversity_score`) are cheap enough for every run of a pipeline: all of them are linear
in the number of texts except the Vendi score, computed from the ``d x d`` Gram matrix of the embeddings
(``O(n d^2)``; MiniLM: d = 384) rather than the ``n x n`` kernel, whose non-zero eigenvalues it shares.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from curator_synth.dedup.novelty import RougeLIndex, rouge_tokens
from curator_synth.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from curator_synth.dataset import DocumentDataset
    from curator_synth.embeddings import Embedder

__all__ = [
    "MAX_DEFAULT_CLUSTERS",
    "DiversitySampler",
    "Histogram",
    "balanced_allocation",
    "compute_diversity_score",
    "distinct_n",
    "embedding_dispersion",
    "histogram",
    "proportional_allocation",
    "rouge_l_to_nearest_seed",
    "topic_entropy",
    "vendi_score",
]

Strategy = Literal["random", "cluster_balanced", "topic_stratified"]

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
        if strategy not in ("random", "cluster_balanced", "topic_stratified"):
            raise ConfigError(f"unknown strategy {strategy!r}: random, cluster_balanced or topic_stratified")
        if n < 0:
            raise ConfigError(f"n must be >= 0, got {n}")
        if strategy == "topic_stratified" and topic_field is None:
            raise ConfigError("strategy='topic_stratified' needs topic_field")
        if allocation not in ("proportional", "equal"):
            raise ConfigError(f"allocation must be 'proportional' or 'equal', got {allocation!r}")
        if n_clusters is not None and n_clusters < 1:
            raise ConfigError(f"n_clusters must be at least 1, got {n_clusters}")
        if strategy == "cluster_balanced" and embedder is None and embedding_field is None:
            from curator_synth.embeddings import Embedder

            embedder = Embedder()
        self.strategy = strategy
        self.n = n
        self.seed = seed
        self.embedder = embedder
        self.n_clusters = n_clusters
        self.topic_field = topic_field
        self.text_field = text_field
        self.embedding_field = embedding_field
        self.allocation = allocation

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
            if self.strategy == "cluster_balanced" and embedding_field is None and sum(lengths) > self.n:
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
        if self.strategy == "random" or self.n >= total:
            return np.sort(rng.choice(total, size=min(self.n, total), replace=False))
        if self.strategy == "topic_stratified":
            labels = _codes(column(self.topic_field))
            allocate = proportional_allocation if self.allocation == "proportional" else balanced_allocation
        else:
            from curator_synth.dedup.semantic import cluster_embeddings
            from curator_synth.embeddings import l2_normalize, stack_embeddings

            if embedding_field is not None:
                embeddings = stack_embeddings(column(embedding_field))
            else:
                assert self.embedder is not None
                embeddings = self.embedder.embed(column(self.text_field))
            n_clusters = self.n_clusters or min(self.n, MAX_DEFAULT_CLUSTERS)
            labels = cluster_embeddings(l2_normalize(embeddings), n_clusters, self.seed)
            allocate = balanced_allocation
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


# ---------------------------------------------------------------------------------------------- metrics
def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct-n (Li et al., 2016): unique n-grams / all n-grams over the corpus, tokens as ROUGE's
    (lower-cased ``[a-z0-9]`` runs). 0.0 for a corpus without n-grams."""
    grams: Counter[tuple[str, ...]] = Counter()
    for text in texts:
        tokens = rouge_tokens(text)
        grams.update(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0


def topic_entropy(topics: Sequence[Any]) -> float:
    """Shannon entropy, in bits, of the topic distribution (0.0 for one topic; log2(k) for k balanced topics)."""
    counts = np.array(list(Counter(topics).values()), dtype=np.float64)
    if counts.sum() == 0:
        return 0.0
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum() + 0.0)


def embedding_dispersion(embeddings: np.ndarray) -> float:
    """Mean pairwise cosine distance ``1 - cos`` over all pairs i != j, in O(n d): with unit rows,
    ``sum_ij cos = |sum_i e_i|^2``. 0.0 for identical texts; about 1.0 for unrelated ones. 0.0 if n < 2."""
    from curator_synth.embeddings import l2_normalize

    unit = l2_normalize(embeddings).astype(np.float64)
    n = len(unit)
    if n < 2:
        return 0.0
    total = float(np.square(unit.sum(axis=0)).sum())
    diagonal = float(np.square(unit).sum())
    return 1.0 - (total - diagonal) / (n * (n - 1))


def vendi_score(embeddings: np.ndarray) -> float:
    """Vendi score (Friedman & Dieng, 2023) with the cosine kernel: ``exp(-sum l log l)`` over the eigenvalues
    ``l`` of ``K / n``, ``K = E E^T``. The "effective number of distinct texts": 1.0 when all are the same,
    n when all are orthogonal. Uses ``E^T E / n`` (d x d, same non-zero eigenvalues), so n can be large."""
    from curator_synth.embeddings import l2_normalize

    unit = l2_normalize(embeddings).astype(np.float64)
    n = len(unit)
    if n == 0:
        return 0.0
    gram = unit @ unit.T if n < unit.shape[1] else unit.T @ unit
    eigenvalues = np.linalg.eigvalsh(gram / n)
    eigenvalues = eigenvalues[eigenvalues > 1e-12]
    return float(np.exp(-(eigenvalues * np.log(eigenvalues)).sum()))


def compute_diversity_score(
    data: Sequence[str] | pd.DataFrame,
    embeddings: np.ndarray | None = None,
    topics: Sequence[Any] | None = None,
    *,
    text_field: str = "text",
    topic_field: str | None = None,
    embedder: Embedder | None = None,
    embed: bool = True,
) -> dict[str, float]:
    """Diversity metrics of a set of texts (a list, or a DataFrame's ``text_field``).

    Returns ``n``, ``distinct_1``, ``distinct_2``; ``topic_entropy`` (bits) and ``n_topics`` when topics are
    given (``topics`` or ``topic_field``); ``embedding_dispersion`` (mean pairwise cosine distance) and
    ``vendi_score`` from ``embeddings``, or from ``embedder`` (None: the packaged MiniLM) unless ``embed=False``.
    """
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        if topics is None and topic_field is not None:
            topics = data[topic_field].tolist()
        texts = [str(text) for text in data[text_field].tolist()]
    else:
        texts = [str(text) for text in data]
    scores: dict[str, float] = {
        "n": float(len(texts)),
        "distinct_1": distinct_n(texts, 1),
        "distinct_2": distinct_n(texts, 2),
    }
    if topics is not None:
        scores["topic_entropy"] = topic_entropy(list(topics))
        scores["n_topics"] = float(len(set(topics)))
    if embeddings is None and embed and texts:
        from curator_synth.embeddings import Embedder

        embeddings = (embedder or Embedder()).embed(texts)
    if embeddings is not None:
        if len(embeddings) != len(texts):
            raise ConfigError(f"{len(embeddings)} embeddings for {len(texts)} texts")
        scores["embedding_dispersion"] = embedding_dispersion(embeddings)
        scores["vendi_score"] = vendi_score(embeddings)
    return scores


# ------------------------------------------------------------------------------------------ novelty plots
def rouge_l_to_nearest_seed(texts: Sequence[str], seeds: Sequence[str]) -> list[float]:
    """For each text, the ROUGE-L F1 with its closest seed (Self-Instruct's novelty histogram)."""
    index = RougeLIndex(seeds)
    if not len(index):
        return [0.0] * len(texts)
    return [max(index.scores(text)) for text in texts]


@dataclass(frozen=True)
class Histogram:
    """Counts per bin: bin i is ``[edges[i], edges[i + 1])``, the last bin closed on the right."""

    edges: list[float]
    counts: list[int]

    def render(self, width: int = 40) -> str:
        """A text bar chart, one line per bin."""
        peak = max(self.counts, default=0) or 1
        lines = []
        for low, high, count in zip(self.edges, self.edges[1:], self.counts, strict=False):
            lines.append(f"{low:.2f}-{high:.2f} {'#' * round(width * count / peak):<{width}} {count}")
        return "\n".join(lines)


def histogram(values: Sequence[float], bins: int = 10, value_range: tuple[float, float] = (0.0, 1.0)) -> Histogram:
    """Histogram data of ``values`` over ``bins`` equal bins of ``value_range`` (numpy's rules)."""
    counts, edges = np.histogram(np.asarray(values, dtype=np.float64), bins=bins, range=value_range)
    return Histogram(edges=[round(float(edge), 10) for edge in edges], counts=[int(count) for count in counts])
