"""Preference pairs from scores (strategies, margins, grouping, provenance) and from pairwise verdicts; the DPO
JSON Lines export, loaded back with Hugging Face ``datasets``; and the whole path from generated responses to
a DPO file against FakeLLMServer."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from curator_synth.clients import OpenAIClient
from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError
from curator_synth.generators.responses import ResponseGenerator
from curator_synth.reward import build_preference_pairs as exported_build
from curator_synth.reward.pairwise import PairwiseJudge, PairwiseVerdict
from curator_synth.reward.preference import (
    PAIR_STRATEGIES,
    PreferencePair,
    build_preference_pairs,
    pairs_from_verdicts,
    write_dpo_jsonl,
)
from curator_synth.reward.scores import RewardScores
from curator_synth.testing import FakeLLMServer, FakeRequest

datasets = pytest.importorskip("datasets")


def scores(overall: float) -> RewardScores:
    return RewardScores(3.0, 3.0, 3.0, 2.0, 2.0, overall=overall, mode="test")


def candidates() -> list[dict[str, Any]]:
    """Two instructions, interleaved, with scores as numbers and as RewardScores; one lone instruction."""
    return [
        {"instruction": "Q1", "response": "q1 mid", "score": 2.0, "id": "a1", "provenance": {"model": "m1"}},
        {"instruction": "Q2", "response": "q2 low", "score": scores(0.2), "id": "b1"},
        {"instruction": "Q1", "response": "q1 best", "score": 3.5, "id": "a2", "provenance": {"model": "m2"}},
        {"instruction": "Q2", "response": "q2 high", "score": scores(0.9), "id": "b2"},
        {"instruction": "Q1", "response": "q1 worst", "score": 0.5, "id": "a3", "provenance": {"model": "m3"}},
        {"instruction": "Q3", "response": "alone", "score": 4.0},
    ]


def test_best_vs_worst_groups_by_instruction_and_keeps_both_provenances() -> None:
    pairs = build_preference_pairs(candidates())
    assert exported_build is build_preference_pairs
    assert [(p.prompt, p.chosen, p.rejected) for p in pairs] == [
        ("Q1", "q1 best", "q1 worst"),
        ("Q2", "q2 high", "q2 low"),
    ]
    first, second = pairs
    assert (first.chosen_score, first.rejected_score, first.margin) == (3.5, 0.5, 3.0)
    assert first.chosen_provenance == {"model": "m2", "id": "a2"}
    assert first.rejected_provenance == {"model": "m3", "id": "a3"}
    assert (second.chosen_score, second.rejected_score) == (0.9, 0.2)  # RewardScores: the overall score
    assert second.margin == pytest.approx(0.7)
    assert second.chosen_provenance == {"id": "b2"}
    assert first.source == "score"
    assert first.decided_by == {"strategy": "best_vs_worst", "min_margin": 0.0}


def test_min_margin_filters_pairs() -> None:
    assert [p.prompt for p in build_preference_pairs(candidates(), min_margin=1.0)] == ["Q1"]
    assert [p.prompt for p in build_preference_pairs(candidates(), min_margin=3.0)] == ["Q1"]  # margin == 3.0 kept
    assert build_preference_pairs(candidates(), min_margin=3.01) == []


def test_all_pairs_keeps_every_pair_above_the_margin() -> None:
    pairs = build_preference_pairs(candidates(), strategy="all_pairs")
    assert [(p.chosen, p.rejected, p.margin) for p in pairs if p.prompt == "Q1"] == [
        ("q1 best", "q1 mid", 1.5),
        ("q1 mid", "q1 worst", 1.5),
        ("q1 best", "q1 worst", 3.0),
    ]
    assert len(pairs) == 4
    wide = build_preference_pairs(candidates(), strategy="all_pairs", min_margin=2.0)
    assert [(p.chosen, p.rejected) for p in wide] == [("q1 best", "q1 worst")]


def test_ties_and_identical_responses_are_skipped() -> None:
    records = [
        {"instruction": "Q", "response": "one", "score": 2.0},
        {"instruction": "Q", "response": "two", "score": 2.0},
        {"instruction": "R", "response": "same", "score": 1.0},
        {"instruction": "R", "response": "same", "score": 3.0},
    ]
    assert build_preference_pairs(records) == []
    assert build_preference_pairs(records, strategy="all_pairs") == []
    records.append({"instruction": "Q", "response": "three", "score": 1.0})
    assert [(p.chosen, p.rejected) for p in build_preference_pairs(records)] == [("one", "three")]
    assert [(p.chosen, p.rejected) for p in build_preference_pairs(records, strategy="all_pairs")] == [
        ("one", "three"),
        ("two", "three"),
    ]


def test_dataframe_and_dataset_inputs_with_custom_field_names() -> None:
    frame = pd.DataFrame(
        {
            "prompt_text": ["Q1", "Q1", "Q1", "Q2", "Q2"],
            "answer": ["x", "y", "z", "u", "v"],
            "reward_overall": [0.1, 0.9, 0.5, 0.3, 0.3],
            "uid": [11, 12, 13, 14, 15],
            "meta": [{"k": 1}, {"k": 2}, None, {"k": 4}, {"k": 5}],
        }
    )
    names: dict[str, Any] = {
        "instruction_field": "prompt_text",
        "response_field": "answer",
        "score_field": "reward_overall",
        "provenance_field": "meta",
        "id_field": "uid",
    }
    for source in (frame, DocumentDataset.from_pandas(frame, npartitions=2)):
        (pair,) = build_preference_pairs(source, **names)
        assert (pair.prompt, pair.chosen, pair.rejected) == ("Q1", "y", "x")
        assert pair.margin == pytest.approx(0.8)
        assert pair.chosen_provenance == {"k": 2, "id": 12}
        assert pair.rejected_provenance == {"k": 1, "id": 11}
    (pair,) = build_preference_pairs(frame, **{**names, "provenance_field": None, "id_field": None})
    assert pair.chosen_provenance == {}


class Scored:
    """Records may be objects with attributes, e.g. dataclasses of another pipeline."""

    def __init__(self, instruction: str, response: str, score: float) -> None:
        self.instruction, self.response, self.score = instruction, response, score


def test_objects_with_attributes() -> None:
    (pair,) = build_preference_pairs([Scored("Q", "good", 4), Scored("Q", "bad", 1)])
    assert (pair.chosen, pair.rejected, pair.margin) == ("good", "bad", 3.0)
    assert pair.chosen_provenance == {}


@pytest.mark.parametrize(
    ("records", "kwargs", "message"),
    [
        (candidates(), {"min_margin": -0.1}, "min_margin"),
        (candidates(), {"min_margin": math.nan}, "min_margin"),
        (candidates(), {"strategy": "best_of_three"}, "unknown pair_strategies 'best_of_three'"),
        (candidates(), {"score_field": "reward"}, "record 0 has no 'reward' field"),
        ([{"instruction": "Q", "response": "r"}], {}, "no 'score' field"),
        ([{"instruction": "Q", "response": "r", "score": math.nan}], {}, "missing"),
        ([{"instruction": "Q", "response": "r", "score": "high"}], {}, "must be a number"),
        ([{"instruction": "Q", "response": 3, "score": 1.0}], {}, "must be a string"),
        ([{"instruction": "Q", "response": "r", "score": 1.0, "provenance": "gpt"}], {}, "must be a mapping"),
        ({"instruction": "Q", "response": "r", "score": 1.0}, {}, "iterable of records"),
    ],
)
def test_bad_input_is_a_config_error(records: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        build_preference_pairs(records, **kwargs)


def test_a_custom_strategy_from_the_registry() -> None:
    def first_vs_last(group: Any, min_margin: float) -> list[Any]:
        return [(group[0], group[-1])] if group[0].score - group[-1].score >= min_margin else []

    PAIR_STRATEGIES.add("test_first_vs_last", first_vs_last)
    pairs = build_preference_pairs(candidates(), strategy="test_first_vs_last")
    assert [(p.chosen, p.rejected) for p in pairs] == [("q1 mid", "q1 worst")]


def verdict(winner: Any, consistent: bool = True) -> PairwiseVerdict:
    first, second = {"a": ("A", "B"), "b": ("B", "A"), "tie": ("tie", "tie"), None: ("A", "A")}[winner]
    return PairwiseVerdict(
        instruction="Q",
        response_a="resp a",
        response_b="resp b",
        winner=winner,
        consistent=consistent,
        first=first,  # type: ignore[arg-type]
        second=second,  # type: ignore[arg-type]
        raws=("r1", "r2"),
        provenance_a={"id": "ra"},
        provenance_b={"id": "rb"},
        provenance={"generator": "PairwiseJudge", "model": "judge"},
    )


def test_pairs_from_verdicts_take_the_winner_and_skip_ties_and_inconsistent_ones() -> None:
    pairs = pairs_from_verdicts([verdict("a"), verdict("tie"), verdict(None, consistent=False), verdict("b")])
    assert [(p.chosen, p.rejected) for p in pairs] == [("resp a", "resp b"), ("resp b", "resp a")]
    second = pairs[1]
    assert (second.chosen_provenance, second.rejected_provenance) == ({"id": "rb"}, {"id": "ra"})
    assert (second.chosen_score, second.rejected_score, second.margin, second.source) == (None, None, None, "pairwise")
    assert second.decided_by == {"judge": {"generator": "PairwiseJudge", "model": "judge"}, "verdicts": ["B", "A"]}
    with pytest.raises(ConfigError, match="PairwiseVerdict"):
        pairs_from_verdicts([{"winner": "a"}])  # type: ignore[list-item]


# ----------------------------------------------------------------------------------------------- export
def load(path: Path, cache: Path) -> Any:
    return datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(cache))


def test_dpo_export_round_trip_through_datasets(tmp_path: Path) -> None:
    pairs = build_preference_pairs(candidates(), strategy="all_pairs") + pairs_from_verdicts([verdict("b")])
    path = write_dpo_jsonl(pairs, tmp_path / "out" / "dpo.jsonl")
    assert path == tmp_path / "out" / "dpo.jsonl"
    loaded = load(path, tmp_path / "hf")
    assert {"prompt", "chosen", "rejected", "chosen_score", "rejected_score", "margin", "provenance"} <= set(
        loaded.column_names
    )
    assert loaded.num_rows == len(pairs) == 5
    assert loaded["prompt"] == [p.prompt for p in pairs]
    assert loaded["chosen"] == [p.chosen for p in pairs]
    assert loaded["rejected"] == [p.rejected for p in pairs]
    assert loaded["margin"][:4] == pytest.approx([p.margin for p in pairs[:4]])
    assert loaded["margin"][4] is None
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["provenance"] == {
        "source": "score",
        "chosen": {"model": "m2", "id": "a2"},
        "rejected": {"model": "m1", "id": "a1"},
        "decided_by": {"strategy": "all_pairs", "min_margin": 0.0},
    }
    assert rows[4]["provenance"]["source"] == "pairwise"
    assert rows[4]["provenance"]["decided_by"]["verdicts"] == ["B", "A"]


def test_dpo_export_in_messages_format(tmp_path: Path) -> None:
    pairs = build_preference_pairs(candidates())
    path = write_dpo_jsonl(pairs, tmp_path / "dpo_messages.jsonl", format="messages")
    loaded = load(path, tmp_path / "hf")
    assert loaded.num_rows == 2
    assert loaded[0]["prompt"] == [{"role": "user", "content": "Q1"}]
    assert loaded[0]["chosen"] == [{"role": "assistant", "content": "q1 best"}]
    assert loaded[0]["rejected"] == [{"role": "assistant", "content": "q1 worst"}]
    assert loaded[1]["chosen_score"] == pytest.approx(0.9)


def test_dpo_export_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "dpo.jsonl"
    write_dpo_jsonl(build_preference_pairs(candidates()), path)
    before = path.read_bytes()

    def broken() -> Any:
        yield from build_preference_pairs(candidates())
        raise RuntimeError("the source died half way")

    with pytest.raises(RuntimeError, match="half way"):
        write_dpo_jsonl(broken(), path)
    with pytest.raises(ConfigError, match="PreferencePair"):
        write_dpo_jsonl([*build_preference_pairs(candidates()), "not a pair"], path)  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="unknown dpo_formats 'sharegpt'"):
        write_dpo_jsonl([], path, format="sharegpt")
    with pytest.raises(ConfigError, match="is a directory"):
        write_dpo_jsonl([], tmp_path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dpo.jsonl"]  # no temporary file left behind


def test_responses_judged_pairwise_become_a_dpo_file(tmp_path: Path) -> None:
    """Generate two responses per instruction, judge them in both orders, export the consistent winners."""

    def model(request: FakeRequest) -> str:
        if request.messages and request.messages[0]["role"] == "system":  # the judge
            a, b = re.findall(r"Start of Assistant [AB]'s Response\]\n(.*?)\n\[The End", request.prompt, re.S)
            return "[[A]]" if len(a) > len(b) else "[[B]]"  # prefers the longer answer, in either position
        return f"{request.prompt} answer" + " in detail" * request.choice_index

    with FakeLLMServer(model) as server, OpenAIClient(base_url=server.base_url) as client:
        records = ResponseGenerator(client, "writer").generate_responses(["Why is the sky blue?", "Why rain?"], n=2)
        items = [
            {
                "instruction": record.instruction,
                "response_a": record.responses[0],
                "response_b": record.responses[1],
                "provenance_a": {"id": record.id, "choice": 0},
                "provenance_b": {"id": record.id, "choice": 1},
            }
            for record in records.items
        ]
        verdicts = PairwiseJudge(client, "judge").compare_many(items)
    pairs = pairs_from_verdicts(verdicts)
    assert [(p.chosen, p.rejected) for p in pairs] == [
        ("Why is the sky blue? answer in detail", "Why is the sky blue? answer"),
        ("Why rain? answer in detail", "Why rain? answer"),
    ]
    assert pairs[0].chosen_provenance == {"id": records.items[0].id, "choice": 1}
    loaded = load(write_dpo_jsonl(pairs, tmp_path / "dpo.jsonl"), tmp_path / "hf")
    assert loaded["chosen"] == [p.chosen for p in pairs]
    assert isinstance(pairs[0], PreferencePair)
