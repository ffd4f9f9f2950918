"""The offline quality heuristic: crafted pairs per signal, the filters over a dataset, and the real
Self-Instruct answers (text-davinci-003 vs base davinci)."""

from __future__ import annotations

import pandas as pd
import pytest
from data_paths import SELF_INSTRUCT

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError
from curator_synth.filters.base import FILTERS
from curator_synth.filters.quality import (
    DEFAULT_WEIGHTS,
    QualityFilter,
    QualitySignals,
    combine_signals,
    quality_score,
    quality_scores,
    quality_signals,
)
from curator_synth.filters.report import FilteredDataset
from curator_synth.filters.steps import Filter, ScoreFilter
from curator_synth.filters.thresholds import ScoreThresholdFilter

GOOD = (
    "Dear friends,\n\nI hope you are all well! I would love to have you over for dinner on Friday at 7 pm. "
    "I'll cook lasagna, and dessert is on me. Please let me know by Wednesday if you can make it.\n\nBest,\nSam"
)
EMAIL = "Write an email inviting my friends to dinner on Friday."


def test_a_good_answer_scores_high() -> None:
    assert quality_score(EMAIL, GOOD) > 0.85
    assert quality_signals(EMAIL, GOOD) == QualitySignals()


@pytest.mark.parametrize("response", ["", "   \n ", "...", "---"])
def test_empty_answers_score_near_zero(response: str) -> None:
    assert quality_signals(EMAIL, response).empty == 1.0
    assert quality_score(EMAIL, response) < 0.05


def test_emoji_only_answers_are_not_empty() -> None:
    assert quality_signals("Use emojis to convey: cute cat, playful", "😻🤪🐱").empty == 0.0


def test_loops_are_caught_by_repetition_and_compression() -> None:
    loop = "\n".join(["If you could help me write an email to my friends, it would be appreciated."] * 20)
    signals = quality_signals(EMAIL, loop)
    assert signals.repetition == 1.0
    assert signals.compression == 1.0
    assert quality_score(EMAIL, loop) < 0.2


def test_a_list_restated_once_is_not_a_loop() -> None:
    items = ["- Victorian architecture", "- New kitchen", "- Two bedrooms", "- Large garden"]
    text = "Good:\n" + "\n".join(items) + "\n\nKey takeaways:\n" + "\n".join(items)
    assert quality_signals("Review the listing and list its key takeaways.", text).repetition == 0.0


def test_template_continuation_is_caught() -> None:
    response = "Paris\n\nInput: What is the capital of Spain?\nOutput: Madrid\n\nInput: What is the capital"
    signals = quality_signals("What is the capital of France?", response)
    assert signals.template == 1.0
    assert quality_score("What is the capital of France?", response) < quality_score(
        "What is the capital of France?", "Paris"
    )


def test_truncation_needs_a_long_unfinished_line() -> None:
    cut = "The dinner will be at my place and I am really looking forward to seeing all of you and having a"
    assert quality_signals(EMAIL, cut).truncation == 1.0
    assert (
        quality_signals("Name five countries starting with S.", "Spain, Sweden, Syria, Sudan, Serbia").truncation == 0
    )
    assert quality_signals("List three colours.", "1. red\n2. green\n3. blue").truncation == 0.0


def test_refusals_are_penalised() -> None:
    refusal = "I'm sorry, but I cannot help with writing that email."
    assert quality_signals(EMAIL, refusal).refusal == 1.0
    assert quality_score(EMAIL, refusal) < quality_score(EMAIL, GOOD) - 0.3


def test_format_compliance_for_numbers_and_lists() -> None:
    assert quality_signals("How many legs do three spiders have?", "A lot of legs, honestly.").format == 1.0
    assert quality_signals("How many legs do three spiders have?", "24").format == 0.0
    assert quality_signals("List the planets.", "Mercury").format == 1.0
    assert quality_signals("List the planets.", "Mercury, Venus, Earth").format == 0.0


def test_brevity_for_writing_tasks_but_not_for_short_answer_tasks() -> None:
    assert quality_signals(EMAIL, "Come to dinner.").brevity > 0.8
    assert quality_signals("Classify the sentiment: I love it.", "Positive").brevity == 0.0


def test_echo_of_the_instruction() -> None:
    instruction = "Explain why the sky is blue to a five year old child in simple words."
    assert quality_signals(instruction, instruction).echo == 1.0


def test_runaway_lists_and_long_answers() -> None:
    runaway = "\n".join(f"{i}. item number {i}" for i in range(1, 80))
    assert quality_signals("Give me some ideas.", runaway).runaway_list == 1.0
    long_answer = " ".join(f"word{i}" for i in range(1200))
    assert quality_signals("Classify the sentiment: I love it.", long_answer).length == 1.0


def test_degenerate_characters_are_measured() -> None:
    assert quality_signals("Draw something.", "ab#$%^&*()!@#$%^&*()_+{}|:<>?~" * 3).degenerate == 1.0


def test_combine_signals_is_a_logistic_of_the_weights() -> None:
    assert combine_signals(QualitySignals(), {}, 0.0) == 0.5
    assert combine_signals(QualitySignals(empty=1.0), {"empty": -100.0}, 0.0) < 1e-6
    assert set(DEFAULT_WEIGHTS) == set(QualitySignals().as_dict())
    assert all(w <= 0 for w in DEFAULT_WEIGHTS.values())


def test_quality_scores_over_a_frame_handles_missing_values() -> None:
    df = pd.DataFrame({"q": [EMAIL, EMAIL, None], "a": [GOOD, None, "Hi"]}, index=[10, 11, 12])
    scores = quality_scores(df, "q", "a")
    assert list(scores.index) == [10, 11, 12]
    assert scores.dtype == "float64"
    assert scores[10] > 0.85 > 0.05 > scores[11]


def test_quality_filter_over_a_dataset_with_report() -> None:
    df = pd.DataFrame({"instruction": [EMAIL] * 4, "response": [GOOD, "", "\n".join(["loop line here ok"] * 30), GOOD]})
    dataset = DocumentDataset.from_pandas(df, npartitions=2)
    step = ScoreFilter(QualityFilter(0.5), text_field=("instruction", "response"), score_field="quality")
    out = step(dataset)
    assert isinstance(out, FilteredDataset)
    kept, report = out.compute_with_report()
    assert len(kept) == 2
    assert (kept["quality"] > 0.85).all()
    assert (report.total, report.kept) == (4, 2)
    assert report.reasons == {"quality:low_quality": 2}


def test_quality_filter_validates_and_registers() -> None:
    with pytest.raises(ConfigError):
        QualityFilter(1.5)
    with pytest.raises(ConfigError):
        QualityFilter(weights={"nope": -1.0})
    assert FILTERS.get("quality") is QualityFilter
    assert FILTERS.get("ScoreThresholdFilter") is ScoreThresholdFilter
    assert QualityFilter().verdict(0.2) == (False, "low_quality")


def test_score_threshold_filter_on_reward_scores() -> None:
    df = pd.DataFrame({"text": ["a", "b", "c", "d"], "helpfulness": [3.5, 1.0, None, 4.2]})
    f = ScoreThresholdFilter("helpfulness", min_score=3.0)
    kept = Filter(f, filter_field=f.field)(DocumentDataset.from_pandas(df)).to_pandas()
    assert list(kept["text"]) == ["a", "d"]
    assert f.verdict(None) == (False, "no_score")
    assert f.verdict("x") == (False, "no_score")
    assert f.verdict(1.0) == (False, "below_min")
    capped = ScoreThresholdFilter("helpfulness", min_score=1.0, max_score=4.0)
    assert capped.verdict(4.2) == (False, "above_max")
    assert capped.keep_document(2) is True
    with pytest.raises(ConfigError):
        ScoreThresholdFilter("x")
    with pytest.raises(ConfigError):
        ScoreThresholdFilter("x", min_score=2, max_score=1)


# ---------------------------------------------------------------------------------------------- real data
def _pairs(model: str) -> pd.DataFrame:
    df = pd.read_json(SELF_INSTRUCT / f"predictions_{model}.jsonl", lines=True)
    instruction = (df["instruction"].str.strip() + "\n\n" + df["input"].fillna("").str.strip()).str.strip()
    return pd.DataFrame({"instruction": instruction, "response": df["response"]})


def test_text_davinci_003_beats_base_davinci_with_auc_above_097() -> None:
    best = quality_scores(_pairs("text-davinci-003"), "instruction", "response").to_numpy()
    base = quality_scores(_pairs("davinci"), "instruction", "response").to_numpy()
    greater = (best[:, None] > base[None, :]).sum() + 0.5 * (best[:, None] == base[None, :]).sum()
    auc = greater / (len(best) * len(base))
    assert auc >= 0.97
    assert best.mean() > 0.8 > 0.1 > base.mean()
