"""The filter framework: DocumentFilter defaults, ScoreFilter/Score/Filter/Sequential, counts and drop reasons,
the rejected-rows writer, and identical results on the local scheduler and a process-based LocalCluster."""

from __future__ import annotations

import json
import os
import resource
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError
from curator_synth.filters import (
    FILTERS,
    REASON_COLUMN,
    DocumentFilter,
    Filter,
    FilteredDataset,
    FilterReport,
    PairFilter,
    Score,
    ScoreFilter,
    Sequential,
    batched,
)
from curator_synth.filters.heuristic import NonAlphaNumericFilter, WordCountFilter


class LengthFilter(DocumentFilter):
    """Keeps texts of at least ``n`` characters; says ``too_short`` otherwise (the fine-reason API)."""

    name = "length"

    def __init__(self, n: int = 3) -> None:
        super().__init__()
        self.n = n

    def score_document(self, text: Any) -> int:
        return len(text)

    def keep_document(self, score: Any) -> bool | tuple[bool, str]:
        return True if score >= self.n else (False, "too_short")


class HasX(DocumentFilter):
    name = "has_x"

    def score_document(self, text: Any) -> bool:
        return "x" in text

    def keep_document(self, score: Any) -> bool:
        return bool(score)


class SameLength(PairFilter):
    name = "same_length"

    def score_pair(self, instruction: str, response: str) -> int:
        return abs(len(instruction) - len(response))

    def keep_document(self, score: Any) -> bool:
        return bool(score > 0)


TEXTS = ["a", "abcx", "abcd", None, "xxxxx", "ab"]


def frame(copies: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"text": TEXTS * copies, "id": range(len(TEXTS) * copies)})


def dataset(copies: int = 3, npartitions: int = 3) -> DocumentDataset:
    return DocumentDataset.from_pandas(frame(copies), npartitions=npartitions)


def chain(rejected_path: Path | None = None) -> Sequential:
    return Sequential(
        [
            ScoreFilter(LengthFilter(), score_field="length", rejected_path=rejected_path),
            ScoreFilter(HasX(), score_field="has_x"),
            Score(LengthFilter(), "length_again"),
            ScoreFilter(LengthFilter(5), invert=True),
        ]
    )


# --------------------------------------------------------------------------------------- DocumentFilter
def test_batch_defaults_loop_over_the_item_methods() -> None:
    f = LengthFilter()
    scores = f.score_batch(pd.Series(["a", "abcd"], index=[7, 9]))
    assert scores.tolist() == [1, 4]
    assert scores.index.tolist() == [7, 9]
    assert f.keep_batch(scores).tolist() == [False, True]
    assert f.reason_batch(scores).tolist() == ["too_short", None]
    assert f.keep_batch(scores).dtype == bool


def test_name_defaults_to_the_class_name() -> None:
    class Unnamed(HasX):
        name = ""

    assert Unnamed().name == "Unnamed"
    assert HasX().name == "has_x"


def test_pair_filter_needs_two_columns() -> None:
    f = SameLength()
    assert f.score_batch(pd.DataFrame({"i": ["ab", "a"], "r": ["ab", None]})).tolist() == [0, 1]
    assert f.score_document(("abc", "a")) == 2
    with pytest.raises(TypeError, match="two text fields"):
        f.score_batch(pd.Series(["a"]))


def test_every_filter_is_registered_by_class_name_and_name() -> None:
    import curator_synth.filters.heuristic
    import curator_synth.filters.heuristic_lines
    import curator_synth.filters.instruction
    import curator_synth.filters.repetition

    assert FILTERS.get("WordCountFilter") is WordCountFilter
    assert FILTERS.get("word_count") is WordCountFilter
    assert FILTERS.get("alpha_numeric") is NonAlphaNumericFilter
    for module in (
        curator_synth.filters.heuristic,
        curator_synth.filters.heuristic_lines,
        curator_synth.filters.instruction,
    ):
        for name in module.__all__:
            assert FILTERS.get(name) is getattr(module, name)
    with pytest.raises(ConfigError, match="unknown filters"):
        FILTERS.get("no_such_filter")


# ------------------------------------------------------------------------------------------- ScoreFilter
def test_score_filter_keeps_and_scores() -> None:
    out = ScoreFilter(LengthFilter(), score_field="length")(dataset())
    assert isinstance(out, FilteredDataset)
    kept = out.to_pandas()
    assert kept["text"].tolist() == ["abcx", "abcd", "xxxxx"] * 3
    assert kept["length"].tolist() == [4, 4, 5] * 3
    assert REASON_COLUMN not in kept.columns
    assert kept["length"].dtype == np.int64


def test_missing_text_reads_as_empty() -> None:
    report = ScoreFilter(LengthFilter(1))(dataset()).report()
    assert report.dropped == 3  # the three None texts


def test_invert_keeps_what_the_filter_drops() -> None:
    out = ScoreFilter(LengthFilter(), invert=True)(dataset())
    kept, report = out.compute_with_report()
    assert sorted(set(kept["text"].fillna("<none>"))) == ["<none>", "a", "ab"]
    assert report.reasons == {"length:inverted": 9}


def test_score_type_casts() -> None:
    out = ScoreFilter(LengthFilter(), score_field="length", score_type=float)(dataset())
    assert out.to_pandas()["length"].dtype == np.float64


def test_score_adds_a_column_without_filtering() -> None:
    out = Score(LengthFilter(), "length")(dataset())
    assert not isinstance(out, FilteredDataset)
    df = out.to_pandas()
    assert len(df) == 18
    assert df["length"].tolist()[:6] == [1, 4, 4, 0, 5, 2]


def test_score_and_filter_with_plain_functions() -> None:
    @batched
    def lengths(texts: pd.Series) -> pd.Series:
        return texts.str.len()

    ds = Score(lengths, "n")(dataset())
    ds = Score(lambda t: t.upper(), "upper")(ds)
    out = Filter(lambda n: n >= 4, "n", name="long_enough")(ds)
    kept, report = out.compute_with_report()
    assert kept["upper"].tolist() == ["ABCX", "ABCD", "XXXXX"] * 3
    assert report.steps[0].name == "long_enough"
    assert report.steps[0].dropped == 9


def test_filter_with_a_document_filter_uses_its_reasons() -> None:
    ds = Score(LengthFilter(), "length")(dataset())

    class ScoreAtLeast(DocumentFilter):
        name = "at_least_4"

        def score_document(self, text: Any) -> Any:
            return text

        def keep_document(self, score: Any) -> bool | tuple[bool, str]:
            return True if score >= 4 else (False, "low")

    rep = Filter(ScoreAtLeast(), "length")(ds).report()
    assert rep.reasons == {"at_least_4:low": 9}


def test_pair_filter_through_score_filter() -> None:
    df = pd.DataFrame({"instruction": ["abc", "ab", "x"], "output": ["abc", "abcd", None]})
    out = ScoreFilter(SameLength(), text_field=("instruction", "output"), score_field="diff")(
        DocumentDataset.from_pandas(df)
    )
    kept = out.to_pandas()
    assert kept["diff"].tolist() == [2, 1]


def test_unknown_text_field_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not in the dataset"):
        ScoreFilter(HasX(), text_field="nope")(dataset())


def test_score_filter_needs_a_document_filter() -> None:
    with pytest.raises(ConfigError):
        ScoreFilter(lambda t: True)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------- accounting
def test_sequential_counts_and_reasons_per_step() -> None:
    out = chain()(dataset())
    assert isinstance(out, FilteredDataset)
    kept, report = out.compute_with_report()
    assert kept["text"].tolist() == ["abcx"] * 3
    assert (report.total, report.kept, report.dropped) == (18, 3, 15)
    assert [(s.name, s.seen, s.kept, s.dropped) for s in report.steps] == [
        ("length", 18, 9, 9),
        ("has_x", 9, 6, 3),
        ("length#2", 6, 3, 3),
    ]
    assert report.step("length").reasons == {"length:too_short": 9}
    assert report.step("has_x").reasons == {"has_x": 3}
    assert report.reasons == {"length:too_short": 9, "has_x": 3, "length#2:inverted": 3}
    assert report == out.report()
    assert "has_x" in str(report)
    assert report.to_dict()["dropped"] == 15


def test_chaining_by_hand_equals_sequential() -> None:
    ds = dataset()
    for step in chain().steps:
        ds = step(ds)
    assert isinstance(ds, FilteredDataset)
    assert ds.report() == chain()(dataset()).report()


def test_later_steps_see_only_kept_rows_and_scores_are_nullable() -> None:
    out = chain()(dataset())
    assert isinstance(out, FilteredDataset)
    everything = out.annotated.compute()
    dropped_first = everything[everything[REASON_COLUMN] == "length:too_short"]
    assert dropped_first["has_x"].isna().all()
    assert dropped_first["length_again"].isna().all()
    assert str(everything["has_x"].dtype) == "boolean"
    assert str(everything["length_again"].dtype) == "Int64"
    rejected = out.rejected().to_pandas()
    assert len(rejected) == 15
    assert rejected[REASON_COLUMN].notna().all()


def test_report_from_counts_keeps_unknown_reasons_apart() -> None:
    report = FilterReport.from_counts({"": 5, "a": 2, "a:x": 1, "old": 4}, ("a", "b"))
    assert report.other == {"old": 4}
    assert [(s.seen, s.kept, s.dropped) for s in report.steps] == [(8, 5, 3), (5, 5, 0)]
    with pytest.raises(KeyError):
        report.step("c")


def test_a_step_with_nothing_to_drop_and_empty_partitions() -> None:
    df = pd.DataFrame({"text": ["abcd"] * 4})
    ds = DocumentDataset(dd.from_pandas(df, npartitions=2).partitions[[0, 0, 1]])
    ds = DocumentDataset(ds.df[ds.df["text"] != "none"])
    out = ScoreFilter(LengthFilter())(ds)
    assert out.report().kept == 6


def test_persist_keeps_the_chain() -> None:
    out = chain()(dataset())
    assert isinstance(out, FilteredDataset)
    persisted = out.persist()
    assert isinstance(persisted, FilteredDataset)
    assert persisted.report() == out.report()


# --------------------------------------------------------------------------------------- rejected rows
def test_rejected_rows_are_written_with_their_reasons(tmp_path: Path) -> None:
    out = chain(rejected_path=tmp_path / "rejected")(dataset())
    assert not (tmp_path / "rejected").exists()  # lazy: nothing written before compute
    out.to_pandas()
    out.to_pandas()  # recomputing rewrites the same files
    files = sorted(p.name for p in (tmp_path / "rejected").iterdir())
    assert files == ["length.00000.jsonl", "length.00001.jsonl", "length.00002.jsonl"]
    rows = [json.loads(line) for f in sorted((tmp_path / "rejected").iterdir()) for line in f.open()]
    assert len(rows) == 9
    assert {r[REASON_COLUMN] for r in rows} == {"length:too_short"}
    assert {r["text"] for r in rows} == {"a", None, "ab"}
    assert all("length" in r for r in rows)


# ------------------------------------------------------------------------------------------ distributed
@pytest.fixture(scope="module")
def cluster_client() -> Any:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0", silence_logs=40
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        yield client


def test_same_results_on_a_process_cluster(cluster_client: Any, tmp_path: Path) -> None:
    with dask.config.set(scheduler="sync"):
        local_kept, local_report = chain(tmp_path / "local")(dataset(copies=20, npartitions=7)).compute_with_report()
    with dask.config.set(scheduler=cluster_client):
        out = chain(tmp_path / "cluster")(dataset(copies=20, npartitions=7))
        assert isinstance(out, FilteredDataset)
        cluster_kept, cluster_report = out.compute_with_report()
        assert cluster_client.run(os.getpid).keys() == set(cluster_client.scheduler_info()["workers"])
    pd.testing.assert_frame_equal(local_kept, cluster_kept)
    assert local_report == cluster_report
    assert cluster_report.total == 120
    for name in os.listdir(tmp_path / "local"):
        assert (tmp_path / "local" / name).read_text() == (tmp_path / "cluster" / name).read_text()


# ------------------------------------------------------------------------------------------------ scale
@pytest.mark.slow
def test_a_million_short_records_in_bounded_memory() -> None:
    """1 M records generated lazily (never materialised at once): RSS grows far less than the data's size."""
    npartitions, rows = 100, 10_000

    def make(i: int) -> pd.DataFrame:
        rng = np.random.default_rng(i)
        words = rng.integers(1, 80, size=rows)
        return pd.DataFrame({"text": ["lorem " * int(n) for n in words], "id": np.arange(rows) + i * rows})

    df = dd.from_map(make, range(npartitions), meta=make(0).iloc[:0])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = Sequential([ScoreFilter(WordCountFilter()), ScoreFilter(NonAlphaNumericFilter())])(DocumentDataset(df))
    assert isinstance(out, FilteredDataset)
    with dask.config.set(scheduler="threads", num_workers=2):
        report = out.report()
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert report.total == 1_000_000
    assert report.step("word_count").dropped > 0
    assert report.kept > 0
    assert grown_mb < 600, f"RSS grew by {grown_mb:.0f} MB"
