"""read_json on the real T0 / Self-Instruct files: inputs, partitioning, file names, schema, laziness."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from data_paths import T0_SAMPLE_FILES, T0_SAMPLE_ROWS

from curator_synth import DocumentDataset
from curator_synth.dataset import DataFormatError, jsonl
from curator_synth.errors import ConfigError


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_directory_reads_every_file(t0_dir: Path) -> None:
    ds = DocumentDataset.read_json(t0_dir)
    frame = ds.to_pandas()
    assert len(frame) == T0_SAMPLE_ROWS
    assert list(frame.columns) == ["prompt", "completion"]
    assert frame["prompt"].map(type).eq(str).all()
    expected = sum(1 for f in t0_dir.glob("*.jsonl") for line in f.read_text().splitlines() if line.strip())
    assert expected == T0_SAMPLE_ROWS


def test_file_list_glob_and_single_file_agree(t0_dir: Path) -> None:
    files = sorted(t0_dir.glob("duorc_*.jsonl"))
    by_list = DocumentDataset.read_json(files).to_pandas()
    by_glob = DocumentDataset.read_json(str(t0_dir / "duorc_*.jsonl")).to_pandas()
    pd.testing.assert_frame_equal(by_list, by_glob)
    by_list = by_list.reset_index(drop=True)
    one = DocumentDataset.read_json(files[0]).to_pandas()
    assert len(one) == sum(1 for _ in files[0].open())
    pd.testing.assert_frame_equal(one, by_list.iloc[: len(one)])


def test_files_per_partition(t0_dir: Path) -> None:
    ds = DocumentDataset.read_json(t0_dir, files_per_partition=5, add_filename=True)
    assert ds.npartitions == 5  # 25 files / 5
    sizes = ds.df.map_partitions(lambda p: p["file_name"].nunique()).compute().tolist()
    assert sizes == [5, 5, 5, 5, 5]
    two = DocumentDataset.read_json(t0_dir, files_per_partition=2, add_filename=True)
    assert two.df.map_partitions(lambda p: p["file_name"].nunique()).compute().tolist() == [2] * 12 + [1]


def test_blocksize_splits_files_on_line_boundaries(t0_dir: Path) -> None:
    whole = DocumentDataset.read_json(t0_dir, files_per_partition=1).to_pandas()
    # Every file of the subset (20-213 kB) is larger than the 5 kB blocks, as every full T0 file was for 50 kB.
    split = DocumentDataset.read_json(t0_dir, blocksize=5_000)
    assert split.npartitions > T0_SAMPLE_FILES  # the files were split
    pd.testing.assert_frame_equal(
        split.to_pandas().reset_index(drop=True), whole.reset_index(drop=True)
    )  # same rows, same order, nothing lost or doubled
    assert DocumentDataset.read_json(t0_dir, blocksize="64MB").npartitions == 1  # small files are packed


@pytest.mark.parametrize("blocksize", [1_000, 50_000])
def test_small_files_before_a_large_one_keep_the_file_order(tmp_path: Path, t0_dir: Path, blocksize: int) -> None:
    # Small files waiting to be packed go before the pieces of a large file that follows them.
    (tmp_path / "a.jsonl").write_text('{"n": 1}\n')
    (tmp_path / "b.jsonl").write_text("".join(f'{{"n": {n}}}\n' for n in range(2, 200)))
    (tmp_path / "c.jsonl").write_text('{"n": 200}\n')
    numbers = DocumentDataset.read_json(tmp_path, blocksize=blocksize).to_pandas()["n"].tolist()
    assert numbers == list(range(1, 201))
    whole = DocumentDataset.read_json(t0_dir, files_per_partition=1).to_pandas().reset_index(drop=True)
    packed = DocumentDataset.read_json(t0_dir, blocksize=blocksize).to_pandas().reset_index(drop=True)
    pd.testing.assert_frame_equal(packed, whole)  # the T0 subset mixes 20-213 kB files


def test_both_partitionings_is_an_error(t0_dir: Path) -> None:
    with pytest.raises(ConfigError, match="not both"):
        DocumentDataset.read_json(t0_dir, files_per_partition=2, blocksize="1MB")


def test_add_filename_is_the_base_name(t0_dir: Path) -> None:
    frame = DocumentDataset.read_json(t0_dir, blocksize=100_000, add_filename=True).to_pandas()
    counts = frame["file_name"].value_counts()
    assert set(counts.index) == {p.name for p in t0_dir.glob("*.jsonl")}
    for name, count in counts.items():
        assert count == sum(1 for _ in (t0_dir / str(name)).open())
    custom = DocumentDataset.read_json(t0_dir / "quoref_Answer_Test.jsonl", add_filename="source").to_pandas()
    assert set(custom["source"]) == {"quoref_Answer_Test.jsonl"}


def test_nested_values_stay_python_objects(self_instruct_dir: Path) -> None:
    ds = DocumentDataset.read_json(self_instruct_dir / "seed_tasks.jsonl")
    frame = ds.to_pandas()
    assert len(frame) == 175
    assert frame["is_classification"].dtype == bool
    first = frame["instances"].iloc[0]
    assert isinstance(first, list)
    assert isinstance(first[0], dict)
    assert set(first[0]) == {"input", "output"}


def test_from_pandas_keeps_list_columns() -> None:
    ds = DocumentDataset.from_pandas(pd.DataFrame({"tags": [["a", "b"], ["c"]], "n": [1, 2]}), npartitions=2)
    assert ds.to_pandas()["tags"].tolist() == [["a", "b"], ["c"]]


def test_columns_selects_and_ignores_other_keys(self_instruct_dir: Path) -> None:
    files = [self_instruct_dir / "seed_tasks.jsonl", self_instruct_dir / "predictions_davinci.jsonl"]
    frame = DocumentDataset.read_json(files, columns=["instruction"], add_filename=True).to_pandas()
    assert list(frame.columns) == ["instruction", "file_name"]
    assert frame["instruction"].notna().all()
    assert frame["file_name"].value_counts().to_dict() == {"predictions_davinci.jsonl": 252, "seed_tasks.jsonl": 175}


def test_keys_outside_the_sampled_schema_name_file_and_line(
    self_instruct_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [self_instruct_dir / "predictions_davinci.jsonl", self_instruct_dir / "seed_tasks.jsonl"]
    # Both files fit in the schema sample (1000 records): the columns are their union, missing keys are null.
    frame = DocumentDataset.read_json(files).to_pandas()
    assert {"prompt", "instances", "is_classification"} <= set(frame.columns)
    assert frame["prompt"].isna().sum() == 175
    # With a smaller sample, seed_tasks.jsonl's keys were never seen: its first line is a bad line.
    monkeypatch.setattr(jsonl, "META_SAMPLE_ROWS", 100)
    ds = DocumentDataset.read_json(files, files_per_partition=1)
    with pytest.raises(DataFormatError, match=r"seed_tasks\.jsonl:1: keys \['id'") as caught:
        ds.to_pandas()
    assert caught.value.line == 1


def test_input_meta_sets_dtypes(tmp_path: Path) -> None:
    rows = [{"id": i, "score": i} for i in range(3)] + [{"id": 3, "score": None}]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    frame = DocumentDataset.read_json(tmp_path, input_meta={"id": "int64", "score": "Float64"}).to_pandas()
    assert frame["score"].dtype == "Float64"
    assert frame["score"].isna().tolist() == [False, False, False, True]
    assert DocumentDataset.read_json(tmp_path, input_meta='{"id": "str", "score": "float64"}').df["id"].dtype == "str"
    with pytest.raises(ConfigError, match="dtype"):
        DocumentDataset.read_json(tmp_path, input_meta={"id": "no-such-dtype"})


def test_missing_keys_become_nulls_and_dtype_conflicts_are_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonl, "META_SAMPLE_ROWS", 1)  # the schema comes from a.jsonl's one record
    (tmp_path / "a.jsonl").write_text('{"id": 1, "text": "x"}\n')
    (tmp_path / "b.jsonl").write_text('{"id": 2}\n{"id": null, "text": "y"}\n')
    ds = DocumentDataset.read_json(tmp_path, files_per_partition=1)
    with pytest.raises(DataFormatError, match=r"b\.jsonl: column 'id' cannot be read as int64.*input_meta"):
        ds.to_pandas()
    frame = DocumentDataset.read_json(tmp_path, files_per_partition=1, input_meta={"id": "Int64", "text": "str"})
    assert frame.to_pandas()["text"].isna().tolist() == [False, True, False]


def test_reading_is_lazy(tmp_path: Path) -> None:
    """Only the first records are read up front: a bad line far into the file surfaces when computing."""
    lines = [json.dumps({"n": i}) for i in range(3000)]
    lines[2500] = '{"n": '
    (tmp_path / "big.jsonl").write_text("\n".join(lines) + "\n")
    ds = DocumentDataset.read_json(tmp_path, blocksize=4096)
    assert ds.npartitions > 5
    assert ds.head(3, npartitions=1)["n"].tolist() == [0, 1, 2]
    with pytest.raises(DataFormatError, match=r"big\.jsonl:2501: not valid JSON"):
        len(ds)


def test_input_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        DocumentDataset.read_json(tmp_path / "missing.jsonl")
    with pytest.raises(ConfigError, match="no files match"):
        DocumentDataset.read_json(str(tmp_path / "*.jsonl"))
    with pytest.raises(ConfigError, match=r"no \.jsonl/\.json files"):
        DocumentDataset.read_json(tmp_path)
    (tmp_path / "a.jsonl").write_text('{"a": 1}\n')
    with pytest.raises(ConfigError, match="on_bad_lines"):
        DocumentDataset.read_json(tmp_path, on_bad_lines="ignore")
    with pytest.raises(ConfigError, match="backend"):
        DocumentDataset.read_json(tmp_path, backend="cudf")


def test_a_later_non_string_under_an_inferred_text_dtype_is_kept_not_its_repr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schema sample saw only strings; a list or number after it stays a list or number (never "['a']")."""
    monkeypatch.setattr(jsonl, "META_SAMPLE_ROWS", 2)
    (tmp_path / "a.jsonl").write_text('{"t": "x"}\n{"t": "y"}\n')
    (tmp_path / "b.jsonl").write_text('{"t": ["a", "b"]}\n{"t": 3}\n{"t": "z"}\n')
    ds = DocumentDataset.read_json(tmp_path, files_per_partition=1)
    assert isinstance(ds.df._meta["t"].dtype, pd.StringDtype)
    assert ds.to_pandas()["t"].tolist() == ["x", "y", ["a", "b"], 3, "z"]
    pd.DataFrame({"t": ["x"]}).to_parquet(tmp_path / "c.parquet")
    pd.DataFrame({"t": [["a", "b"]]}).to_parquet(tmp_path / "d.parquet")
    values = DocumentDataset.read_parquet(tmp_path, files_per_partition=1).to_pandas()["t"].tolist()
    assert values[0] == "x"
    assert list(values[1]) == ["a", "b"]
