"""A filter's ``score_document`` / ``keep_document`` marked ``@batched`` gets a whole batch (a ``pd.Series``) from
``score_batch`` / ``keep_batch`` and from the steps (a batch of one from ``score_one`` / ``verdict``, as
``CombinedFilter`` uses them); ``keep_document`` never runs on Dask's fake rows."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError
from curator_synth.filters import CombinedFilter, DocumentFilter, Filter, Score, ScoreFilter, batched


class VowelShare(DocumentFilter):
    """Scores and decides on whole batches, recording every batch it is handed."""

    name = "vowel_share"

    def __init__(self, least: float = 0.3) -> None:
        super().__init__()
        self.least = least
        self.batches: list[tuple[str, int]] = []

    @batched
    def score_document(self, text: pd.Series) -> pd.Series:
        self.batches.append(("score", len(text)))
        return text.str.count("[aeiou]") / text.str.len()

    @batched
    def keep_document(self, score: pd.Series) -> pd.Series:
        self.batches.append(("keep", len(score)))
        return score >= self.least


def dataset(texts: list[str], npartitions: int = 2) -> DocumentDataset:
    return DocumentDataset.from_pandas(pd.DataFrame({"text": texts}), npartitions=npartitions)


TEXTS = ["banana", "rhythm", "queue", "xyz", "audio", "tsk"]


def test_batched_methods_get_the_whole_batch() -> None:
    f = VowelShare()
    scores = f.score_batch(pd.Series(TEXTS, index=range(10, 16)))
    assert list(scores.index) == list(range(10, 16))
    assert f.keep_batch(scores).tolist() == [True, False, True, False, True, False]
    assert f.batches == [("score", 6), ("keep", 6)]


def test_score_filter_keeps_what_the_batched_filter_keeps_and_gives_its_name_as_reason() -> None:
    f = VowelShare()
    filtered = ScoreFilter(f, score_field="share")(dataset(TEXTS))
    kept, report = filtered.compute_with_report()
    assert kept["text"].tolist() == ["banana", "queue", "audio"]
    assert report.reasons == {"vowel_share": 3}
    # one keep call per real partition: none on Dask's fake rows
    assert [kind for kind, _ in f.batches].count("keep") == 2


def test_keep_document_is_not_called_on_dasks_fake_rows_without_a_score_field() -> None:
    f = VowelShare()
    step = ScoreFilter(f)
    filtered = step(dataset(TEXTS))
    assert f.batches == []  # applying the step computes nothing
    filtered.df.compute()
    assert sorted(f.batches) == [("keep", 3), ("keep", 3), ("score", 3), ("score", 3)]


def test_score_and_filter_take_the_batched_bound_methods() -> None:
    f = VowelShare()
    scored = Score(f.score_document, score_field="share")(dataset(TEXTS))
    kept = Filter(f.keep_document, "share")(scored).df.compute()
    assert kept["text"].tolist() == ["banana", "queue", "audio"]


class WrongLength(DocumentFilter):
    @batched
    def score_document(self, text: Any) -> list[int]:
        return [1]

    def keep_document(self, score: Any) -> bool:
        return True


def test_a_batched_method_returning_the_wrong_number_of_values_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="one value per row"):
        WrongLength().score_batch(pd.Series(["a", "b"]))


def test_a_batched_result_on_another_index_is_taken_in_order() -> None:
    class Positional(WrongLength):
        @batched
        def score_document(self, text: Any) -> pd.Series:
            return pd.Series(range(len(text)))  # a fresh 0..n-1 index, as NeMo's examples build them

    scores = Positional().score_batch(pd.Series(["a", "b"], index=[7, 9]))
    assert scores.to_dict() == {7: 0, 9: 1}


def test_an_unknown_filter_field_is_a_config_error_when_the_step_is_applied() -> None:
    with pytest.raises(ConfigError, match="filter field 'nope'"):
        Filter(lambda value: True, "nope")(dataset(TEXTS))


def test_one_text_at_a_time_works_with_batched_methods_too() -> None:
    f = VowelShare()
    assert f.score_one("banana") == 0.5
    assert f.verdict(0.5) == (True, None)
    assert f.verdict(0.1) == (False, None)
    assert CountA().score_one("banana") == 3  # an ordinary filter: score_document itself


class CountA(DocumentFilter):
    def score_document(self, text: Any) -> int:
        return str(text).count("a")

    def keep_document(self, score: Any) -> bool:
        return score > 0


def test_combined_filter_takes_a_batched_quality_check() -> None:
    combined = CombinedFilter(quality=[VowelShare(least=0.4)], safety=False, diversity=False)
    kept, rejected = combined.filter([{"instruction": "Fruit?", "response": "banana"},
                                      {"instruction": "Beat?", "response": "rhythm"}])  # fmt: skip
    assert [sample.response for sample in kept] == ["banana"]
    assert rejected["quality"][0][1] == "vowel_share"
