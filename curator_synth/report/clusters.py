"""What the report says about each cluster of the final records: its size, the words that set it apart from the
others, and two of its members, so a cluster id means something to a reader."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

__all__ = ["describe_clusters"]

_WORD = re.compile(r"[a-z][a-z'-]{2,}")
#: Words too common in instructions to say anything about a cluster.
_STOP_WORDS = (
    "the and for that this with you your are was were from have has had not but can will would should could "
    "what which who whom whose when where why how there their them they then than these those into about also "
    "each other such only some more most many much very just like make made given give following write using "
    "use based provide list describe explain find create answer question text sentence words word one two any "
    "all its it's our out per own may might must been being does did doing done"
)
_STOP = frozenset(_STOP_WORDS.split())


def describe_clusters(
    texts: Sequence[str], labels: Sequence[int], n_terms: int = 4, n_members: int = 2
) -> list[dict[str, Any]]:
    """For each cluster (largest first): ``label`` (its number, as text), ``size``, ``terms`` (the ``n_terms``
    words most particular to it: frequent in it, rare elsewhere — tf-idf over clusters) and ``members`` (its first
    ``n_members`` distinct texts)."""
    words_by_cluster: dict[int, Counter[str]] = {}
    members: dict[int, list[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        words = [word for word in _WORD.findall(str(text).lower()) if word not in _STOP]
        words_by_cluster.setdefault(int(label), Counter()).update(set(words))
        shown = members.setdefault(int(label), [])
        if len(shown) < n_members and str(text) not in shown:
            shown.append(str(text))
    clusters_with = Counter(word for counts in words_by_cluster.values() for word in counts)
    total = len(words_by_cluster)
    sizes = Counter(int(label) for label in labels)
    described = []
    for label, size in sizes.most_common():
        counts = words_by_cluster.get(label, Counter())
        weight = {word: n * math.log(1 + total / clusters_with[word]) for word, n in counts.items()}
        terms = sorted(weight, key=lambda word: (-weight[word], word))[:n_terms]
        described.append({"label": str(label), "size": size, "terms": terms, "members": members.get(label, [])})
    return described
