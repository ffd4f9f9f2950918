"""Semantic dedup on real T0 data with the packaged MiniLM model, offline.

The same AdversarialQA example (a Wikipedia passage and a question on it) appears under two prompt templates
(``answer_the_following_q``: passage then question, ``c0``-``c119``; ``based_on``: question then passage,
``q0``-``q59``); a passage comes with 2-7 questions on consecutive rows, so rows 0-119 hold 28 passages (rows
0-59: 13). Measured with the packaged model: an example under its two templates has cosine 0.896-0.99, two
questions on one passage 0.65-1.0 (a long passage truncates the question away), two different passages at
most 0.75. So a group must never mix passages, and at threshold 0.85 both templates of every example are in
one group.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub: no hub access in this process

import json

import numpy as np
import pandas as pd
import pytest
from data_paths import T0_SAMPLE, adversarial_qa_passages

from curator_synth.dataset import DocumentDataset
from curator_synth.dedup.semantic import SemanticDuplicates, cluster_embeddings, similarity_groups
from curator_synth.embeddings import Embedder
from curator_synth.errors import ConfigError


def _prompts(template: str, count: int) -> list[str]:
    with (T0_SAMPLE / f"adversarial_qa_dbert_{template}.jsonl").open() as lines:
        return [json.loads(line)["prompt"] for line in lines][:count]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """180 rows: ``example`` is the line (the same passage and question), ``passage`` numbers the passages."""
    passages = adversarial_qa_passages()
    number = {text: i for i, text in enumerate(dict.fromkeys(passages))}
    first, second = _prompts("answer_the_following_q", 120), _prompts("based_on", 60)
    rows = [(f"c{i}", i, text) for i, text in enumerate(first)] + [(f"q{i}", i, text) for i, text in enumerate(second)]
    framed = pd.DataFrame(rows, columns=["id", "example", "text"])
    return framed.assign(passage=[number[passages[i]] for i in framed["example"]])


@pytest.fixture(scope="module")
def embedded(frame: pd.DataFrame) -> DocumentDataset:
    """The dataset with its MiniLM vectors in ``embedding``: embedded once, on 3 partitions."""
    dataset = DocumentDataset.from_pandas(frame, npartitions=3)
    return Embedder().embed_dataset(dataset, "text", "embedding").persist()


@pytest.fixture(scope="module")
def found(embedded: DocumentDataset) -> pd.DataFrame:
    dedup = SemanticDuplicates(threshold=0.85, n_clusters=6, embedding_field="embedding", seed=0)
    return dedup.identify_duplicates(embedded)


def test_end_to_end_from_text_with_the_packaged_model(frame: pd.DataFrame) -> None:
    subset = frame[frame["example"].isin([0, 1, 5, 8, 60, 64])]  # 0 and 1: two questions on one passage
    dataset = DocumentDataset.from_pandas(subset, npartitions=2)
    dedup = SemanticDuplicates(threshold=0.9, seed=0)  # default embedder: the packaged MiniLM, offline
    groups = dedup.identify_duplicates(dataset)
    assert list(groups.columns) == ["id", "group", "representative"]
    members = groups.groupby("group")["id"].apply(set).tolist()
    assert members == [{"c0", "c1", "q0", "q1"}, {"c5", "q5"}, {"c8", "q8"}]
    kept = dedup.remove(dataset, groups).to_pandas()
    assert sorted(kept["id"]) == ["c0", "c5", "c60", "c64", "c8"]  # keep="first": dataset order


def test_no_group_mixes_passages_and_both_templates_group(found: pd.DataFrame, frame: pd.DataFrame) -> None:
    passage = dict(zip(frame["id"], frame["passage"], strict=True))
    by_group = found.groupby("group")["id"].apply(list)
    for ids in by_group:
        assert len({passage[i] for i in ids}) == 1, f"a group mixes different passages: {ids}"  # precision
    group = dict(zip(found["id"], found["group"], strict=True))
    for i in range(60):
        assert f"c{i}" in group, i  # recall: both templates of every example, in one group
        assert group[f"c{i}"] == group.get(f"q{i}"), i
    assert len(found) == 176  # measured: all but c80, c81, c83, c85 (questions that set them apart)
    assert len(by_group) == 31  # measured: 28 passages, passages 2 and 11 split by their questions
    assert found["representative"].sum() == len(by_group)


def test_clustering_loses_nothing_against_all_pairs(found: pd.DataFrame, embedded: DocumentDataset) -> None:
    exhaustive = SemanticDuplicates(threshold=0.85, n_clusters=1, embedding_field="embedding")
    pd.testing.assert_frame_equal(found, exhaustive.identify_duplicates(embedded))


def test_remove_keeps_one_record_per_group(found: pd.DataFrame, embedded: DocumentDataset) -> None:
    dedup = SemanticDuplicates(threshold=0.85, n_clusters=6, embedding_field="embedding")
    kept = dedup.remove(embedded, found).to_pandas()
    assert len(kept) == 180 - (len(found) - found["group"].nunique())
    assert found[found["id"].isin(kept["id"])]["group"].is_unique
    assert set(kept["id"]) >= set(embedded.to_pandas()["id"]) - set(found["id"])  # ungrouped rows stay
    assert kept["id"].str.startswith("c").all()  # the first of each group in dataset order


def test_keep_centroid_keeps_the_most_typical_member(embedded: DocumentDataset) -> None:
    dedup = SemanticDuplicates(threshold=0.85, n_clusters=6, embedding_field="embedding", keep="centroid")
    found = dedup.identify_duplicates(embedded)
    frame = embedded.to_pandas().set_index("id")
    for _, members in found.groupby("group"):
        vectors = np.stack(frame.loc[members["id"], "embedding"].tolist())
        closeness = vectors @ vectors.mean(axis=0)
        tied = closeness >= closeness.max() - 1e-6  # same-passage prompts truncated to one text tie
        closest = members["id"].iloc[int(np.argmax(tied))] if len(members) > 2 else members["id"].iloc[0]
        assert members.loc[members["representative"], "id"].tolist() == [closest]  # a tie goes to the first


def test_a_lower_threshold_finds_more(embedded: DocumentDataset, found: pd.DataFrame) -> None:
    loose = SemanticDuplicates(threshold=0.75, embedding_field="embedding").identify_duplicates(embedded)
    assert len(loose) >= len(found)
    strict = SemanticDuplicates(threshold=0.9, embedding_field="embedding").identify_duplicates(embedded)
    assert len(strict) < len(found)


def test_similarity_groups_are_transitive_and_numbered_by_first_row() -> None:
    angle = np.deg2rad([0, 20, 40, 90, 91, 180])
    vectors = np.stack([np.cos(angle), np.sin(angle)], axis=1)  # cos 20 deg = 0.94, cos 40 deg = 0.77
    groups = similarity_groups(vectors, np.zeros(6, dtype=np.int64), threshold=0.9, block_size=2)
    assert groups.tolist() == [0, 0, 0, 1, 1, -1]
    split = similarity_groups(vectors, np.array([0, 0, 1, 1, 1, 1]), threshold=0.9)
    assert split.tolist() == [0, 0, -1, 1, 1, -1]  # a pair across clusters is not compared
    assert cluster_embeddings(vectors, 1).tolist() == [0] * 6
    labels = cluster_embeddings(vectors, 3, seed=1)
    assert labels.tolist() == cluster_embeddings(vectors, 3, seed=1).tolist()


def test_configuration_errors(embedded: DocumentDataset) -> None:
    with pytest.raises(ConfigError):
        SemanticDuplicates(threshold=1.5, embedding_field="e")
    with pytest.raises(ConfigError):
        SemanticDuplicates(keep="last", embedding_field="e")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="no id column"):
        SemanticDuplicates(id_field="doc_id", embedding_field="embedding").identify_duplicates(embedded)
    with pytest.raises(ConfigError, match="no embedding column"):
        SemanticDuplicates(embedding_field="vec").identify_duplicates(embedded)
    duplicated_ids = DocumentDataset(embedded.df.assign(id="same"))
    with pytest.raises(ConfigError, match="unique"):
        SemanticDuplicates(embedding_field="embedding").identify_duplicates(duplicated_ids)
