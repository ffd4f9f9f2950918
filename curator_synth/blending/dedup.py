"""Cross-source duplicate groups for blending: texts -> one group label per text (equal labels: duplicates).

``exact`` compares texts after the normalisation of :class:`~curator_synth.dedup.ExactDuplicates` (lower case,
whitespace collapsed); ``fuzzy`` takes the MinHash-LSH groups of :class:`~curator_synth.dedup.FuzzyDuplicates`.
Empty texts are never duplicates.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["BLEND_DEDUP"]


def _exact_groups(texts: pd.Series) -> np.ndarray:
    """Group labels of texts equal after normalisation (lower case, whitespace collapsed); empty texts are
    never duplicates."""
    from curator_synth.dedup.exact import normalize_text

    normalised = normalize_text(texts)
    codes = pd.factorize(normalised)[0].astype(np.int64)
    empty = (normalised == "").to_numpy()
    codes[empty] = codes.max(initial=0) + 1 + np.arange(int(empty.sum()))
    return codes


def _fuzzy_groups(texts: pd.Series) -> np.ndarray:
    """Group labels from MinHash-LSH near-duplicate groups (:class:`~curator_synth.dedup.FuzzyDuplicates`)."""
    from curator_synth.dataset import DocumentDataset
    from curator_synth.dedup.fuzzy import FuzzyDuplicates

    frame = pd.DataFrame({"id": np.arange(len(texts), dtype=np.int64), "text": texts.to_numpy()})
    groups = FuzzyDuplicates(id_field="id", text_field="text").identify_duplicates(
        DocumentDataset.from_pandas(frame, npartitions=1)
    )
    table = groups.to_pandas()
    labels = np.arange(len(texts), dtype=np.int64)
    labels[table["id"].to_numpy(dtype=np.int64)] = len(texts) + table["group"].to_numpy(dtype=np.int64)
    return labels


#: Cross-source dedup methods by name: texts -> one group label per text (equal labels are duplicates).
BLEND_DEDUP: dict[str, Callable[[pd.Series], np.ndarray]] = {"exact": _exact_groups, "fuzzy": _fuzzy_groups}
