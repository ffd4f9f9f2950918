"""Calibration helpers on hand-computed cases: histograms, Pearson, Spearman (with ties), pairwise ranking
agreement, missing values, the blocked pair count against a brute-force count, and the input checks."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError
from curator_synth.reward import mode_agreement as exported_agreement
from curator_synth.reward.calibration import SCORE_NAMES, mode_agreement, score_frame, score_histograms
from curator_synth.reward.scores import ATTRIBUTES, RewardScores


def uniform(values: list[float], mode: str = "m") -> list[RewardScores]:
    """RewardScores whose five attributes and overall all equal the given value."""
    return [RewardScores(v, v, v, v, v, overall=v, mode=mode) for v in values]


def frame(column: str, values: list[float]) -> pd.DataFrame:
    return pd.DataFrame({f"reward_{column}": values})


def test_identical_scores_agree_perfectly() -> None:
    result = mode_agreement(uniform([0.5, 2.0, 1.0, 3.5]), uniform([0.5, 2.0, 1.0, 3.5]))
    assert exported_agreement is mode_agreement
    assert list(result) == list(SCORE_NAMES)
    for figures in result.values():
        assert figures == {"n": 4, "pearson": 1.0, "spearman": 1.0, "pairwise_agreement": 1.0, "pairs": 6}


def test_reversed_scores_disagree_perfectly() -> None:
    result = mode_agreement(uniform([1, 2, 3, 4]), uniform([4, 3, 2, 1]))
    assert result["overall"] == {"n": 4, "pearson": -1.0, "spearman": -1.0, "pairwise_agreement": 0.0, "pairs": 6}


def test_one_swapped_pair() -> None:
    # ranks differ by 1 at two positions: Spearman = 1 - 6 * 2 / (4 * 15) = 0.8; one pair of six is discordant
    (figures,) = mode_agreement(frame("overall", [1, 2, 3, 4]), frame("overall", [1, 3, 2, 4])).values()
    assert figures["spearman"] == pytest.approx(0.8)
    assert figures["pearson"] == pytest.approx(0.8)
    assert figures["pairwise_agreement"] == pytest.approx(5 / 6)
    assert figures["pairs"] == 6


def test_monotone_but_not_linear() -> None:
    x, y = [1.0, 2.0, 3.0, 4.0], [1.0, 10.0, 100.0, 1000.0]
    (figures,) = mode_agreement(frame("overall", x), frame("overall", y)).values()
    assert figures["spearman"] == pytest.approx(1.0)
    assert figures["pairwise_agreement"] == 1.0
    expected = np.corrcoef(x, y)[0, 1]
    assert figures["pearson"] == pytest.approx(expected)
    assert figures["pearson"] < 0.9


def test_ties_get_average_ranks_and_tied_pairs_are_not_counted() -> None:
    # ranks of x: 1.5, 1.5, 3; of y: 1, 2, 3 -> r = 1.5 / sqrt(1.5 * 2) = 0.866...
    (figures,) = mode_agreement(frame("helpfulness", [1, 1, 2]), frame("helpfulness", [1, 2, 3])).values()
    assert figures["spearman"] == pytest.approx(1.5 / math.sqrt(3.0))
    assert figures["pairs"] == 2  # the pair tied in x says nothing
    assert figures["pairwise_agreement"] == 1.0


def test_undefined_measures_are_nan() -> None:
    (constant,) = mode_agreement(frame("overall", [2, 2, 2]), frame("overall", [1, 2, 3])).values()
    assert math.isnan(constant["pearson"])
    assert math.isnan(constant["spearman"])
    assert math.isnan(constant["pairwise_agreement"])
    assert constant["pairs"] == 0
    (single,) = mode_agreement(frame("overall", [1.0]), frame("overall", [2.0])).values()
    assert single["n"] == 1
    assert math.isnan(single["pearson"])


def test_missing_rows_are_left_out_per_score() -> None:
    a = [*uniform([1, 2, 3]), None, *uniform([5])]
    b = pd.DataFrame({"reward_overall": [1.0, 2.0, 3.0, 4.0, np.nan], "reward_helpfulness": [3.0, 2.0, 1.0, 0.0, -1.0]})
    result = mode_agreement(a, b)
    assert list(result) == ["helpfulness", "overall"]  # only the scores both have
    assert result["overall"]["n"] == 3
    assert result["overall"]["spearman"] == pytest.approx(1.0)
    assert result["helpfulness"]["n"] == 4
    assert result["helpfulness"]["spearman"] == pytest.approx(-1.0)


def test_pairwise_agreement_matches_a_brute_force_count(monkeypatch: pytest.MonkeyPatch) -> None:
    import curator_synth.reward.calibration as calibration

    rng = np.random.default_rng(7)
    x = rng.integers(0, 5, 60).astype(float)  # a 0-4 scale: many ties
    y = np.clip(x + rng.integers(-2, 3, 60), 0, 4).astype(float)
    concordant = discordant = 0
    for i, j in itertools.combinations(range(60), 2):
        product = np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])
        concordant += product > 0
        discordant += product < 0
    monkeypatch.setattr(calibration, "_BLOCK", 100)  # blocks of one or two rows
    (figures,) = mode_agreement(frame("overall", list(x)), frame("overall", list(y))).values()
    assert figures["pairs"] == concordant + discordant
    assert figures["pairwise_agreement"] == pytest.approx(concordant / (concordant + discordant))
    ranks_x, ranks_y = pd.Series(x).rank(), pd.Series(y).rank()
    assert figures["spearman"] == pytest.approx(np.corrcoef(ranks_x, ranks_y)[0, 1])
    scipy_stats = pytest.importorskip("scipy.stats")
    assert figures["spearman"] == pytest.approx(scipy_stats.spearmanr(x, y).statistic)
    assert figures["pearson"] == pytest.approx(scipy_stats.pearsonr(x, y).statistic)


def test_histograms_of_reward_scores() -> None:
    scores = [RewardScores(h, 2.0, 2.0, 1.0, 3.0, overall=h / 4, mode="m") for h in (0.0, 1.0, 1.5, 2.0, 4.0)]
    histograms = score_histograms(scores, bins=4, range=(0, 4))
    assert list(histograms) == list(SCORE_NAMES)
    counts, edges = histograms["helpfulness"]
    assert counts.tolist() == [1, 2, 1, 1]  # [0,1) [1,2) [2,3) [3,4]
    assert edges.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert histograms["correctness"][0].tolist() == [0, 0, 5, 0]
    assert histograms["overall"][0].tolist() == [4, 1, 0, 0]  # overall is h / 4: 0 .. 1, the 1.0 in [1, 2)
    own_range = score_histograms(scores, bins=2)["overall"]
    assert own_range[1].tolist() == [0.0, 0.5, 1.0]
    assert own_range[0].tolist() == [3, 2]  # 0, 0.25, 0.375 | 0.5, 1.0


def test_histograms_of_a_dataframe_or_dataset_skip_missing_values() -> None:
    data = pd.DataFrame({"score_coherence": [0.0, 1.0, np.nan, 3.0], "text": ["a", "b", "c", "d"]})
    for source in (data, DocumentDataset.from_pandas(data, npartitions=2)):
        histograms = score_histograms(source, bins=[0, 2, 4], prefix="score_")
        assert list(histograms) == ["coherence"]
        assert histograms["coherence"][0].tolist() == [2, 1]


def test_score_frame_reads_reward_score_columns() -> None:
    scores = uniform([1.0, 2.0])
    rows = pd.DataFrame([s.as_dict(prefix="reward_") for s in scores])
    assert score_frame(rows).equals(score_frame(scores))
    assert list(score_frame(rows).columns) == [*ATTRIBUTES, "overall"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mode_agreement(uniform([1, 2]), uniform([1, 2, 3])), "same responses"),
        (lambda: mode_agreement(frame("helpfulness", [1]), frame("overall", [1])), "no score in common"),
        (lambda: score_histograms(pd.DataFrame({"x": [1]})), "no score columns"),
        (lambda: score_histograms(frame("overall", ["high"])), "numeric"),  # type: ignore[list-item]
        (lambda: score_histograms([{"overall": 1.0}]), "must be RewardScores"),
        (lambda: score_histograms("scores"), "sequence of RewardScores"),
        (lambda: score_histograms(uniform([1, 2]), bins=[3, 1]), "bins"),
        (lambda: score_histograms(uniform([1, 2]), bins=0), "bins"),
    ],
)
def test_bad_input_is_a_config_error(call: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        call()  # type: ignore[operator]
