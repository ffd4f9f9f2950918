"""Semantic dedup on real T0 data with the packaged MiniLM model, offline.

The same AG News story appears under two prompt templates (``ag_news_classify``: story then question;
``..._question_first``: question then story), and AG News itself holds re-reported stories (rows 0/9 and 2/10
are the same Reuters story with a different byline, 43/44 the same local story under two headlines). Records
0-59 come in both templates, records 60-119 only once.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub: no hub access in this process

import json

import numpy as np
import pandas as pd
import pytest
from data_paths import T0_SAMPLE

from curator_synth.dataset import DocumentDataset
from curator_synth.dedup.semantic import SemanticDuplicates, cluster_embeddings, similarity_groups
from curator_synth.embeddings import Embedder
from curator_synth.errors import ConfigError

SAME_STORY = {9: 0, 10: 2, 44: 43}  # AG News rows that re-report an earlier row's story


def _prompts(template: str, count: int) -> list[str]:
    with (T0_SAMPLE / f"ag_news_{template}.jsonl").open() as lines:
        return [json.loads(line)["prompt"] for line in lines][:count]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    first, second = _prompts("classify", 120), _prompts("classify_question_first", 60)
    rows = [(f"c{i}", i, text) for i, text in enumerate(first)] + [(f"q{i}", i, text) for i, text in enumerate(second)]
    return pd.DataFrame(rows, columns=["id", "story", "text"]).assign(story=lambda f: f["story"].replace(SAME_STORY))


@pytest.fixture(scope="module")
def embedded(frame: pd.DataFrame) -> DocumentDataset:
    """The dataset with its MiniLM vectors in ``embedding``: embedded once, on 3 partitions."""
    dataset = DocumentDataset.from_pandas(frame, npartitions=3)
    return Embedder().embed_dataset(dataset, "text", "embedding").persist()


@pytest.fixture(scope="module")
def found(embedded: DocumentDataset) -> pd.DataFrame:
    return SemanticDuplicates(n_clusters=6, embedding_field="embedding", seed=0).identify_duplicates(embedded)


def test_end_to_end_from_text_with_the_packaged_model(frame: pd.DataFrame) -> None:
    subset = frame[frame["story"].isin([0, 1, 2, 3, 70, 71])]  # 0/9 and 2/10 are one story each
    dataset = DocumentDataset.from_pandas(subset, npartitions=2)
    dedup = SemanticDuplicates(threshold=0.9, seed=0)  # default embedder: the packaged MiniLM, offline
    groups = dedup.identify_duplicates(dataset)
    assert list(groups.columns) == ["id", "group", "representative"]
    members = groups.groupby("group")["id"].apply(set).tolist()
    assert members == [{"c0", "c9", "q0", "q9"}, {"c1", "q1"}, {"c2", "c10", "q2", "q10"}, {"c3", "q3"}]
    kept = dedup.remove(dataset, groups).to_pandas()
    assert sorted(kept["id"]) == ["c0", "c1", "c2", "c3", "c70", "c71"]  # keep="first": dataset order


def test_every_story_in_two_templates_is_one_group(found: pd.DataFrame, frame: pd.DataFrame) -> None:
    story = dict(zip(frame["id"], frame["story"], strict=True))
    by_group = found.groupby("group")["id"].apply(list)
    for ids in by_group:
        assert len({story[i] for i in ids}) == 1, f"a group mixes different stories: {ids}"  # precision
    grouped = set(found["id"])
    for i in range(60):
        assert {f"c{i}", f"q{i}"} <= grouped  # recall: both templates of every story
    assert len(by_group) == 60 - len(SAME_STORY)
    assert found["representative"].sum() == len(by_group)


def test_clustering_loses_nothing_against_all_pairs(found: pd.DataFrame, embedded: DocumentDataset) -> None:
    exhaustive = SemanticDuplicates(n_clusters=1, embedding_field="embedding").identify_duplicates(embedded)
    pd.testing.assert_frame_equal(found, exhaustive)


def test_remove_keeps_one_record_per_story(found: pd.DataFrame, embedded: DocumentDataset) -> None:
    dedup = SemanticDuplicates(n_clusters=6, embedding_field="embedding")
    kept = dedup.remove(embedded, found).to_pandas()
    assert len(kept) == 180 - (len(found) - found["group"].nunique())
    assert kept["story"].is_unique
    assert kept["id"].str.startswith("c").all()  # the first of each group in dataset order


def test_keep_centroid_keeps_the_most_typical_member(embedded: DocumentDataset) -> None:
    dedup = SemanticDuplicates(n_clusters=6, embedding_field="embedding", keep="centroid")
    found = dedup.identify_duplicates(embedded)
    frame = embedded.to_pandas().set_index("id")
    for _, members in found.groupby("group"):
        vectors = np.stack(frame.loc[members["id"], "embedding"].tolist())
        closeness = vectors @ vectors.mean(axis=0)
        closest = members["id"].iloc[int(np.argmax(closeness))] if len(members) > 2 else members["id"].iloc[0]
        assert members.loc[members["representative"], "id"].tolist() == [closest]  # a tie goes to the first


def test_a_lower_threshold_finds_more(embedded: DocumentDataset, found: pd.DataFrame) -> None:
    loose = SemanticDuplicates(threshold=0.8, embedding_field="embedding").identify_duplicates(embedded)
    assert len(loose) >= len(found)
    strict = SemanticDuplicates(threshold=0.999, embedding_field="embedding").identify_duplicates(embedded)
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
