"""``curator_synth.nemo``'s ``DocumentDataset`` (NeMo's pickle methods and reader helper over the native dataset)
and ``blend_datasets`` (NeMo's fixed mix: ``ceil(weight * target)`` rows of each dataset, in order, repeated)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import curator_synth.nemo as nc
from curator_synth.nemo.datasets import DocumentDataset
from curator_synth.nemo.datasets.doc_dataset import _read_json_or_parquet


def texts(*values: str, npartitions: int = 1) -> DocumentDataset:
    return DocumentDataset.from_pandas(pd.DataFrame({"text": list(values)}), npartitions=npartitions)


def test_blend_takes_rows_in_order_and_repeats_a_small_dataset() -> None:
    blended = nc.blend_datasets(7, [texts("a", "b", "c", npartitions=2), texts("x")], [5.0, 2.0])
    assert blended.to_pandas()["text"].tolist() == ["a", "b", "c", "a", "b", "x", "x"]


def test_blend_rounds_each_share_up_and_skips_a_zero_weight() -> None:
    blended = nc.blend_datasets(3, [texts("a", "b"), texts("x", "y"), texts("z")], [1.0, 1.0, 0.0])
    assert blended.to_pandas()["text"].tolist() == ["a", "b", "x", "y"]  # ceil(1.5) each: 4 rows for 3 asked


def test_blend_refuses_what_it_cannot_do() -> None:
    with pytest.raises(ValueError, match="2 datasets and 1 weights"):
        nc.blend_datasets(2, [texts("a"), texts("b")], [1.0])
    with pytest.raises(ValueError, match="positive sum"):
        nc.blend_datasets(2, [texts("a")], [0.0])
    with pytest.raises(ValueError, match="dataset 1 is empty"):
        nc.blend_datasets(2, [texts("a"), DocumentDataset.from_pandas(pd.DataFrame({"text": []}))], [1.0, 1.0])


def test_pickles_are_read_and_writing_one_says_what_to_use(tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": ["one", "two"], "score": [1, 2]})
    frame.to_pickle(tmp_path / "a.pkl")
    frame.to_pickle(tmp_path / "b.pkl")
    dataset = DocumentDataset.read_pickle(str(tmp_path / "a.pkl"))
    assert isinstance(dataset, DocumentDataset)
    pd.testing.assert_frame_equal(dataset.to_pandas(), frame)
    both = DocumentDataset.read_pickle([str(tmp_path / "a.pkl"), str(tmp_path / "b.pkl")], columns=["text"])
    assert both.to_pandas()["text"].tolist() == ["one", "two", "one", "two"]
    with pytest.raises(NotImplementedError, match="use to_parquet or to_json"):
        dataset.to_pickle(str(tmp_path / "out"))


def test_the_reader_helper_takes_directories_and_refuses_other_inputs(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        pd.DataFrame({"text": [f"{name} a", f"{name} b"]}).to_json(
            tmp_path / name / "x.jsonl", orient="records", lines=True
        )
    read = _read_json_or_parquet([str(tmp_path / "one"), str(tmp_path / "two")], "jsonl", files_per_partition=1)
    assert sorted(read.compute()["text"]) == ["one a", "one b", "two a", "two b"]
    with pytest.raises(TypeError, match="a string or a list of strings"):
        _read_json_or_parquet(pd.Series([str(tmp_path / "one")]), "jsonl")  # type: ignore[arg-type]
