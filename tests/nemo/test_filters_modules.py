"""``curator_synth.nemo.modules``' dataset steps beside the filters: ``AddId``, ``Shuffle``, ``Modify``,
``DocumentSplitter`` and ``DocumentJoiner`` (NeMo's signatures and id formats)."""

from __future__ import annotations

import pandas as pd
import pytest

from curator_synth.errors import ConfigError
from curator_synth.nemo.datasets import DocumentDataset
from curator_synth.nemo.modules import AddId, DocumentJoiner, DocumentSplitter, Modify, Shuffle
from curator_synth.nemo.utils.decorators import batched


def docs(texts: list[str], npartitions: int = 2, **columns: list[object]) -> DocumentDataset:
    return DocumentDataset.from_pandas(pd.DataFrame({"text": texts, **columns}), npartitions=npartitions)


def test_add_id_in_order_from_a_start_index() -> None:
    ids = AddId("id", id_prefix="doc", start_index=5)(docs(["a", "b", "c"])).df.compute()["id"]
    assert ids.tolist() == ["doc-0000000005", "doc-0000000006", "doc-0000000007"]
    assert str(ids.dtype) == "string"


def test_add_id_without_a_start_index_is_unique_without_a_pass_over_the_data() -> None:
    ids = AddId("id")(docs([str(n) for n in range(25)], npartitions=3)).df.compute()["id"].tolist()
    assert len(set(ids)) == 25
    assert ids[0] == "doc_id-00"  # row 0 of partition 0, each zero-padded to its count of digits
    assert all(value.startswith("doc_id-") for value in ids)


def test_shuffle_permutes_reproducibly_with_a_seed_and_rewrites_file_names() -> None:
    data = docs([str(n) for n in range(40)], npartitions=4, file_name=["in.jsonl"] * 40)
    first = Shuffle(seed=7, npartitions=2)(data).df.compute()
    again = Shuffle(seed=7, npartitions=2)(data).df.compute()
    assert first["text"].tolist() == again["text"].tolist()
    assert sorted(first["text"], key=int) == [str(n) for n in range(40)]
    assert first["text"].tolist() != [str(n) for n in range(40)]
    assert set(first["file_name"]) <= {"file_0000000000.jsonl", "file_0000000001.jsonl"}


class Upper:
    def modify_document(self, text: str) -> str:
        return text.upper()


class BatchedStrip:
    @batched
    def modify_document(self, text: pd.Series) -> pd.Series:
        return text.str.strip()


def test_modify_rewrites_the_text_field_in_place() -> None:
    data = docs([" a ", "b "])
    assert Modify(Upper())(data) is data
    assert data.df.compute()["text"].tolist() == [" A ", "B "]
    assert Modify(BatchedStrip())(data).df.compute()["text"].tolist() == ["A", "B"]
    with pytest.raises(ConfigError, match="modify_document"):
        Modify(object())
    with pytest.raises(ConfigError, match="'body'"):
        Modify(Upper(), text_field="body")(data)


def test_split_and_join_give_the_documents_back() -> None:
    data = docs(["a|b|c", "d"], id=[1, 2], npartitions=1)
    split = DocumentSplitter("|")(data).df.compute()
    assert split[["text", "segment_id"]].values.tolist() == [["a", 0], ["b", 1], ["c", 2], ["d", 0]]
    joined = DocumentJoiner("|")(DocumentSplitter("|")(docs(["a|b|c", "d"], id=[1, 2], npartitions=1)))
    assert joined.df.compute()[["text", "id"]].values.tolist() == [["a|b|c", 1], ["d", 2]]


def test_join_within_a_maximum_length() -> None:
    frame = pd.DataFrame({"id": [1, 1, 1], "segment_id": [2, 0, 1], "text": ["cc", "a", "bbb"], "n": [2, 1, 3]})
    data = DocumentDataset.from_pandas(frame)
    joined = DocumentJoiner("-", max_length=5, length_field="n", drop_segment_id_field=False)(data).df.compute()
    assert joined[["text", "n", "segment_id"]].values.tolist() == [["a-bbb", 5, 0], ["cc", 2, 1]]
    with pytest.raises(ValueError, match="both or neither"):
        DocumentJoiner("-", max_length=5)
