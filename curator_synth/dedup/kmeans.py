"""Weighted k-means with numpy (k-means++ seeding, Lloyd iterations, best of ``n_init``), for the embedding
clusters of dedup, sampling and the report.

scikit-learn's ``KMeans`` does the same at the same quality, but importing scikit-learn costs ~2 s here, more
than clustering the few thousand distinct rows a curation run has; :func:`~curator_synth.dedup.semantic.
cluster_embeddings` uses this up to 20 000 distinct rows and scikit-learn's ``MiniBatchKMeans`` above.
"""

from __future__ import annotations

import numpy as np

__all__ = ["kmeans"]


def kmeans(
    points: np.ndarray,
    n_clusters: int,
    seed: int = 0,
    weights: np.ndarray | None = None,
    n_init: int = 3,
    max_iter: int = 300,
    tol: float = 1e-4,
) -> np.ndarray:
    """Labels ``0..n_clusters-1`` of ``points`` (rows) minimising the weighted within-cluster sum of squares,
    the best of ``n_init`` seeded runs. ``n_clusters`` must not exceed the number of distinct rows."""
    points = np.asarray(points, dtype=np.float64)
    weights = np.ones(len(points)) if weights is None else np.asarray(weights, dtype=np.float64)
    rng = np.random.default_rng(seed)
    squared = np.einsum("ij,ij->i", points, points)
    # Lloyd stops once the centres move less than tol times the data's mean variance (as scikit-learn does).
    threshold = tol * float(np.mean(np.var(points, axis=0)))
    best_labels, best_inertia = np.zeros(len(points), dtype=np.int64), np.inf
    for _ in range(n_init):
        centres = _plus_plus(points, squared, n_clusters, weights, rng)
        for _ in range(max_iter):
            distances = _distances(points, squared, centres)
            labels = distances.argmin(axis=1)
            moved = _means(points, labels, weights, centres)
            shift = float(((moved - centres) ** 2).sum())
            centres = moved
            if shift <= threshold:
                break
        distances = _distances(points, squared, centres)
        labels = distances.argmin(axis=1)
        inertia = float((weights * distances[np.arange(len(points)), labels]).sum())
        if inertia < best_inertia:
            best_labels, best_inertia = labels, inertia
    return best_labels.astype(np.int64)


def _distances(points: np.ndarray, squared: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances, ``(points, centres)``."""
    distances = squared[:, None] - 2.0 * (points @ centres.T) + np.einsum("ij,ij->i", centres, centres)[None, :]
    return np.maximum(distances, 0.0)


def _plus_plus(
    points: np.ndarray, squared: np.ndarray, k: int, weights: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Greedy k-means++ seeding (as scikit-learn's): each next centre is the best, by the weighted potential
    it leaves, of ``2 + log k`` candidates drawn with probability proportional to weight x squared distance to
    the nearest centre chosen so far."""
    trials = 2 + int(np.log(k))
    chosen = [int(rng.choice(len(points), p=weights / weights.sum()))]
    nearest = _distances(points, squared, points[chosen])[:, 0]
    for _ in range(1, k):
        mass = weights * nearest
        total = mass.sum()
        if total <= 0:
            candidates = rng.integers(len(points), size=trials)
        else:
            candidates = np.searchsorted(np.cumsum(mass), rng.random(trials) * total).clip(max=len(points) - 1)
        closer = np.minimum(nearest[None, :], _distances(points, squared, points[candidates]).T)
        best = int(np.argmin((closer * weights[None, :]).sum(axis=1)))
        chosen.append(int(candidates[best]))
        nearest = closer[best]
    return points[chosen].copy()


def _means(points: np.ndarray, labels: np.ndarray, weights: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The weighted mean of each cluster; a cluster left empty takes the point farthest from its centre."""
    k = len(centres)
    mass = np.bincount(labels, weights=weights, minlength=k)
    sums = np.zeros_like(centres)
    order = np.argsort(labels, kind="stable")
    ranked = labels[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    sums[ranked[starts]] = np.add.reduceat((points * weights[:, None])[order], starts, axis=0)
    moved = np.where(mass[:, None] > 0, sums / np.maximum(mass, 1e-300)[:, None], centres)
    empty = np.flatnonzero(mass == 0)
    if len(empty):
        farthest = np.argsort(-((points - moved[labels]) ** 2).sum(axis=1))
        moved[empty] = points[farthest[: len(empty)]]
    return moved
