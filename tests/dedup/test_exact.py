"""ExactDuplicates: normalised hashes -> duplicate groups; remove keeps one representative per group."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from data_paths import T0_SAMPLE

from curator_synth.dataset import DocumentDataset
from curator_synth.dedup.exact import HASH_METHODS, ExactDuplicates, normalize_text, remove_duplicates
from curator_synth.errors import ConfigError


def _dataset(texts: list[str], npartitions: int = 2) -> DocumentDataset:
    return DocumentDataset.from_pandas(pd.DataFrame({"id": range(len(texts)), "text": texts}), npartitions=npartitions)


def _groups(frame: pd.DataFrame) -> set[frozenset[int]]:
    return {frozenset(int(i) for i in g["id"]) for _, g in frame.groupby("group")}


TEXTS = [
    "Hello   World!",  # 0
    "hello world!",  # 1: same after normalisation
    "Hello World",  # 2: differs by punctuation only
    "something else",  # 3
    " HELLO\tworld! ",  # 4
    "Something  else",  # 5
    "unique",  # 6
]


def test_normalised_texts_form_groups() -> None:
    found = ExactDuplicates().identify_duplicates(_dataset(TEXTS)).to_pandas()
    assert _groups(found) == {frozenset({0, 1, 4}), frozenset({3, 5})}
    assert list(found.columns) == ["id", "_hashes", "group"]


def test_strip_punctuation_and_no_normalisation() -> None:
    stripped = ExactDuplicates(strip_punctuation=True).identify_duplicates(_dataset(TEXTS)).to_pandas()
    assert _groups(stripped) == {frozenset({0, 1, 2, 4}), frozenset({3, 5})}
    raw = ExactDuplicates(normalize=False).identify_duplicates(_dataset([*TEXTS, "unique"])).to_pandas()
    assert _groups(raw) == {frozenset({6, 7})}


def test_normalize_text() -> None:
    out = normalize_text(pd.Series(["  A\n\nB  c ", None, "x, y!"]), strip_punctuation=True)
    assert out.tolist() == ["a b c", "", "x y"]


@pytest.mark.parametrize("method", sorted(HASH_METHODS))
def test_every_hash_method_gives_the_same_groups(method: str) -> None:
    found = ExactDuplicates(hash_method=method).identify_duplicates(_dataset(TEXTS, 3)).to_pandas()
    assert _groups(found) == {frozenset({0, 1, 4}), frozenset({3, 5})}


def test_remove_keeps_the_smallest_id_of_each_group() -> None:
    dataset = _dataset(TEXTS)
    dedup = ExactDuplicates()
    kept = dedup.remove(dataset).to_pandas()
    assert sorted(kept["id"]) == [0, 2, 3, 6]
    again = remove_duplicates(dataset, dedup.identify_duplicates(dataset), "id").to_pandas()
    assert sorted(again["id"]) == [0, 2, 3, 6]
    assert sorted(ExactDuplicates(perform_removal=True)(dataset).to_pandas()["id"]) == [0, 2, 3, 6]


def test_string_ids_and_other_column_names() -> None:
    frame = pd.DataFrame({"doc": ["b", "a", "c"], "body": ["x y", "X  Y", "z"]})
    dataset = DocumentDataset.from_pandas(frame, npartitions=2)
    dedup = ExactDuplicates(id_field="doc", text_field="body")
    assert dedup.identify_duplicates(dataset).to_pandas()["doc"].tolist() == ["a", "b"]
    assert sorted(dedup.remove(dataset).to_pandas()["doc"]) == ["a", "c"]


@pytest.mark.parametrize(
    "kwargs",
    [{"hash_method": "crc"}, {"id_field": ""}, {"strip_punctuation": True, "normalize": False}],
)
def test_bad_parameters_raise_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        ExactDuplicates(**kwargs)  # type: ignore[arg-type]


def test_missing_columns_raise_config_error() -> None:
    with pytest.raises(ConfigError, match="text"):
        ExactDuplicates(text_field="text").identify_duplicates(
            DocumentDataset.from_pandas(pd.DataFrame({"id": [1], "prompt": ["x"]}))
        )
    with pytest.raises(ConfigError, match="group"):
        remove_duplicates(_dataset(TEXTS), pd.DataFrame({"id": [1]}), "id")


def test_real_t0_prompts() -> None:
    """The T0 sample repeats whole prompts (same passage and question under one template): each group holds
    equal normalised texts, and every repeated normalised text is found."""
    files = sorted(T0_SAMPLE.glob("adversarial_qa_*.jsonl"))[:3]
    texts = [json.loads(line)["prompt"] for path in files for line in path.read_text().splitlines()]
    dataset = _dataset(texts, 4)
    found = ExactDuplicates().identify_duplicates(dataset).to_pandas()
    normalised = normalize_text(pd.Series(texts))
    expected = normalised[normalised.duplicated(keep=False)]
    assert len(found) == len(expected) > 0
    for _, group in found.groupby("group"):
        assert normalised[group["id"]].nunique() == 1
    kept = ExactDuplicates().remove(dataset).to_pandas()
    assert len(kept) == normalised.nunique()
