"""Malformed JSON Lines: each kind of bad line names file and 1-based line, or is skipped and counted."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import pytest

from curator_synth import DocumentDataset
from curator_synth.dataset import BadLine, DataFormatError, ReadReport
from curator_synth.errors import CuratorSynthError

GOOD = b'{"text": "ok", "n": 1}\n'


def _write(directory: Path, name: str, body: bytes) -> Path:
    path = directory / name
    path.write_bytes(body)
    return path


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (b'{"text": "cut off", "n": \n', r"not valid JSON \(Expecting value: column 26\)"),
        (b'{"text": "a" "n": 2}\n', r"not valid JSON \(Expecting ',' delimiter: column 14\)"),
        (b'[{"text": "in an array"}]\n', r"not a JSON object \(got array\)"),
        (b'"just a string"\n', r"not a JSON object \(got string\)"),
        (b"42\n", r"not a JSON object \(got number\)"),
        (b'{"text": "caf\xe9", "n": 3}\n', r"not valid UTF-8 \(byte 0xe9 at column 14\)"),
    ],
    ids=["truncated", "missing-comma", "array", "string", "number", "invalid-utf8"],
)
def test_bad_line_names_file_and_line(tmp_path: Path, bad: bytes, reason: str) -> None:
    path = _write(tmp_path, "x.jsonl", GOOD + b"\n" + GOOD + bad + GOOD)  # the blank line 2 still counts
    with pytest.raises(DataFormatError, match=rf"^{path}:4: {reason}$") as caught:
        DocumentDataset.read_json(path).to_pandas()
    error = caught.value
    assert (error.path, error.line) == (str(path), 4)
    assert isinstance(error, CuratorSynthError)
    assert isinstance(error, ValueError)


def test_error_raised_while_sampling_the_schema(tmp_path: Path) -> None:
    """The first records are read up front, so a bad line among them fails read_json itself."""
    path = _write(tmp_path, "x.jsonl", b"{oops\n")
    with pytest.raises(DataFormatError, match=r"x\.jsonl:1: not valid JSON"):
        DocumentDataset.read_json(path)


def test_line_numbers_are_exact_in_a_split_file(tmp_path: Path) -> None:
    lines = [b'{"n": %d}\n' % i for i in range(5000)]
    lines[4321] = b'{"n": 4321\n'
    path = _write(tmp_path, "big.jsonl", b"".join(lines))
    ds = DocumentDataset.read_json(path, blocksize=2000)
    assert ds.npartitions > 10
    with pytest.raises(DataFormatError, match=r"big\.jsonl:4322: not valid JSON"):
        ds.to_pandas()
    skipped = DocumentDataset.read_json(path, blocksize=2000, on_bad_lines="skip")
    assert skipped.read_report().examples == (
        BadLine(str(path), 4322, "not valid JSON (Expecting ',' delimiter: column 11)"),
    )


def test_empty_files_blank_lines_bom_and_crlf(tmp_path: Path) -> None:
    _write(tmp_path, "a_empty.jsonl", b"")
    _write(tmp_path, "b_blank.jsonl", b"\n   \n\n")
    _write(tmp_path, "c_bom.jsonl", b'\xef\xbb\xbf{"text": "bom", "n": 1}\r\n{"text": "crlf", "n": 2}\r\n')
    _write(tmp_path, "d_no_final_newline.jsonl", b'{"text": "last", "n": 3}')
    frame = DocumentDataset.read_json(tmp_path, files_per_partition=1).to_pandas()
    assert frame["text"].tolist() == ["bom", "crlf", "last"]
    assert frame["n"].tolist() == [1, 2, 3]


def test_only_empty_files_give_an_empty_dataset(tmp_path: Path) -> None:
    _write(tmp_path, "empty.jsonl", b"")
    ds = DocumentDataset.read_json(tmp_path)
    assert len(ds) == 0
    assert ds.columns == []
    typed = DocumentDataset.read_json(tmp_path, input_meta={"text": "str"}, add_filename=True)
    assert typed.to_pandas().columns.tolist() == ["text", "file_name"]


def test_skip_drops_and_counts_bad_lines(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _write(tmp_path, "a.jsonl", GOOD + b'{"text": \n' + GOOD)
    _write(tmp_path, "b.jsonl", b"[1, 2]\n" + GOOD + b"\xff\xfe\n")
    _write(tmp_path, "c.jsonl", b"")
    ds = DocumentDataset.read_json(tmp_path, files_per_partition=1, on_bad_lines="skip")
    with caplog.at_level(logging.WARNING, logger="curator_synth.dataset"):
        frame = ds.to_pandas()
    assert len(frame) == 3
    assert "skipped 1 bad JSON lines" in caplog.text
    report = ds.read_report()
    assert report.files == 3
    assert report.records == 3
    assert report.bad_lines == 3
    assert [(Path(b.path).name, b.line) for b in report.examples] == [("a.jsonl", 2), ("b.jsonl", 1), ("b.jsonl", 3)]
    assert str(report.examples[1]) == f"{tmp_path / 'b.jsonl'}:1: not a JSON object (got array)"
    assert ds.bad_lines() == 3
    assert ds.repartition(npartitions=1).bad_lines() == 3  # same rows, same report
    assert ReadReport() + report == report


def test_read_report_needs_a_jsonl_source() -> None:
    import pandas as pd

    from curator_synth.errors import ConfigError

    with pytest.raises(ConfigError, match="read_json"):
        DocumentDataset.from_pandas(pd.DataFrame({"a": [1]})).read_report()


def test_error_pickles_with_its_attributes(tmp_path: Path) -> None:
    error = pickle.loads(pickle.dumps(DataFormatError(tmp_path / "x.jsonl", 17, "not valid JSON (x: column 45)")))
    assert (error.path, error.line, error.reason) == (str(tmp_path / "x.jsonl"), 17, "not valid JSON (x: column 45)")
    assert str(error) == f"{tmp_path / 'x.jsonl'}:17: not valid JSON (x: column 45)"
