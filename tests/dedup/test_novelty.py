"""ROUGE-L novelty as a dedup step, on the real Self-Instruct seed tasks."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from data_paths import SEED_TASKS

from curator_synth.dataset import DocumentDataset
from curator_synth.dedup import NoveltyDuplicates, rouge_l
from curator_synth.errors import ConfigError


def seed_instructions() -> list[str]:
    return [json.loads(line)["instruction"] for line in SEED_TASKS.read_text().splitlines() if line.strip()]


def test_near_copies_of_earlier_records_are_duplicates() -> None:
    seeds = seed_instructions()[:40]
    copies = [text.rstrip(".") + " please." for text in seeds[:10]]  # ROUGE-L well above 0.7
    texts = seeds + copies
    dataset = DocumentDataset.from_pandas(pd.DataFrame({"id": range(len(texts)), "text": texts}), npartitions=3)
    duplicates = NoveltyDuplicates().identify_duplicates(dataset)
    found = dict(zip(duplicates["id"], duplicates["duplicate_of"], strict=True))
    for i in range(10):
        assert found.get(40 + i) == i, (i, texts[40 + i])
    for copy_id, kept_id in found.items():  # every flagged pair really is above the threshold
        assert rouge_l(texts[copy_id], texts[kept_id]) > 0.7
    kept = NoveltyDuplicates().remove(dataset, duplicates).to_pandas()
    assert len(kept) == len(texts) - len(duplicates)
    assert set(range(40 + 10)) - set(kept["id"]) == set(found)


def test_pool_texts_count_as_already_kept() -> None:
    seeds = seed_instructions()
    candidates = [seeds[0], "Invent a board game for three players that teaches fractions."]
    dataset = DocumentDataset.from_pandas(pd.DataFrame({"id": ["a", "b"], "text": candidates}))
    duplicates = NoveltyDuplicates(pool=seeds).identify_duplicates(dataset)
    assert list(duplicates["id"]) == ["a"]
    assert list(duplicates["duplicate_of"]) == ["pool:0"]
    assert duplicates["rouge_l"].iloc[0] == pytest.approx(1.0)


def test_threshold_is_validated() -> None:
    with pytest.raises(ConfigError):
        NoveltyDuplicates(threshold=0)
