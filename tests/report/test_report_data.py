"""ReportData: built from what the library produces (filter reports, client stats, score frames) and summarised."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from data_paths import SELF_INSTRUCT

from curator_synth import DocumentDataset, ScoreFilter, Sequential
from curator_synth.clients.stats import ClientStats
from curator_synth.errors import ConfigError
from curator_synth.filters import RefusalFilter, WordCountFilter
from curator_synth.filters.report import FilteredDataset, FilterReport
from curator_synth.report import (
    NO_REASON,
    Pricing,
    ReportData,
    StageStats,
    TokenUsage,
    build_charts,
    build_stats,
    summarise,
    text_lengths,
)
from curator_synth.reward.scores import RewardScores


def _predictions() -> pd.DataFrame:
    return pd.read_json(SELF_INSTRUCT / "predictions_davinci.jsonl", lines=True)


def test_a_real_filter_report_becomes_rejections_by_filter_and_reason() -> None:
    frame = _predictions()
    chain = Sequential(
        [ScoreFilter(WordCountFilter(min_words=5, max_words=200), "response"), ScoreFilter(RefusalFilter(), "response")]
    )
    filtered = chain(DocumentDataset.from_pandas(frame, npartitions=3))
    assert isinstance(filtered, FilteredDataset)
    report = filtered.report()
    data = ReportData()
    data.add_filter_report(report)
    word_count = report.step("word_count")
    assert word_count.dropped > 0  # davinci (the base model) writes many short and rambling answers
    assert data.rejections["word_count"] == {
        reason.removeprefix("word_count:"): n for reason, n in word_count.reasons.items()
    }
    assert sum(sum(r.values()) for r in data.rejections.values()) == report.dropped
    assert build_stats(data)["rejected"] == report.dropped


def test_reasons_without_detail_and_earlier_steps() -> None:
    report = FilterReport.from_counts({"": 5, "a": 2, "a:x": 1, "b:y": 3, "old:z": 4}, ("a", "b"))
    data = ReportData()
    data.add_filter_report(report)
    data.add_filter_report(report)  # a second chain with the same steps adds up
    assert data.rejections == {"a": {NO_REASON: 4, "x": 2}, "b": {"y": 6}, "old": {"z": 8}}


def test_usage_from_client_stats_and_prices() -> None:
    stats = ClientStats(requests_sent=12, prompt_tokens=2_000_000, completion_tokens=500_000, from_journal=3)
    data = ReportData()
    usage = data.add_usage("generator", stats, Pricing(prompt_per_1m=0.5, completion_per_1m=2.0))
    assert (usage.requests, usage.total_tokens, usage.from_journal) == (12, 2_500_000, 3)
    assert usage.cost == pytest.approx(2.0)  # 2M * 0.5 + 0.5M * 2.0 per million
    data.add_usage("judge", TokenUsage(requests=4, prompt_tokens=1000, completion_tokens=10))
    total = build_stats(data)["usage"]["total"]
    assert total["cost"] == pytest.approx(2.0)
    assert total["unpriced"] == ["judge"]
    assert total["requests"] == 16
    assert build_stats(ReportData(usage={"judge": TokenUsage(1, 2, 3)}))["usage"]["total"]["cost"] is None


def test_costs_in_different_currencies_have_no_total() -> None:
    data = ReportData()
    data.add_usage("a", TokenUsage(1, 1_000_000, 0), Pricing(1.0, 1.0, currency="USD"))
    data.add_usage("b", TokenUsage(1, 1_000_000, 0), Pricing(1.0, 1.0, currency="EUR"))
    stats = build_stats(data)["usage"]
    assert [c["cost"] for c in stats["clients"].values()] == [1.0, 1.0]
    assert stats["total"]["cost"] is None


def test_scores_from_reward_columns_of_a_frame() -> None:
    rows = [
        RewardScores(3.0, 2.0, 4.0, 1.0, 2.5, 0.7).as_dict("reward_"),
        RewardScores(1.0, 1.5, 3.0, 2.0, 0.5, 0.3).as_dict("reward_"),
        {"reward_helpfulness": None, "reward_overall": np.nan},  # a row the reward model did not score
    ]
    frame = pd.DataFrame(rows).assign(instruction=["a", "b", "c"])
    data = ReportData()
    data.set_scores(frame)
    assert list(data.scores) == ["helpfulness", "correctness", "coherence", "complexity", "verbosity", "overall"]
    assert data.scores["helpfulness"] == [3.0, 1.0]
    assert data.scores["overall"] == [0.7, 0.3]
    with pytest.raises(ConfigError, match="no score columns"):
        data.set_scores(frame[["instruction"]])


def test_scores_from_a_mapping_keep_order_and_strip_the_prefix() -> None:
    data = ReportData()
    data.set_scores({"quality": [1, 2], "reward_overall": [0.5], "helpfulness": [4.0]})
    assert data.scores == {"helpfulness": [4.0], "overall": [0.5], "quality": [1.0, 2.0]}


def test_lengths_in_words_or_tokens() -> None:
    frame = pd.DataFrame({"instruction": ["one two three", "four", None], "response": ["a b", "", "c d e f"]})
    data = ReportData()
    data.set_lengths(frame)
    assert data.lengths == {"instruction": [3, 1], "response": [2, 0, 4]}
    assert data.length_unit == "words"
    data.set_lengths(frame, fields=["response", "missing"], count=len)
    assert data.lengths == {"response": [3, 0, 7]}
    assert data.length_unit == "tokens"
    assert text_lengths(["x y", float("nan")]) == [2]


def test_cluster_sizes_from_a_list_or_mapping() -> None:
    data = ReportData()
    data.set_cluster_sizes([4, 9, 1])
    assert data.cluster_sizes == {"0": 4, "1": 9, "2": 1}
    chart = build_charts(data)[-1]
    assert (chart.name, chart.labels, chart.counts) == ("cluster_sizes", ("1", "0", "2"), (9, 4, 1))
    data.set_cluster_sizes({"sports": 3})
    assert data.cluster_sizes == {"sports": 3}


def test_summary_numbers() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    summary = summarise(values)
    assert summary["count"] == 5
    assert summary["mean"] == pytest.approx(4.0)
    assert summary["median"] == 3.0
    assert summary["min"] == 1.0
    assert summary["max"] == 10.0
    assert summary["std"] == pytest.approx(float(np.std(values)))
    assert summarise([]) == {"count": 0}


def test_histograms_use_the_attribute_scale_when_the_values_fit() -> None:
    data = ReportData(bins=4)
    data.set_scores({"helpfulness": [0.5, 3.9], "overall": [-2.0, 6.0]})
    stats = build_stats(data)
    assert stats["scores"]["helpfulness"]["histogram"] == {"edges": [0.0, 1.0, 2.0, 3.0, 4.0], "counts": [1, 0, 0, 1]}
    # Raw Nemotron overall scores fall outside 0..1: the data's own range is used.
    assert stats["scores"]["overall"]["histogram"]["edges"] == [-2.0, 0.0, 2.0, 4.0, 6.0]


def test_stage_and_price_validation() -> None:
    with pytest.raises(ConfigError, match="must not be negative"):
        StageStats("generate", -1, 0, 0.0)
    with pytest.raises(ConfigError, match="must not be negative"):
        Pricing(-0.1, 1.0)
    with pytest.raises(ConfigError, match="bins"):
        ReportData(bins=0)
    assert StageStats("filter", 10, 7, 0.5).dropped == 3
