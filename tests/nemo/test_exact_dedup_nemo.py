"""``curator_synth.nemo.modules.ExactDuplicates``: NeMo's signature and output over the native exact dedup: the raw
text is hashed (no normalisation), the duplicates table is ``(id, _hashes)``, ``cache_dir`` keeps it in NeMo's
file, and ``remove`` keeps the smallest id of each group."""

from __future__ import annotations

from hashlib import md5
from pathlib import Path

import pandas as pd
import pytest

from curator_synth.dedup import ExactDuplicates as NativeExactDuplicates
from curator_synth.nemo.datasets import DocumentDataset
from curator_synth.nemo.modules import ExactDuplicates

ROWS = pd.DataFrame({"id": [7, 3, 5, 9, 1], "text": ["Same text", "other", "Same text", "SAME TEXT", "other"]})


def dataset() -> DocumentDataset:
    return DocumentDataset.from_pandas(ROWS, npartitions=2)


def test_raw_text_is_hashed_and_the_table_is_nemos(tmp_path: Path) -> None:
    dedup = ExactDuplicates(id_field="id", text_field="text", cache_dir=tmp_path)
    found = dedup.identify_duplicates(dataset()).to_pandas().sort_values("id", ignore_index=True)
    assert list(found.columns) == ["id", "_hashes"]
    assert found["id"].tolist() == [1, 3, 5, 7]  # "SAME TEXT" is not "Same text" here (the native one folds case)
    assert found.loc[found["id"] == 5, "_hashes"].item() == md5(b"Same text").hexdigest()
    assert (tmp_path / "_exact_duplicates.parquet").exists()
    native = NativeExactDuplicates(id_field="id", text_field="text").identify_duplicates(dataset()).to_pandas()
    assert 9 in set(native["id"])


def test_remove_keeps_the_smallest_id_of_each_group_and_call_removes_when_asked() -> None:
    kept = ExactDuplicates(id_field="id", text_field="text").remove(dataset())
    assert sorted(kept.to_pandas()["id"]) == [1, 5, 9]
    called = ExactDuplicates(id_field="id", text_field="text", perform_removal=True)(dataset())
    assert sorted(called.to_pandas()["id"]) == [1, 5, 9]


def test_only_md5_as_in_nemo() -> None:
    with pytest.raises(ValueError, match="sha256 not in supported hash_methods"):
        ExactDuplicates(hash_method="sha256")
