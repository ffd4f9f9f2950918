"""export(): each format loads with Hugging Face ``datasets``, renamed fields, metadata, errors, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from data_paths import SELF_INSTRUCT

from curator_synth import DocumentDataset
from curator_synth.errors import ConfigError, ConversationFormatError
from curator_synth.exports import EXPORT_FORMATS, MessagesFormat, export
from curator_synth.exports import write as export_write


def _load(path: Path, tmp_path: Path) -> Any:
    """The file as Hugging Face ``datasets`` loads it (its cache kept under tmp_path)."""
    datasets = pytest.importorskip("datasets")
    builder = "parquet" if path.suffix == ".parquet" else "json"
    return datasets.load_dataset(builder, data_files=str(path), split="train", cache_dir=str(tmp_path / "hf-cache"))


def _predictions(model: str) -> pd.DataFrame:
    return pd.read_json(SELF_INSTRUCT / f"predictions_{model}.jsonl", lines=True)


@pytest.fixture
def single_turn() -> DocumentDataset:
    frame = pd.DataFrame(
        {
            "instruction": ["Name a color.", "Translate to French.", "2 + 2?"],
            "input": ["", "Good morning", None],
            "response": ["Blue", "Bonjour", "4"],
            "system": [None, "You translate.", ""],
            "provenance": [{"model": "m1", "seed": 1}, {"model": "m2", "seed": 2}, {"model": "m1", "seed": 3}],
        }
    )
    return DocumentDataset.from_pandas(frame, npartitions=2)


def test_the_formats_are_registered() -> None:
    assert EXPORT_FORMATS.names() == ["alpaca", "dpo", "messages", "parquet", "sharegpt"]


def test_messages_round_trip(single_turn: DocumentDataset, tmp_path: Path) -> None:
    path = tmp_path / "out" / "train.jsonl"
    assert export(single_turn, path, format="messages") == 3
    loaded = _load(path, tmp_path)
    assert loaded.column_names == ["messages"]
    assert loaded[0]["messages"] == [
        {"role": "user", "content": "Name a color."},
        {"role": "assistant", "content": "Blue"},
    ]
    assert loaded[1]["messages"] == [
        {"role": "system", "content": "You translate."},
        {"role": "user", "content": "Translate to French.\n\nGood morning"},
        {"role": "assistant", "content": "Bonjour"},
    ]
    assert loaded[2]["messages"] == [{"role": "user", "content": "2 + 2?"}, {"role": "assistant", "content": "4"}]
    assert sorted(p.name for p in path.parent.iterdir()) == ["train.jsonl"]  # no staging left behind


def test_sharegpt_round_trip_with_metadata(single_turn: DocumentDataset, tmp_path: Path) -> None:
    path = tmp_path / "sharegpt.jsonl"
    assert export(single_turn, path, format="sharegpt", metadata="provenance") == 3
    loaded = _load(path, tmp_path)
    assert loaded.column_names == ["conversations", "provenance"]
    assert loaded[1]["conversations"] == [
        {"from": "system", "value": "You translate."},
        {"from": "human", "value": "Translate to French.\n\nGood morning"},
        {"from": "gpt", "value": "Bonjour"},
    ]
    assert [row["provenance"] for row in loaded] == [
        {"model": "m1", "seed": 1},
        {"model": "m2", "seed": 2},
        {"model": "m1", "seed": 3},
    ]


def test_metadata_is_left_out_unless_asked(single_turn: DocumentDataset, tmp_path: Path) -> None:
    export(single_turn, tmp_path / "a.jsonl", format="alpaca")
    first = json.loads((tmp_path / "a.jsonl").read_text().splitlines()[0])
    assert first == {"instruction": "Name a color.", "input": "", "output": "Blue"}


def test_multi_turn_messages_export_to_sharegpt_and_messages(tmp_path: Path) -> None:
    dialogue = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi <b>there</b>"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "What is 2 + 2?"},
        {"role": "assistant", "content": "4"},
    ]
    frame = pd.DataFrame({"id": ["d1", "d2"], "messages": [dialogue, dialogue[1:3]]})
    assert export(frame, tmp_path / "chat.jsonl", format="sharegpt", metadata=["id"]) == 2
    loaded = _load(tmp_path / "chat.jsonl", tmp_path)
    assert loaded[0]["conversations"] == [
        {"from": "system", "value": "Be brief."},
        {"from": "human", "value": "Hi <b>there</b>"},
        {"from": "gpt", "value": "Hello!"},
        {"from": "human", "value": "What is 2 + 2?"},
        {"from": "gpt", "value": "4"},
    ]
    assert loaded[1]["conversations"] == [
        {"from": "human", "value": "Hi <b>there</b>"},
        {"from": "gpt", "value": "Hello!"},
    ]
    assert loaded["id"] == ["d1", "d2"]
    export(frame, tmp_path / "messages.jsonl", format="messages")
    assert _load(tmp_path / "messages.jsonl", tmp_path)[0]["messages"] == dialogue


def test_multi_turn_read_back_from_parquet_exports(tmp_path: Path) -> None:
    """Parquet gives list columns back as numpy arrays of dicts; the chat formats accept them."""
    dialogue = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    DocumentDataset.from_pandas(pd.DataFrame({"messages": [dialogue] * 3})).to_parquet(tmp_path / "pq")
    assert export(DocumentDataset.read_parquet(tmp_path / "pq"), tmp_path / "s.jsonl", format="sharegpt") == 3
    assert _load(tmp_path / "s.jsonl", tmp_path)[2]["conversations"] == [
        {"from": "human", "value": "Hi"},
        {"from": "gpt", "value": "Hello"},
    ]


def test_alpaca_from_real_predictions_with_renamed_fields(tmp_path: Path) -> None:
    frame = _predictions("text-davinci-003").rename(columns={"response": "answer", "input": "context"})
    dataset = DocumentDataset.from_pandas(frame, npartitions=4)
    path = tmp_path / "alpaca.jsonl"
    assert export(dataset, path, format="alpaca", response="answer", input="context") == 252
    loaded = _load(path, tmp_path)
    assert loaded.column_names == ["instruction", "input", "output"]
    # texts go out without the whitespace around them (text-davinci-003 starts its answers with "\n\n")
    assert loaded["instruction"] == frame["instruction"].str.strip().tolist()
    assert loaded["input"] == frame["context"].fillna("").str.strip().tolist()
    assert loaded["output"] == frame["answer"].str.strip().tolist()
    assert sum(answer != answer.strip() for answer in frame["answer"]) > 200  # the test would see a difference


def test_dpo_pairs_from_two_real_models(tmp_path: Path) -> None:
    strong, weak = _predictions("text-davinci-003"), _predictions("davinci")
    pairs = pd.DataFrame(
        {
            "question": strong["prompt"],
            "good": strong["response"].str.strip(),
            "bad": weak["response"].str.strip(),
        }
    )
    path = tmp_path / "dpo.jsonl"
    assert export(pairs, path, format="dpo", prompt="question", chosen="good", rejected="bad") == 252
    loaded = _load(path, tmp_path)
    assert loaded.column_names == ["prompt", "chosen", "rejected"]
    assert loaded["prompt"] == pairs["question"].tolist()
    assert loaded["chosen"] == pairs["good"].tolist()
    assert loaded["rejected"] == pairs["bad"].tolist()


def test_dpo_pairs_of_conversations(tmp_path: Path) -> None:
    prompt = [{"role": "user", "content": "Capital of France?"}]
    frame = pd.DataFrame(
        {
            "prompt": [prompt],
            "chosen": [[{"role": "assistant", "content": "Paris."}]],
            "rejected": [[{"role": "assistant", "content": "Lyon."}]],
        }
    )
    export(frame, tmp_path / "dpo.jsonl", format="dpo")
    row = _load(tmp_path / "dpo.jsonl", tmp_path)[0]
    assert row == {
        "prompt": prompt,
        "chosen": [{"role": "assistant", "content": "Paris."}],
        "rejected": [{"role": "assistant", "content": "Lyon."}],
    }


def test_parquet_keeps_every_column_across_partitions(single_turn: DocumentDataset, tmp_path: Path) -> None:
    # Three partitions of one row each: the score column is all-null in two of them, so their schemas differ.
    frame = single_turn.to_pandas().assign(reward_overall=[None, None, 0.75])
    path = tmp_path / "all.parquet"
    assert export(DocumentDataset.from_pandas(frame, npartitions=3), path, format="parquet") == 3
    loaded = _load(path, tmp_path)
    assert loaded.column_names == ["instruction", "input", "response", "system", "provenance", "reward_overall"]
    assert loaded["instruction"] == frame["instruction"].tolist()
    assert loaded["provenance"] == frame["provenance"].tolist()
    assert loaded["reward_overall"] == [None, None, 0.75]


@pytest.mark.parametrize(
    ("fmt", "columns", "missing"),
    [
        ("messages", {"instruction": ["q"]}, "response"),
        ("sharegpt", {"response": ["a"]}, "instruction"),
        ("alpaca", {"instruction": ["q"], "output": ["a"]}, "response"),
        ("dpo", {"prompt": ["p"], "chosen": ["c"]}, "rejected"),
    ],
)
def test_a_missing_field_is_a_config_error_naming_it(
    fmt: str, columns: dict[str, list[str]], missing: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=f"needs column '{missing}'"):
        export(pd.DataFrame(columns), tmp_path / "x.jsonl", format=fmt)
    assert list(tmp_path.iterdir()) == []


def test_a_renamed_field_that_is_missing_is_named(single_turn: DocumentDataset, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs column 'answer'"):
        export(single_turn, tmp_path / "x.jsonl", format="alpaca", response="answer")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"format": "csv"}, "unknown export_formats 'csv'"),
        ({"answer": "response"}, r"unknown export field\(s\) \['answer'\]"),
        ({"metadata": "origin"}, "metadata column 'origin' is not in the dataset"),
        ({"metadata": "instruction", "format": "alpaca"}, "has the name of a 'alpaca' record key"),
    ],
)
def test_bad_arguments(single_turn: DocumentDataset, tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        export(single_turn, tmp_path / "x.jsonl", **kwargs)


def test_a_row_without_a_required_value_names_the_column(tmp_path: Path) -> None:
    frame = pd.DataFrame({"instruction": ["q1", "q2"], "response": ["a1", None]})
    with pytest.raises(ConfigError, match="row 1: column 'response' has no value"):
        export(frame, tmp_path / "x.jsonl", format="messages")


def test_a_role_sharegpt_cannot_name_is_an_error(tmp_path: Path) -> None:
    frame = pd.DataFrame({"messages": [[{"role": "user", "content": "x"}, {"role": "tool", "content": "{}"}]]})
    with pytest.raises(ConversationFormatError, match="turn 1: ShareGPT has no speaker for role 'tool'"):
        export(frame, tmp_path / "x.jsonl", format="sharegpt")


def test_a_crash_while_converting_leaves_the_previous_file(
    single_turn: DocumentDataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text('{"messages": "previous export"}\n')
    real = MessagesFormat.record

    def crash_on_the_last_row(self: MessagesFormat, row: Any, columns: Any, fields: Any, position: Any) -> dict:
        if row["instruction"] == "2 + 2?":  # second partition: the first one is written by then
            raise RuntimeError("worker died")
        return real(self, row, columns, fields, position)

    monkeypatch.setattr(MessagesFormat, "record", crash_on_the_last_row)
    with pytest.raises(RuntimeError, match="worker died"):
        export(single_turn, path, format="messages")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.jsonl"]
    assert path.read_text() == '{"messages": "previous export"}\n'


@pytest.mark.parametrize("fmt", ["messages", "parquet"])
def test_a_crash_while_joining_leaves_no_partial_file(
    single_turn: DocumentDataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    real_join = export_write._join

    def join_then_crash(parts: Any, target: Path, file_format: str) -> int:
        real_join(parts[:1], target, file_format)  # half the records are on disk ...
        assert target.stat().st_size > 0
        raise OSError("disk full")  # ... when the write fails

    monkeypatch.setattr(export_write, "_join", join_then_crash)
    path = tmp_path / "data" / f"train.{fmt}"
    with pytest.raises(OSError, match="disk full"):
        export(single_turn, path, format=fmt)
    assert list(path.parent.iterdir()) == []


def test_a_struct_parquet_cannot_hold_is_a_config_error(tmp_path: Path) -> None:
    frame = pd.DataFrame({"instruction": ["q"], "response": ["a"], "provenance": [{}]})
    with pytest.raises(ConfigError, match=r"cannot write .* as parquet"):
        export(frame, tmp_path / "x.parquet", format="parquet")
    assert list(tmp_path.iterdir()) == []


def test_an_empty_dataset_writes_an_empty_file(tmp_path: Path) -> None:
    frame = pd.DataFrame({"instruction": pd.Series([], dtype=object), "response": pd.Series([], dtype=object)})
    assert export(frame, tmp_path / "empty.jsonl", format="messages") == 0
    assert (tmp_path / "empty.jsonl").read_bytes() == b""


def test_the_target_must_not_be_a_directory(single_turn: DocumentDataset, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        export(single_turn, tmp_path, format="messages")
