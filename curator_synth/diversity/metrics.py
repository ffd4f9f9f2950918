"""Diversity metrics: distinct-n, topic entropy, embedding dispersion, Vendi score, ROUGE-L to the nearest seed.

:func:`compute_diversity_score` is cheap enough for every run of a pipeline: all metrics are linear in the
number of texts except the Vendi score, computed from the ``d x d`` Gram matrix of the embeddings
(``O(n d^2)``; MiniLM: d = 384) rather than the ``n x n`` kernel, whose non-zero eigenvalues it shares.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from curator_synth.dedup.novelty import RougeLIndex, rouge_tokens
from curator_synth.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from curator_synth.embeddings import Embedder

__all__ = [
    "Histogram",
    "compute_diversity_score",
    "distinct_n",
    "embedding_dispersion",
    "histogram",
    "rouge_l_to_nearest_seed",
    "topic_entropy",
    "vendi_score",
]


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
