"""Line and row numbers (``add_line_number``), mixed-format reading (``read_files``) and what a directory with
no readable file reports."""

from __future__ import annotations

import json
from pathlib import Path

import dask
import pandas as pd
import pytest

from curator_synth import DocumentDataset
from curator_synth.errors import ConfigError


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_json_lines_get_their_line_numbers_counting_blank_and_bad_lines(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "a.jsonl", ['{"t": "one"}', "", '{"t": ', '{"t": "four"}', '{"t": "five"}'])
    ds = DocumentDataset.read_json(source, add_line_number=True, add_filename=True, on_bad_lines="skip")
    frame = ds.to_pandas()
    assert frame[["t", "line_number", "file_name"]].values.tolist() == [
        ["one", 1, "a.jsonl"],
        ["four", 4, "a.jsonl"],
        ["five", 5, "a.jsonl"],
    ]
    assert ds.bad_lines() == 1


def test_line_numbers_stay_exact_when_a_file_is_split_into_blocks(tmp_path: Path) -> None:
    lines = [json.dumps({"n": i, "pad": "x" * (i % 7)}) for i in range(200)]
    source = write_lines(tmp_path / "big.jsonl", lines)
    ds = DocumentDataset.read_json(source, blocksize=500, add_line_number="where")
    assert ds.npartitions > 5
    frame = ds.to_pandas()
    assert frame["where"].tolist() == list(range(1, 201))
    assert frame["n"].tolist() == list(range(200))


def test_parquet_rows_are_numbered_per_file(tmp_path: Path) -> None:
    pd.DataFrame({"a": [1, 2, 3]}).to_parquet(tmp_path / "x.parquet")
    pd.DataFrame({"a": [4, 5]}).to_parquet(tmp_path / "y.pq")
    frame = DocumentDataset.read_parquet(tmp_path, add_line_number=True, add_filename=True).to_pandas()
    assert frame[["a", "file_name", "line_number"]].values.tolist() == [
        [1, "x.parquet", 1],
        [2, "x.parquet", 2],
        [3, "x.parquet", 3],
        [4, "y.pq", 1],
        [5, "y.pq", 2],
    ]


def test_line_numbers_are_computed_on_worker_processes(tmp_path: Path) -> None:
    """The partition tasks (and their options) pickle: the process scheduler ships them to other processes."""
    write_lines(tmp_path / "a.jsonl", ['{"t": "a"}', '{"t": "b"}'])
    pd.DataFrame({"t": ["c"]}).to_parquet(tmp_path / "b.parquet")
    ds = DocumentDataset.read_files(tmp_path, add_line_number=True, files_per_partition=1)
    with dask.config.set(scheduler="processes", num_workers=2):
        frame = ds.to_pandas()
    assert frame[["t", "line_number"]].values.tolist() == [["a", 1], ["b", 2], ["c", 1]]


def test_a_column_of_that_name_is_an_error(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "a.jsonl", ['{"line_number": 3}'])
    with pytest.raises(ConfigError, match="add_line_number='<name>'"):
        DocumentDataset.read_json(source, add_line_number=True)


def test_read_files_reads_every_supported_file_in_order_with_columns_aligned(tmp_path: Path) -> None:
    write_lines(tmp_path / "a.jsonl", ['{"text": "from jsonl", "tags": ["x"]}', "not json"])
    pd.DataFrame({"text": ["from parquet"], "score": [0.5]}).to_parquet(tmp_path / "b.parquet")
    write_lines(tmp_path / "c.json", ['{"text": "from json"}'])
    pd.DataFrame({"text": ["from pq"]}).to_parquet(tmp_path / "d.pq")
    write_lines(tmp_path / ".hidden.jsonl", ['{"text": "hidden"}'])
    (tmp_path / "notes.txt").write_text("not records")
    ds = DocumentDataset.read_files(tmp_path, add_filename=True, on_bad_lines="skip")
    frame = ds.to_pandas().reset_index(drop=True)
    assert frame["text"].tolist() == ["from jsonl", "from parquet", "from json", "from pq"]
    assert frame["file_name"].tolist() == ["a.jsonl", "b.parquet", "c.json", "d.pq"]
    assert frame["tags"].iloc[0] == ["x"]
    assert frame["tags"].iloc[1:].isna().all()
    assert frame["score"].iloc[1] == 0.5
    assert frame["score"].drop(index=1).isna().all()
    report = ds.read_report()
    assert (report.files, report.records, report.bad_lines) == (2, 2, 1)


def test_a_directory_without_readable_files_says_what_it_holds(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("a,b\n")
    (tmp_path / "README").write_text("hi")
    with pytest.raises(
        ConfigError, match=r"no \.jsonl/\.json/\.parquet/\.pq files in directory .*2 other file\(s\): README, data\.csv"
    ):
        DocumentDataset.read_files(tmp_path)
    with pytest.raises(ConfigError, match=r"no \.parquet/\.pq files in directory .*README, data\.csv"):
        DocumentDataset.read_parquet(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="it holds no files"):
        DocumentDataset.read_json(empty)
