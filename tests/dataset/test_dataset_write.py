"""to_json / to_parquet: part files or one file per source, round trips, UTF-8 output, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from data_paths import T0_SAMPLE_FILES, T0_SAMPLE_ROWS

from curator_synth import DocumentDataset
from curator_synth.errors import ConfigError


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_one_file_per_partition_round_trips(t0_dir: Path, tmp_path: Path, fmt: str) -> None:
    ds = DocumentDataset.read_json(t0_dir, files_per_partition=8)
    written = ds.to_json(tmp_path) if fmt == "jsonl" else ds.to_parquet(tmp_path)
    assert [p.name for p in written] == [f"part.{i}.{fmt}" for i in range(4)]
    assert _files(tmp_path) == sorted(p.name for p in written)  # no temporary files left
    back = DocumentDataset.read_json(tmp_path) if fmt == "jsonl" else DocumentDataset.read_parquet(tmp_path)
    assert back.npartitions == (1 if fmt == "jsonl" else 4)
    pd.testing.assert_frame_equal(back.to_pandas().reset_index(drop=True), ds.to_pandas().reset_index(drop=True))


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_write_to_filename_recreates_the_source_files(t0_dir: Path, tmp_path: Path, fmt: str) -> None:
    # 100 kB blocks split the larger files over several partitions: their chunks are joined in order.
    ds = DocumentDataset.read_json(t0_dir, blocksize=100_000, add_filename=True)
    assert ds.npartitions > 10
    out = tmp_path / "out"
    written = ds.to_json(out, write_to_filename=True) if fmt == "jsonl" else ds.to_parquet(out, write_to_filename=True)
    sources = sorted(p.name for p in t0_dir.glob("*.jsonl"))
    assert _files(out) == sorted(Path(s).stem + f".{fmt}" for s in sources)
    assert len(written) == T0_SAMPLE_FILES
    if fmt == "jsonl":
        for name in sources:  # byte-for-byte the same records, in the same order
            original = [json.loads(line) for line in (t0_dir / name).read_text().splitlines()]
            copy = [json.loads(line) for line in (out / name).read_text().splitlines()]
            assert copy == original
    back = (DocumentDataset.read_json if fmt == "jsonl" else DocumentDataset.read_parquet)(out, add_filename=True)
    expected = ds.to_pandas().assign(file_name=lambda f: f["file_name"].str.replace(".jsonl", f".{fmt}"))
    pd.testing.assert_frame_equal(_canonical(back.to_pandas()), _canonical(expected))


def test_keep_filename_column(t0_dir: Path, tmp_path: Path) -> None:
    ds = DocumentDataset.read_json(t0_dir / "quoref_Answer_Test.jsonl", add_filename=True)
    ds.to_json(tmp_path / "drop", write_to_filename=True)
    ds.to_json(tmp_path / "keep", write_to_filename=True, keep_filename_column=True)
    assert "file_name" not in json.loads((tmp_path / "drop" / "quoref_Answer_Test.jsonl").open().readline())
    kept = json.loads((tmp_path / "keep" / "quoref_Answer_Test.jsonl").open().readline())
    assert kept["file_name"] == "quoref_Answer_Test.jsonl"


def test_json_output_is_utf8_one_object_per_line_with_nulls(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "text": ["naïve café ☕", "line\nbreak / slash", None],
            "score": [0.1, np.nan, 3.0],
            "count": pd.array([1, None, 3], dtype="Int64"),
            "tags": [["ü"], [], np.array([1, 2])],
            "nested": [{"a": float("nan")}, {"b": [1.5]}, None],
        }
    )
    DocumentDataset.from_pandas(frame).to_json(tmp_path)
    raw = (tmp_path / "part.0.jsonl").read_bytes()
    assert "naïve café ☕".encode() in raw  # not \\u-escaped
    lines = raw.decode("utf-8").splitlines()
    assert len(lines) == 3
    assert [json.loads(line) for line in lines] == [
        {"text": "naïve café ☕", "score": 0.1, "count": 1, "tags": ["ü"], "nested": {"a": None}},
        {"text": "line\nbreak / slash", "score": None, "count": None, "tags": [], "nested": {"b": [1.5]}},
        {"text": None, "score": 3.0, "count": 3, "tags": [1, 2], "nested": None},
    ]


def test_write_to_filename_needs_the_column(tmp_path: Path) -> None:
    ds = DocumentDataset.from_pandas(pd.DataFrame({"a": [1]}))
    with pytest.raises(ConfigError, match="add_filename=True"):
        ds.to_json(tmp_path, write_to_filename=True)
    bad = DocumentDataset.from_pandas(pd.DataFrame({"a": [1], "file_name": ["../escape.jsonl"]}))
    with pytest.raises(ConfigError, match="base names"):
        bad.to_json(tmp_path / "out", write_to_filename=True)
    assert not any(p.name.endswith(".tmp") for p in tmp_path.rglob("*"))
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="is a file"):
        ds.to_json(tmp_path / "file")


def _explode_on_partition(frame: pd.DataFrame, bad: int) -> pd.DataFrame:
    if len(frame) and frame["n"].iloc[0] == bad:
        raise RuntimeError("partition failed midway")
    return frame


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_a_failing_partition_leaves_no_files(tmp_path: Path, fmt: str) -> None:
    ds = DocumentDataset.from_pandas(pd.DataFrame({"n": range(100)}), npartitions=4)
    failing = ds.map_partitions(_explode_on_partition, 50, meta=ds.df._meta)
    with pytest.raises(RuntimeError, match="midway"):
        failing.to_json(tmp_path) if fmt == "jsonl" else failing.to_parquet(tmp_path)
    assert _files(tmp_path) == []  # the partitions that succeeded were not committed either


class _Unserializable:
    def __repr__(self) -> str:
        raise RuntimeError("cannot serialize this record")


def test_a_write_failing_mid_file_leaves_no_half_file(tmp_path: Path) -> None:
    rows: list[object] = [f"row {i}" for i in range(1000)]
    rows[700] = _Unserializable()  # json.dumps falls back to str() -> repr() -> raises after 700 lines were written
    ds = DocumentDataset.from_pandas(pd.DataFrame({"text": pd.Series(rows, dtype=object)}))
    (tmp_path / "part.0.jsonl").write_text('{"text": "previous run"}\n')
    with pytest.raises(RuntimeError, match="cannot serialize"):
        ds.to_json(tmp_path)
    assert _files(tmp_path) == ["part.0.jsonl"]
    assert (tmp_path / "part.0.jsonl").read_text() == '{"text": "previous run"}\n'  # untouched, not half-replaced
    ds.repartition(npartitions=1).map_partitions(lambda f: f.iloc[:3], meta=ds.df._meta).to_json(tmp_path)
    assert len((tmp_path / "part.0.jsonl").read_text().splitlines()) == 3


def test_parquet_reads_with_filename_and_files_per_partition(t0_dir: Path, tmp_path: Path) -> None:
    DocumentDataset.read_json(t0_dir, files_per_partition=4).to_parquet(tmp_path)
    ds = DocumentDataset.read_parquet(tmp_path, files_per_partition=3, add_filename=True, columns=["prompt"])
    assert ds.npartitions == 3  # 7 parquet files, 3 a partition
    frame = ds.to_pandas()
    assert list(frame.columns) == ["prompt", "file_name"]
    assert frame["file_name"].nunique() == 7  # 25 files, 4 a partition: part.0 to part.6
    assert len(frame) == T0_SAMPLE_ROWS
    with pytest.raises(ConfigError, match="not in"):
        DocumentDataset.read_parquet(tmp_path, add_filename=True, columns=["nope"])
