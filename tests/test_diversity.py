"""Diversity sampling and metrics, on real Self-Instruct and T0 text embedded offline by the packaged MiniLM."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub: no hub access in this process

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from data_paths import SELF_INSTRUCT, T0_SAMPLE, adversarial_qa_passages

from curator_synth.dataset import DocumentDataset
from curator_synth.diversity import (
    SAMPLING_STRATEGIES,
    DiversitySampler,
    SamplingStrategy,
    balanced_allocation,
    compute_diversity_score,
    distinct_n,
    embedding_dispersion,
    histogram,
    proportional_allocation,
    rouge_l_to_nearest_seed,
    topic_entropy,
    vendi_score,
)
from curator_synth.embeddings import Embedder
from curator_synth.errors import ConfigError


def _jsonl(path: Path) -> list[dict[str, object]]:
    with path.open() as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def user_tasks() -> pd.DataFrame:
    """The 252 user-oriented instructions; ``motivation_app`` (71 apps, 1-10 tasks each) is a real topic."""
    rows = _jsonl(SELF_INSTRUCT / "user_oriented_instructions.jsonl")
    return pd.DataFrame({"id": [r["id"] for r in rows], "text": [r["instruction"] for r in rows]}).assign(
        app=[r["motivation_app"] for r in rows]
    )


@pytest.fixture(scope="module")
def skewed_pool() -> pd.DataFrame:
    """140 texts, 60 distinct items: 20 Wikipedia passages of AdversarialQA (one question each), each under all 5
    ``adversarial_qa_dbert_*`` prompt templates of T0 (100 redundant texts), and 40 Self-Instruct seed
    instructions (each once). ``item`` names the passage/task."""
    passages = adversarial_qa_passages()
    lines = [passages.index(text) for text in list(dict.fromkeys(passages))[:20]]  # each passage's first line
    texts, items = [], []
    for path in sorted(T0_SAMPLE.glob("adversarial_qa_dbert_*.jsonl")):
        rows = _jsonl(path)
        texts += [str(rows[line]["prompt"]) for line in lines]
        items += [f"passage{i}" for i in range(20)]
    assert len(texts) == 100, "expected the 5 adversarial_qa templates of t0_sample"
    texts += [str(r["instruction"]) for r in _jsonl(SELF_INSTRUCT / "seed_tasks.jsonl")[:40]]
    items += [f"task{i}" for i in range(40)]
    return pd.DataFrame({"id": [f"r{i}" for i in range(140)], "text": texts, "item": items})


@pytest.fixture(scope="module")
def pool_embeddings(skewed_pool: pd.DataFrame) -> np.ndarray:
    return Embedder().embed(skewed_pool["text"].tolist())


# ------------------------------------------------------------------------------------------ allocation
@pytest.mark.parametrize(
    ("sizes", "n", "expected"),
    [
        ([100, 100, 100], 10, [4, 3, 3]),
        ([1, 100, 100], 10, [1, 5, 4]),
        ([2, 3, 50, 50], 40, [2, 3, 18, 17]),
        ([5, 5], 100, [5, 5]),
        ([], 3, []),
    ],
)
def test_balanced_allocation_redistributes_what_small_groups_cannot_fill(
    sizes: list[int], n: int, expected: list[int]
) -> None:
    assert balanced_allocation(sizes, n) == expected


def test_allocations_always_sum_to_n_within_sizes() -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        sizes = rng.integers(0, 30, size=rng.integers(1, 12)).tolist()
        n = int(rng.integers(0, 200))
        for allocate in (balanced_allocation, proportional_allocation):
            counts = allocate(sizes, n)
            assert sum(counts) == min(n, sum(sizes))
            assert all(0 <= c <= s for c, s in zip(counts, sizes, strict=True))
        balanced = balanced_allocation(sizes, n)
        unfilled = [c for c, s in zip(balanced, sizes, strict=True) if c < s]
        assert not unfilled or max(unfilled) - min(unfilled) <= 1  # water level: equal up to one


def test_proportional_allocation_rounds_exactly() -> None:
    assert proportional_allocation([50, 30, 20], 10) == [5, 3, 2]
    assert proportional_allocation([1, 1, 1], 2) == [1, 1, 0]
    assert sum(proportional_allocation([7, 11, 13], 17)) == 17


# --------------------------------------------------------------------------------------------- sampler
def test_random_sampling_is_seeded_exact_and_keeps_order(user_tasks: pd.DataFrame) -> None:
    sampler = DiversitySampler("random", n=50, seed=3)
    first = sampler.sample(user_tasks)
    assert isinstance(first, pd.DataFrame)
    assert len(first) == 50
    assert first.index.is_monotonic_increasing
    pd.testing.assert_frame_equal(first, sampler.sample(user_tasks))
    assert not first.equals(DiversitySampler("random", n=50, seed=4).sample(user_tasks))
    assert len(DiversitySampler("random", n=1000).sample(user_tasks)) == len(user_tasks)


def test_a_dataset_sample_is_a_dataset_with_the_same_rows_as_pandas(user_tasks: pd.DataFrame) -> None:
    dataset = DocumentDataset.from_pandas(user_tasks, npartitions=4)
    for sampler in (
        DiversitySampler("random", n=37, seed=1),
        DiversitySampler("topic_stratified", n=37, topic_field="app"),
    ):
        sampled = sampler.sample(dataset)
        assert isinstance(sampled, DocumentDataset)
        assert sampled.npartitions == 4
        assert sampled.to_pandas()["id"].tolist() == sampler.sample(user_tasks)["id"].tolist()


def test_topic_stratified_proportional_and_equal(user_tasks: pd.DataFrame) -> None:
    sizes = user_tasks["app"].value_counts()
    proportional = DiversitySampler("topic_stratified", n=126, topic_field="app", seed=0).sample(user_tasks)
    counts = proportional["app"].value_counts()
    assert len(proportional) == 126
    for app, size in sizes.items():  # half the data: every app gets half its tasks, rounded
        assert abs(counts.get(app, 0) - size / 2) <= 1
    equal = DiversitySampler("topic_stratified", n=142, topic_field="app", allocation="equal").sample(user_tasks)
    counts = equal["app"].value_counts()
    assert len(equal) == 142
    assert len(counts) == 71
    assert counts.max() <= 3
    assert topic_entropy(equal["app"].tolist()) > topic_entropy(proportional["app"].tolist())


def test_cluster_balanced_sampling_offline_on_a_skewed_pool(skewed_pool: pd.DataFrame) -> None:
    """The acceptance check: the packaged MiniLM embeds the pool (on the dataset's partitions, offline), and
    cluster-balanced sampling covers nearly every distinct item, where random sampling repeats passages."""
    dataset = DocumentDataset.from_pandas(skewed_pool, npartitions=3)
    sampler = DiversitySampler("cluster_balanced", n=40, seed=0)  # default embedder: the packaged MiniLM
    sample = sampler.sample(dataset)
    assert isinstance(sample, DocumentDataset)
    picked = sample.to_pandas()
    assert len(picked) == 40
    assert picked["id"].is_unique
    assert list(picked.columns) == list(skewed_pool.columns)  # the working embedding column is not returned
    at_random = [DiversitySampler("random", n=40, seed=seed).sample(skewed_pool)["item"].nunique() for seed in range(5)]
    assert picked["item"].nunique() >= 36  # measured: 39-40 of 40
    assert picked["item"].nunique() > max(at_random)  # measured: 25-28


def test_coverage_by_number_of_clusters_as_documented(skewed_pool: pd.DataFrame, pool_embeddings: np.ndarray) -> None:
    """docs/diversity.md: samples of 40 (seeds 0-4) cover 39-40 distinct items with k = 40, 19-29 with k = 4 to
    16, and 25-28 at random: few clusters balance only k-means' partition, not the redundancy in the data."""
    with_vectors = skewed_pool.assign(embedding=list(pool_embeddings))

    def covered(strategy: str, **options: Any) -> list[int]:
        return [
            DiversitySampler(strategy, n=40, seed=seed, embedding_field="embedding", **options)
            .sample(with_vectors)["item"]
            .nunique()
            for seed in range(5)
        ]

    many = covered("cluster_balanced", n_clusters=40)
    few = [count for k in (4, 8, 16) for count in covered("cluster_balanced", n_clusters=k)]
    at_random = covered("random")
    assert min(many) >= 39, many
    assert 19 <= min(few) <= max(few) <= 29, few
    assert 25 <= min(at_random) <= max(at_random) <= 28, at_random


def test_cluster_balanced_raises_the_vendi_score(skewed_pool: pd.DataFrame, pool_embeddings: np.ndarray) -> None:
    with_vectors = skewed_pool.assign(embedding=list(pool_embeddings))
    balanced, at_random = [], []
    for seed in range(3):
        sampler = DiversitySampler("cluster_balanced", n=40, seed=seed, embedding_field="embedding")
        balanced.append(vendi_score(np.stack(sampler.sample(with_vectors)["embedding"].tolist())))
        picked = DiversitySampler("random", n=40, seed=seed).sample(with_vectors)
        at_random.append(vendi_score(np.stack(picked["embedding"].tolist())))
    assert min(balanced) > 1.3 * max(at_random)  # measured: ~29.5 vs ~19 effective distinct texts


def test_sampler_configuration_errors() -> None:
    with pytest.raises(ConfigError, match=r"unknown sampling_strategies 'kmeans'; known: .*random"):
        DiversitySampler("kmeans", n=3)
    with pytest.raises(ConfigError, match="topic_field"):
        DiversitySampler("topic_stratified", n=3)
    with pytest.raises(ConfigError):
        DiversitySampler("random", n=-1)


def test_a_registered_strategy_is_usable_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """Strategies come from a registry (plugins add theirs by entry point), not an if-chain."""

    class EveryOtherRow(SamplingStrategy):
        name = "every_other_row_test"

        def groups(self, sampler, column, embedding_field):  # type: ignore[no-untyped-def]
            labels = np.arange(len(column(sampler.text_field))) % 2
            return labels, lambda sizes, n: [min(n, sizes[0]), 0]  # only group 0: the even rows

    # registered for this test only: other tests list the built-in strategies
    monkeypatch.setattr(SAMPLING_STRATEGIES, "_items", dict(SAMPLING_STRATEGIES._items))
    SAMPLING_STRATEGIES.add(EveryOtherRow.name, EveryOtherRow)
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(10)]})
    sample = DiversitySampler("every_other_row_test", n=3, seed=1).sample(frame)
    assert len(sample) == 3
    assert all(index % 2 == 0 for index in sample.index)
    assert "every_other_row_test" in SAMPLING_STRATEGIES.names()


# --------------------------------------------------------------------------------------------- metrics
def test_vendi_score_of_identical_texts_is_one() -> None:
    vectors = Embedder().embed(["The same instruction."] * 6)
    assert vendi_score(vectors) == pytest.approx(1.0, abs=1e-4)
    assert embedding_dispersion(vectors) == pytest.approx(0.0, abs=1e-5)


@pytest.mark.parametrize("n", [1, 7, 384])
def test_vendi_score_of_orthogonal_embeddings_is_n(n: int) -> None:
    assert vendi_score(np.eye(n, 384, dtype=np.float32) * 3.0) == pytest.approx(n, rel=1e-6)


def test_vendi_score_matches_the_n_by_n_definition_for_many_texts() -> None:
    vectors = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)  # n > d: the d x d path
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    eigenvalues = np.clip(np.linalg.eigvalsh(unit @ unit.T / 300), 1e-12, None)
    assert vendi_score(vectors) == pytest.approx(math.exp(-(eigenvalues * np.log(eigenvalues)).sum()), rel=1e-4)
    pairwise = unit @ unit.T
    mean_distance = 1 - (pairwise.sum() - np.trace(pairwise)) / (300 * 299)
    assert embedding_dispersion(vectors) == pytest.approx(mean_distance, rel=1e-4)


def test_distinct_n_and_topic_entropy() -> None:
    texts = ["the cat sat", "The cat ran!"]
    assert distinct_n(texts, 1) == pytest.approx(4 / 6)  # the, cat, sat, ran over 6 tokens
    assert distinct_n(texts, 2) == pytest.approx(3 / 4)  # "the cat" twice
    assert distinct_n([], 2) == 0.0
    assert topic_entropy(["a", "a", "b", "b"]) == pytest.approx(1.0)
    assert topic_entropy(["a"] * 3) == 0.0


def test_compute_diversity_score_on_real_instructions(
    user_tasks: pd.DataFrame, skewed_pool: pd.DataFrame, pool_embeddings: np.ndarray
) -> None:
    tasks = compute_diversity_score(user_tasks.iloc[:100], topic_field="app")  # embeds with the packaged MiniLM
    assert set(tasks) == {
        "n",
        "distinct_1",
        "distinct_2",
        "topic_entropy",
        "n_topics",
        "embedding_dispersion",
        "vendi_score",
    }
    assert tasks["n"] == 100
    assert 0 < tasks["distinct_1"] < tasks["distinct_2"] <= 1
    qa = compute_diversity_score(skewed_pool["text"].iloc[:100].tolist(), embeddings=pool_embeddings[:100])
    assert tasks["vendi_score"] > qa["vendi_score"]  # 100 different tasks vs 20 passages in 5 templates
    assert tasks["embedding_dispersion"] > qa["embedding_dispersion"]
    lexical = compute_diversity_score(["a b", "c d"], topics=["x", "y"], embed=False)
    assert lexical == {"n": 2.0, "distinct_1": 1.0, "distinct_2": 1.0, "topic_entropy": 1.0, "n_topics": 2.0}
    with pytest.raises(ConfigError):
        compute_diversity_score(["a", "b"], embeddings=np.ones((3, 4)))


def test_rouge_l_to_nearest_seed_histogram() -> None:
    seeds = [str(r["instruction"]) for r in _jsonl(SELF_INSTRUCT / "seed_tasks.jsonl")]
    predictions = _jsonl(SELF_INSTRUCT / "user_oriented_instructions.jsonl")[:60]
    scores = rouge_l_to_nearest_seed([str(r["instruction"]) for r in predictions], seeds)
    assert len(scores) == 60
    assert all(0 <= s <= 1 for s in scores)
    assert rouge_l_to_nearest_seed(seeds[:5], seeds) == [1.0] * 5
    counts = histogram(scores, bins=10)
    assert sum(counts.counts) == 60
    assert len(counts.edges) == 11
    assert counts.edges[0] == 0.0
    assert histogram([0.0, 0.5, 1.0], bins=2).counts == [1, 2]
    assert counts.render().count("\n") == 9
