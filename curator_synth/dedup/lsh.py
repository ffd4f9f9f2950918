"""From LSH buckets to duplicate groups: bucket edges, exact Jaccard checks, connected components.

A bucket is the set of documents sharing one band key. Two ways to turn buckets into graph edges:

* ``star`` (no false-positive check): every member is linked to the bucket's smallest id. The components
  are the same as with all pairs, with ``m - 1`` edges per bucket instead of ``m (m - 1) / 2``.
* ``anchors`` (with the check, NeMo Curator's scheme): every member is paired with each of the bucket's
  ``num_anchors`` smallest ids, and only pairs whose exact Jaccard reaches the threshold become edges.

:func:`connected_components` is a vectorised union-find (hook every root to the smallest root it touches,
then pointer-jump until every node points at its root), so groups of any size cost a few numpy passes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import dask
import numpy as np
import pandas as pd

from curator_synth.dedup.minhash import jaccard, shingle_sets

__all__ = ["bucket_edges", "connected_components", "groups_from_edges", "shuffle_method", "verify_pairs"]

BUCKET = "_bucket"


def shuffle_method() -> str | None:
    """``None`` (Dask's choice: p2p) when the scheduler in effect is a ``distributed`` client, else ``"tasks"``.

    Dask picks p2p whenever a client exists, even under ``dask.config.set(scheduler="threads")``, and p2p
    then fails outside the workers; the scheduler actually in effect decides here.
    """
    scheduler = dask.base.get_scheduler()
    module = getattr(scheduler, "__module__", "") or ""
    owner = getattr(getattr(scheduler, "__self__", None), "__module__", "") or ""
    return None if module.startswith("distributed") or owner.startswith("distributed") else "tasks"


def bucket_edges(part: pd.DataFrame, id_field: str, num_anchors: int | None) -> pd.DataFrame:
    """Edges ``(id_a, id_b)`` of the buckets in ``part`` (all rows of a bucket must be in this partition).

    ``num_anchors=None``: star edges to the smallest id; otherwise pairs with the ``num_anchors`` smallest.
    """
    empty = pd.DataFrame({"id_a": part[id_field].iloc[:0], "id_b": part[id_field].iloc[:0]})
    if part.empty:
        return empty
    part = part.drop_duplicates([BUCKET, id_field])
    part = part[part.duplicated(BUCKET, keep=False)]  # buckets with at least two documents
    if part.empty:
        return empty
    part = part.sort_values([BUCKET, id_field])
    rank = part.groupby(BUCKET, sort=False).cumcount()
    anchors = part[rank < (num_anchors or 1)]
    pairs = part.merge(anchors, on=BUCKET, suffixes=("_m", "_a"))
    pairs = pairs[pairs[f"{id_field}_m"] != pairs[f"{id_field}_a"]]
    a, m = pairs[f"{id_field}_a"], pairs[f"{id_field}_m"]
    lower = a.where(a < m, m)
    upper = m.where(a < m, a)
    return pd.DataFrame({"id_a": lower.to_numpy(), "id_b": upper.to_numpy()}).drop_duplicates(ignore_index=True)


def verify_pairs(
    part: pd.DataFrame,
    shingles: Callable[[Sequence[str]], tuple[np.ndarray, np.ndarray]],
    threshold: float,
) -> pd.DataFrame:
    """Keep the rows of ``part`` (``id_a, id_b, text_a, text_b``) whose exact shingle Jaccard >= threshold;
    adds a ``jaccard`` column. Each distinct text is shingled once per partition."""
    if part.empty:
        return part[["id_a", "id_b"]].assign(jaccard=np.empty(0, dtype=np.float64))
    texts = pd.unique(pd.concat([part["text_a"], part["text_b"]], ignore_index=True))
    position = {text: i for i, text in enumerate(texts)}
    sets = shingle_sets(*shingles(list(texts)))
    scores = np.empty(len(part), dtype=np.float64)
    for row, (left, right) in enumerate(zip(part["text_a"], part["text_b"], strict=True)):
        scores[row] = jaccard(sets[position[left]], sets[position[right]])
    out = part[["id_a", "id_b"]].assign(jaccard=scores)
    return out[out["jaccard"] >= threshold]


def connected_components(num_nodes: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Component label of every node ``0 .. num_nodes - 1`` (the smallest node of its component)."""
    labels = np.arange(num_nodes, dtype=np.int64)
    if len(left) == 0:
        return labels
    while True:
        lu, lv = labels[left], labels[right]
        low = np.minimum(lu, lv)
        hooked = labels.copy()
        np.minimum.at(hooked, lu, low)  # hook each root under the smallest root it is linked to
        np.minimum.at(hooked, lv, low)
        while True:  # pointer jumping: every node ends up pointing at its root
            jumped = hooked[hooked]
            if np.array_equal(jumped, hooked):
                break
            hooked = jumped
        if np.array_equal(hooked, labels):
            return labels
        labels = hooked


def groups_from_edges(edges: pd.DataFrame, id_field: str) -> pd.DataFrame:
    """``(id_field, group)`` for every document in a component of two or more, sorted by ``(group, id)``.

    Groups are numbered 0, 1, ... in the order of their smallest id, so the same edges give the same table
    whatever the partitioning or scheduler.
    """
    if edges.empty:
        return pd.DataFrame({id_field: edges["id_a"].iloc[:0], "group": np.empty(0, dtype=np.int64)})
    codes, uniques = pd.factorize(pd.concat([edges["id_a"], edges["id_b"]], ignore_index=True), sort=True)
    half = len(edges)
    labels = connected_components(len(uniques), codes[:half], codes[half:])
    _, group = np.unique(labels, return_inverse=True)  # labels are smallest members: sorted ids -> sorted groups
    out = pd.DataFrame({id_field: np.asarray(uniques), "group": group.astype(np.int64)})
    return out.sort_values(["group", id_field], ignore_index=True)
