"""The ``load`` stage on real files, through the real pipeline (issue 13, defects 1, 5, 6, 7).

Record identity: generated ids cover the whole record, explicit ids are text and are never shared by different
records (an error within one file, namespaced by file across files), and only true duplicates are dropped.
What it reads: every supported file of a directory (recipe and CLI alike), skipped bad lines counted as
rejections, and text fields that must be strings (or are converted to JSON text with ``coerce``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from curator_synth.cli import app
from curator_synth.dataset import jsonl
from curator_synth.errors import ConfigError, DataFormatError
from curator_synth.pipeline import PipelineResult, SyntheticDataPipeline


def load(tmp_path: Path, run: str, **options: Any) -> PipelineResult:
    config = {
        "name": run,
        "stages": [{"stage": "load", **options}],
        "report": {"enabled": False},
        "dask": {"cluster": "threads"},
    }
    return SyntheticDataPipeline(None, config).run(output_dir=tmp_path / "runs" / run)


def invoke(*args: object) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def records(result: PipelineResult) -> pd.DataFrame:
    return result.dataset.to_pandas().reset_index(drop=True)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def test_documents_without_id_or_instruction_are_all_kept(tmp_path: Path) -> None:
    docs = write_jsonl(tmp_path / "docs.jsonl", [{"text": f"document number {i}"} for i in range(10)])
    result = load(tmp_path, "docs", path=str(docs))
    frame = records(result)
    assert len(frame) == 10
    assert frame["id"].is_unique
    assert frame["text"].tolist() == [f"document number {i}" for i in range(10)]
    assert result.stages[0]["rejections"] == {}


def test_generated_ids_are_stable_across_runs_file_order_and_partitioning(tmp_path: Path) -> None:
    rows = [{"text": f"doc {i}", "tags": [f"t{i}", "x"], "meta": {"n": i}} for i in range(6)]
    one = write_jsonl(tmp_path / "one" / "all.jsonl", rows)
    first = records(load(tmp_path, "one", path=str(one)))
    again = records(load(tmp_path, "again", path=str(one)))
    write_jsonl(tmp_path / "two" / "a.jsonl", rows[3:])
    pd.DataFrame(rows[:3]).to_parquet(tmp_path / "two" / "b.parquet")
    split = records(load(tmp_path, "split", path=str(tmp_path / "two"), files_per_partition=1))
    by_text = dict(zip(first["text"], first["id"], strict=True))
    assert again["id"].tolist() == first["id"].tolist()
    assert dict(zip(split["text"], split["id"], strict=True)) == by_text


def test_prompt_answer_rows_and_parquet_columns_are_all_kept(tmp_path: Path) -> None:
    pairs = write_jsonl(tmp_path / "pairs.jsonl", [{"prompt": f"q{i}", "answer": f"a{i}"} for i in range(7)])
    assert len(records(load(tmp_path, "pairs", path=str(pairs)))) == 7
    pd.DataFrame({"a": range(5), "b": list("vwxyz")}).to_parquet(tmp_path / "table.parquet")
    frame = records(load(tmp_path, "table", path=str(tmp_path / "table.parquet")))
    assert frame[["a", "b"]].values.tolist() == [[0, "v"], [1, "w"], [2, "x"], [3, "y"], [4, "z"]]
    assert frame["id"].is_unique


def test_shards_with_the_same_explicit_ids_are_namespaced_by_file(tmp_path: Path) -> None:
    shards = tmp_path / "shards"
    write_jsonl(shards / "a.jsonl", [{"id": i, "instruction": f"a-{i}"} for i in range(5)])
    write_jsonl(
        shards / "b.jsonl", [{"id": i, "instruction": f"b-{i}"} for i in range(5)] + [{"id": 9, "instruction": "b-9"}]
    )
    frame = records(load(tmp_path, "shards", path=str(shards)))
    assert len(frame) == 11
    assert frame["id"].tolist() == [f"a.jsonl:{i}" for i in range(5)] + [f"b.jsonl:{i}" for i in range(5)] + ["9"]
    provenance = [json.loads(text) for text in frame["provenance"]]
    assert provenance[0] == {"load": {"id": "0", "file": "a.jsonl", "line": 1}}
    assert provenance[7] == {"load": {"id": "2", "file": "b.jsonl", "line": 3}}
    assert provenance[10] == {"load": {"file": "b.jsonl", "line": 6}}  # an id only one file uses is left alone


def test_explicit_integer_ids_become_text(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": i, "instruction": f"task {i}"} for i in range(3)])
    assert records(load(tmp_path, "ints", path=str(data)))["id"].tolist() == ["0", "1", "2"]


def test_only_rows_identical_in_every_column_are_dropped_as_duplicates(tmp_path: Path) -> None:
    row = {"instruction": "Name a colour.", "response": "Blue"}
    data = write_jsonl(tmp_path / "d.jsonl", [row, row, {**row, "response": "Red"}, row])
    result = load(tmp_path, "dups", path=str(data))
    assert records(result)["response"].tolist() == ["Blue", "Red"]
    assert result.stages[0]["rejections"] == {"load": {"duplicate_id": 2}}
    explicit = write_jsonl(tmp_path / "e.jsonl", [{"id": "k", **row}, {"id": "k", **row}])
    again = load(tmp_path, "explicit", path=str(explicit))
    assert records(again)["id"].tolist() == ["k"]
    assert again.stages[0]["rejections"] == {"load": {"duplicate_id": 1}}


def test_the_same_record_in_two_files_is_a_duplicate_not_a_namespaced_pair(tmp_path: Path) -> None:
    row = {"id": 3, "instruction": "same everywhere"}
    write_jsonl(tmp_path / "in" / "a.jsonl", [row])
    write_jsonl(tmp_path / "in" / "b.jsonl", [row, {"id": 4, "instruction": "only here"}])
    result = load(tmp_path, "same", path=str(tmp_path / "in"))
    assert records(result)["id"].tolist() == ["3", "4"]
    assert result.stages[0]["rejections"] == {"load": {"duplicate_id": 1}}


def test_one_id_for_different_records_in_one_file_names_both_lines(tmp_path: Path) -> None:
    rows = [{"id": i, "instruction": f"task {i}"} for i in range(6)] + [{"id": 3, "instruction": "another"}]
    data = write_jsonl(tmp_path / "a.jsonl", rows)
    with pytest.raises(DataFormatError, match=r"a\.jsonl:7: id '3' is also used by line 4 with different content"):
        load(tmp_path, "clash", path=str(data))


def test_one_id_for_different_rows_of_one_parquet_file_names_both_rows(tmp_path: Path) -> None:
    pd.DataFrame({"id": [1, 2, 1], "instruction": ["x", "y", "z"]}).to_parquet(tmp_path / "t.parquet")
    with pytest.raises(DataFormatError, match=r"t\.parquet: row 3: id '1' is also used by row 1") as error:
        load(tmp_path, "rows", path=str(tmp_path / "t.parquet"))
    assert error.value.line == 3


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A directory of 3 JSON Lines records, 2 Parquet rows and files the loader must ignore."""
    folder = tmp_path / "mixed"
    write_jsonl(folder / "a.jsonl", [{"instruction": f"jsonl {i}", "response": f"answer {i}"} for i in range(3)])
    pd.DataFrame({"instruction": ["parquet 0", "parquet 1"], "response": ["r0", "r1"]}).to_parquet(folder / "b.parquet")
    write_jsonl(folder / ".hidden.jsonl", [{"instruction": "hidden", "response": "x"}])
    (folder / "notes.txt").write_text("not records\n")
    return folder


def test_a_recipe_load_reads_json_lines_and_parquet_of_a_directory(tmp_path: Path, mixed: Path) -> None:
    frame = load(tmp_path, "mixed", path=str(mixed)).dataset.to_pandas()
    assert frame["instruction"].tolist() == ["jsonl 0", "jsonl 1", "jsonl 2", "parquet 0", "parquet 1"]


def test_the_cli_reads_json_lines_and_parquet_of_a_directory(tmp_path: Path, mixed: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = invoke("filter", mixed, "-o", out, "--filter", "empty_response")
    assert result.exit_code == 0, result.output
    assert "load: 0 -> 5 records" in result.output
    assert sorted(pd.read_json(out, lines=True)["instruction"]) == [
        "jsonl 0", "jsonl 1", "jsonl 2", "parquet 0", "parquet 1"
    ]  # fmt: skip


def test_a_directory_without_supported_files_lists_what_it_holds(tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "data.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ConfigError, match=r"no \.jsonl/\.json/\.parquet/\.pq files in directory .*data\.csv"):
        load(tmp_path, "csv", path=str(folder))
    result = invoke("export", folder, "-f", "alpaca", "-o", tmp_path / "o.jsonl")
    assert result.exit_code == 2, result.output
    assert "data.csv" in result.output


def test_skipped_bad_lines_are_counted_in_the_rejections_and_the_cli_summary(tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"instruction": "a", "response": "b"}\n{"instruction": \n[1, 2]\n{"instruction": "c"}\n')
    result = load(tmp_path, "skip", path=str(data), on_bad_lines="skip")
    assert len(result.dataset) == 2
    assert result.stages[0]["rejections"] == {"load": {"bad_line": 2}}
    cli = invoke("export", data, "-f", "alpaca", "-o", tmp_path / "o.jsonl", "--set", "on_bad_lines=skip")
    assert cli.exit_code == 0, cli.output
    assert "load: 0 -> 2 records; dropped or flagged: load/bad_line 2" in cli.output


@pytest.mark.parametrize(
    ("value", "kind"), [(["a", "b"], "a list"), ({"x": 1}, "an object"), (3, "a number"), (True, "a boolean")]
)
def test_a_text_field_that_is_not_a_string_names_file_line_and_field(tmp_path: Path, value: Any, kind: str) -> None:
    data = write_jsonl(
        tmp_path / "d.jsonl", [{"question": "fine", "answer": "ok"}, {"question": value, "answer": "ok"}]
    )
    with pytest.raises(DataFormatError) as error:
        load(tmp_path, "typed", path=str(data), rename={"question": "instruction"})
    assert str(error.value) == (
        f"{data}:2: field 'instruction' is {kind}, expected a string (set coerce: true on the load stage to convert)"
    )


def test_a_list_after_the_schema_sample_is_an_error_too_not_its_repr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonl, "META_SAMPLE_ROWS", 2)  # the sample sees only a.jsonl's strings
    write_jsonl(tmp_path / "in" / "a.jsonl", [{"instruction": "x"}, {"instruction": "y"}])
    write_jsonl(tmp_path / "in" / "b.jsonl", [{"instruction": "z"}, {"instruction": ["a", "b"]}])
    with pytest.raises(DataFormatError, match=r"b\.jsonl:2: field 'instruction' is a list"):
        load(tmp_path, "late", path=str(tmp_path / "in"))
    coerced = load(tmp_path, "late-coerced", path=str(tmp_path / "in"), coerce=True).dataset.to_pandas()
    assert coerced["instruction"].tolist() == ["x", "y", "z", '["a", "b"]']


def test_a_parquet_list_column_names_the_row(tmp_path: Path) -> None:
    pd.DataFrame({"instruction": ["q"], "response": [["a", "b"]]}).to_parquet(tmp_path / "t.parquet")
    with pytest.raises(DataFormatError, match=r"t\.parquet: row 1: field 'response' is a list, expected a string"):
        load(tmp_path, "rows", path=str(tmp_path / "t.parquet"))


def test_coerce_turns_values_into_json_text(tmp_path: Path) -> None:
    rows = [
        {"instruction": ["a", "b"], "input": {"ville": "Zürich", "n": 1}, "response": 3},
        {"instruction": "plain", "input": None, "response": False},
    ]
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    frame = load(tmp_path, "coerce", path=str(data), coerce=True).dataset.to_pandas()
    assert frame["instruction"].tolist() == ['["a", "b"]', "plain"]
    assert frame["input"].tolist() == ['{"ville": "Zürich", "n": 1}', ""]
    assert frame["response"].tolist() == ["3", "false"]


def test_records_loaded_again_keep_their_first_origin_as_earlier(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "a.jsonl", [{"id": i, "instruction": f"task {i}"} for i in range(3)])
    load(tmp_path, "first", path=str(data))
    final = tmp_path / "runs" / "first" / "final"
    again = records(load(tmp_path, "again", path=str(final)))
    provenance = [json.loads(text) for text in again.sort_values("id")["provenance"]]
    assert [entry["load"]["earlier"] for entry in provenance] == [
        {"file": "a.jsonl", "line": line} for line in (1, 2, 3)
    ]
    assert {entry["load"]["file"] for entry in provenance} <= {path.name for path in final.iterdir()}
