"""Calibration helpers for reward scores: per-attribute histograms, and how far two scoring modes agree.

Both take scores as a sequence of :class:`~curator_synth.reward.RewardScores` (``None`` for a response that
could not be scored), or as a pandas DataFrame / :class:`~curator_synth.dataset.DocumentDataset` with columns
``reward_helpfulness`` ... ``reward_overall`` (``RewardScores.as_dict(prefix="reward_")``; another ``prefix=``
may be given). Missing values (``None``, NaN) are left out. Plain numpy and pandas; plots belong to reports.

:func:`mode_agreement` compares two modes (e.g. ``"nemotron"`` and ``"llm_judge"``) on the same responses in
the same order. Its measures ignore scale, so modes with different ``overall`` ranges compare fairly:

- ``pearson``: linear correlation of the scores;
- ``spearman``: Pearson correlation of the ranks (ties get their average rank), i.e. monotone agreement;
- ``pairwise_agreement``: of the pairs of responses that *both* modes order strictly, the fraction they order
  the same way (what matters when scores are turned into preference pairs); ``pairs`` counts those pairs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TypeAlias

import numpy as np
import pandas as pd

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError
from curator_synth.reward.scores import ATTRIBUTES, RewardScores

__all__ = ["SCORE_NAMES", "mode_agreement", "score_frame", "score_histograms"]

SCORE_NAMES: tuple[str, ...] = (*ATTRIBUTES, "overall")
"""The scores the helpers look at: the five attributes, then ``overall``."""

Scores: TypeAlias = Sequence[RewardScores | None] | pd.DataFrame | DocumentDataset
# Pairwise agreement compares rows in blocks of about this many pairs, bounding memory for large inputs.
_BLOCK = 4_000_000


def score_frame(scores: Scores, *, prefix: str = "reward_") -> pd.DataFrame:
    """The scores as a float DataFrame with one column per :data:`SCORE_NAMES` entry found (NaN where missing).

    A DataFrame must have at least one ``{prefix}{name}`` column; a sequence must hold ``RewardScores`` or None.
    """
    if isinstance(scores, DocumentDataset):
        scores = scores.to_pandas()
    if isinstance(scores, pd.DataFrame):
        columns = {f"{prefix}{name}": name for name in SCORE_NAMES if f"{prefix}{name}" in scores.columns}
        if not columns:
            expected = [f"{prefix}{name}" for name in SCORE_NAMES]
            raise ConfigError(f"no score columns found: expected some of {expected}, got {list(scores.columns)}")
        try:
            frame = scores[list(columns)].rename(columns=columns).astype(float)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"score columns must be numeric: {error}") from error
        return frame.reset_index(drop=True)
    if isinstance(scores, (str, bytes, Mapping)) or not isinstance(scores, Sequence):
        raise ConfigError(f"scores must be a sequence of RewardScores or a DataFrame, got {type(scores).__name__}")
    rows = []
    for index, item in enumerate(scores):
        if item is None:
            rows.append(dict.fromkeys(SCORE_NAMES, math.nan))
        elif isinstance(item, RewardScores):
            rows.append({name: float(getattr(item, name)) for name in SCORE_NAMES})
        else:
            raise ConfigError(f"scores[{index}] must be RewardScores or None, got {type(item).__name__}")
    return pd.DataFrame(rows, columns=list(SCORE_NAMES), dtype=float)


def score_histograms(
    scores: Scores,
    bins: int | Sequence[float] = 10,
    *,
    range: tuple[float, float] | None = None,
    prefix: str = "reward_",
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{name: (counts, edges)}`` for every score found, as :func:`numpy.histogram` gives them.

    ``bins``: a number of equal-width bins, or the bin edges (increasing). ``range``: the (low, high) the bins
    span (default: each score's own min and max; pass ``(0, 4)`` to compare attributes on one grid). Missing
    values are not counted.
    """
    frame = score_frame(scores, prefix=prefix)
    histograms = {}
    for name in frame.columns:
        values = frame[name].dropna().to_numpy()
        try:
            counts, edges = np.histogram(values, bins=bins, range=range)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"score_histograms: bad bins={bins!r} or range={range!r}: {error}") from error
        histograms[str(name)] = (counts, edges)
    return histograms


def mode_agreement(scores_a: Scores, scores_b: Scores, *, prefix: str = "reward_") -> dict[str, dict[str, float | int]]:
    """Per score name found in both inputs: ``{"n", "pearson", "spearman", "pairwise_agreement", "pairs"}``.

    The inputs score the same responses in the same order (equal lengths, else :class:`ConfigError`); a row
    missing in either is left out of that score's figures (``n`` counts the rows used). A measure that is
    undefined (fewer than two rows, constant scores, no strictly ordered pair) is NaN. Pairwise agreement
    compares every pair of rows: quadratic time, memory bounded by working in blocks.
    """
    first = score_frame(scores_a, prefix=prefix)
    second = score_frame(scores_b, prefix=prefix)
    if len(first) != len(second):
        raise ConfigError(f"mode_agreement needs the same responses in both: {len(first)} vs {len(second)} scores")
    names = [name for name in first.columns if name in second.columns]
    if not names:
        raise ConfigError("the two inputs have no score in common")
    result: dict[str, dict[str, float | int]] = {}
    for name in names:
        x, y = first[name].to_numpy(), second[name].to_numpy()
        kept = ~(np.isnan(x) | np.isnan(y))
        x, y = x[kept], y[kept]
        agreement, pairs = _pairwise_agreement(x, y)
        result[str(name)] = {
            "n": len(x),
            "pearson": _pearson(x, y),
            "spearman": _spearman(x, y),
            "pairwise_agreement": agreement,
            "pairs": pairs,
        }
    return result


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 2:
        return math.nan
    dx, dy = x - x.mean(), y - y.mean()
    denominator = math.sqrt(float((dx * dx).sum()) * float((dy * dy).sum()))
    if denominator == 0:
        return math.nan
    return max(-1.0, min(1.0, float((dx * dy).sum()) / denominator))


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    ranks_x = pd.Series(x).rank(method="average").to_numpy()
    ranks_y = pd.Series(y).rank(method="average").to_numpy()
    return _pearson(ranks_x, ranks_y)


def _pairwise_agreement(x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """(fraction of the pairs both order strictly that they order alike, number of such pairs)."""
    concordant = discordant = 0
    step = max(1, _BLOCK // max(len(x), 1))
    for start in range(0, len(x), step):
        block = slice(start, start + step)
        product = np.sign(x[block, None] - x[None, :]) * np.sign(y[block, None] - y[None, :])
        concordant += int((product > 0).sum())
        discordant += int((product < 0).sum())
    # every unordered pair was counted twice, once from each side
    concordant, discordant = concordant // 2, discordant // 2
    total = concordant + discordant
    return (concordant / total if total else math.nan), total
