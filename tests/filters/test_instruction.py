"""Instruction-data filters on crafted pairs and on the real Self-Instruct predictions of six davinci models
(base davinci runs on into invented "Input:/Output:" examples and stops mid-sentence; the T0-finetuned model
leaves answers empty or echoes the input; the later models mostly answer)."""

from __future__ import annotations

import builtins
from typing import Any

import pandas as pd
import pytest
from data_paths import SELF_INSTRUCT

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import MissingDependencyError
from curator_synth.filters import FilteredDataset, ScoreFilter, Sequential
from curator_synth.filters.instruction import (
    EchoFilter,
    EmptyResponseFilter,
    FewShotContinuationFilter,
    InstructionOverlapFilter,
    LanguageFilter,
    RefusalFilter,
    TruncatedResponseFilter,
)


def predictions(model: str) -> pd.DataFrame:
    return pd.read_json(SELF_INSTRUCT / f"predictions_{model}.jsonl", lines=True, dtype=False)


def dropped(f: Any, texts: pd.Series | pd.DataFrame) -> pd.Series:
    return ~f.keep_batch(f.score_batch(texts))


# ------------------------------------------------------------------------------------------------ refusal
REFUSALS = [
    "I'm sorry, but I can't help with that request.",
    "I'm afraid I can't do that.",
    "Sorry, I cannot provide medical advice.",
    "Unfortunately, I am unable to complete this task.",
    "I cannot assist with creating malware.",
    "I won't write that. It goes against my guidelines.",
]
DISCLAIMERS = [
    "As an AI language model, I do not have personal opinions.",
    "As a large language model, I can't know today's date.",
    "I am sorry, but as an AI I cannot browse the internet.",
    "I'm just an AI, so I don't have feelings, but here is a poem.",
]
ANSWERS = [
    "I'm sorry to hear that you had a tough day. What happened?",
    "Dear Friend,\nI'm sorry for the short notice, but could we meet today?",
    "I don't know. I had to give up my dream of being a mathematician.",
    "The capital of France is Paris.",
    "You cannot divide by zero, so the function raises an error.",
]


def test_refusals_and_disclaimers_with_their_reasons() -> None:
    f = RefusalFilter()
    scores = f.score_batch(pd.Series(REFUSALS + DISCLAIMERS + ANSWERS))
    assert scores.tolist() == [1] * len(REFUSALS) + [2] * len(DISCLAIMERS) + [0] * len(ANSWERS)
    assert f.verdict(1) == (False, "refusal")
    assert f.verdict(2) == (False, "ai_disclaimer")
    assert f.score_document(REFUSALS[0]) == 1


def test_extra_refusal_patterns() -> None:
    f = RefusalFilter(extra_patterns=[r"^no comment"])
    assert f.score_document("No comment.") == 1


@pytest.mark.parametrize(
    "model", ["davinci", "davinci-t0-ft", "text-davinci-001", "text-davinci-002", "text-davinci-003"]
)
def test_real_answers_are_not_refusals(model: str) -> None:
    """The real predictions hold no refusals (pre-RLHF models) but many "I'm sorry to hear", "I don't know"."""
    responses = predictions(model)["response"]
    assert responses.str.contains("sorry|I don't know", case=False).any() or model == "text-davinci-003"
    assert dropped(RefusalFilter(), responses).sum() == 0


# ---------------------------------------------------------------------------------------------- truncated
def test_truncated_crafted() -> None:
    f = TruncatedResponseFilter()
    assert f.score_document("The answer is 42.") == 0
    assert f.score_document("- DAYS\n- FIND\n- MEDIAN") == 0  # a list of short items
    assert f.score_document("Confident") == 0
    assert f.score_document("This is a long sentence that simply stops in the middle of") == 1
    assert f.score_document("Buy eggs, milk,") == 1
    assert f.score_document("```python\nprint(1)\n") == 2
    assert f.score_document("```python\nprint(1)\n```") == 0
    assert f.score_document("") == 0
    assert f.verdict(2) == (False, "unclosed_code_block")


def test_base_davinci_stops_mid_sentence_far_more_often_than_text_davinci_003() -> None:
    f = TruncatedResponseFilter()
    base = dropped(f, predictions("davinci")["response"]).mean()
    tuned = dropped(f, predictions("text-davinci-003")["response"]).mean()
    assert base > 0.35
    assert tuned < 0.25
    assert base > 2 * tuned
    real = predictions("davinci")["response"][dropped(f, predictions("davinci")["response"])]
    assert all(not t.rstrip().endswith((".", "!", "?")) for t in real)


def test_few_shot_continuations_of_base_davinci() -> None:
    f = FewShotContinuationFilter()
    assert f.score_document("Bonsoir.\n\nInput: How do you say hello?\nOutput: Bonjour.") == 2
    assert dropped(f, predictions("davinci")["response"]).mean() > 0.6
    assert dropped(f, predictions("text-davinci-003")["response"]).sum() == 0


# ------------------------------------------------------------------------------------------ empty, echo
def test_empty_responses_of_the_t0_model() -> None:
    f = EmptyResponseFilter()
    assert f.score_document("  \n ") == 0
    assert f.score_document(" ok ") == 2
    df = predictions("davinci-t0-ft")
    assert dropped(f, df["response"]).sum() == (df["response"].str.strip() == "").sum() > 20
    assert dropped(EmptyResponseFilter(min_chars=3), pd.Series(["ab", "abc"])).tolist() == [True, False]


def test_echo_crafted() -> None:
    f = EchoFilter()
    instruction = "Rewrite the sentence: The cat sat on the mat."
    assert f.score_pair(instruction, "rewrite the sentence the cat sat on the mat") == 1.0
    assert f.verdict(f.score_pair(instruction, instruction)) == (False, "full_echo")
    assert f.verdict(f.score_pair(instruction, "The cat sat on the mat.")) == (False, "full_echo")
    partial = "Rewrite the sentence: the cat sat on the mat. Done"
    assert f.verdict(f.score_pair(instruction, partial)) == (False, "partial_echo")
    assert f.keep_document(f.score_pair(instruction, "A cat was sitting on a mat.")) is True
    assert f.score_pair(instruction, "") == 0.0


def test_real_echoes_are_found_against_the_prompt() -> None:
    df = predictions("davinci-t0-ft")
    prompt_and_response = df[["prompt", "response"]]
    echoed = dropped(EchoFilter(), prompt_and_response)
    copied = df.apply(lambda row: bool(row["response"].strip()) and row["response"].strip() in row["prompt"], axis=1)
    assert copied.sum() > 20
    assert echoed[copied].mean() > 0.9  # a verbatim copy of part of the prompt is an echo
    assert dropped(EchoFilter(), predictions("text-davinci-003")[["prompt", "response"]]).mean() < echoed.mean()


def test_instruction_overlap() -> None:
    f = InstructionOverlapFilter()
    assert f.score_pair("What is the capital of France?", "What is the capital of France?") == 1.0
    assert f.keep_document(f.score_pair("What is the capital of France?", "The capital of France is Paris."))
    assert f.score_pair("Hi", "Hello there friend") == 0.0  # too short to judge
    df = predictions("davinci")
    assert dropped(f, df[["instruction", "response"]]).sum() < len(df) // 2


# -------------------------------------------------------------------------------------------- language
def test_language_filter() -> None:
    f = LanguageFilter()
    english = "The quick brown fox jumps over the lazy dog while the children watch from the garden."
    french = "Le renard brun rapide saute par-dessus le chien paresseux pendant que les enfants regardent."
    scores = f.score_batch(pd.Series([english, french, "Confident"]))
    assert scores.iloc[0] > 0.9
    assert scores.iloc[1] < 0.1
    assert scores.iloc[2] == 1.0
    assert f.keep_batch(scores).tolist() == [True, False, True]
    assert f.reason_batch(scores[1:2]).tolist() == ["not_en"]
    assert LanguageFilter(languages=["fr"]).score_document(french) > 0.9


def test_language_filter_finds_the_real_translations() -> None:
    df = predictions("text-davinci-003")
    out = dropped(LanguageFilter(), df["response"])
    assert out.mean() < 0.2
    translations = df[df["instruction"].str.contains("French|German|Spanish|translat", case=False)]
    assert out[translations.index].any()


def test_language_filter_without_langid(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "langid" else builtins)
    with pytest.raises(MissingDependencyError, match=r"curator_synth\[curation\]"):
        LanguageFilter()


# ------------------------------------------------------------------------------------------- pipeline
def test_an_instruction_chain_over_base_davinci() -> None:
    df = predictions("davinci")[["instruction", "prompt", "response"]]
    ds = DocumentDataset.from_pandas(df, npartitions=4)
    out = Sequential(
        [
            ScoreFilter(EmptyResponseFilter(), text_field="response"),
            ScoreFilter(RefusalFilter(), text_field="response"),
            ScoreFilter(FewShotContinuationFilter(), text_field="response"),
            ScoreFilter(TruncatedResponseFilter(), text_field="response"),
            ScoreFilter(EchoFilter(), text_field=("prompt", "response"), score_field="echo"),
        ]
    )(ds)
    assert isinstance(out, FilteredDataset)
    kept, report = out.compute_with_report()
    assert report.total == 252
    assert report.kept == len(kept) < 60
    assert report.step("few_shot_continuation").dropped > 150
    assert (kept["echo"] < 0.8).all()
