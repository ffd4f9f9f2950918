"""FuzzyDuplicates (MinHash-LSH): crafted and real near-duplicates, exactness checks, cluster equality."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import combinations

import dask
import numpy as np
import pandas as pd
import pytest
from data_paths import T0_SAMPLE

from curator_synth.dataset import DocumentDataset
from curator_synth.dedup.exact import ExactDuplicates
from curator_synth.dedup.fuzzy import FuzzyDuplicates, FuzzyDuplicatesConfig
from curator_synth.dedup.lsh import connected_components
from curator_synth.dedup.minhash import MinHasher, char_shingle_hashes, shingle_sets, word_shingle_hashes
from curator_synth.errors import ConfigError

WORDS = [f"w{i}" for i in range(20)]


def _dataset(texts: list[str], npartitions: int = 3) -> DocumentDataset:
    return DocumentDataset.from_pandas(pd.DataFrame({"id": range(len(texts)), "text": texts}), npartitions=npartitions)


def _groups(frame: pd.DataFrame) -> set[frozenset[int]]:
    return {frozenset(int(i) for i in g["id"]) for _, g in frame.groupby("group")}


def _crafted() -> tuple[list[str], set[frozenset[int]]]:
    """Five base texts of 120 random words; each followed by copies with one or two words changed."""
    rng = np.random.default_rng(7)
    texts: list[str] = []
    expected = set()
    for _ in range(5):
        base = [str(w) for w in rng.choice(WORDS, 120)]
        group = [len(texts)]
        texts.append(" ".join(base))
        for edits in (1, 2):
            copy = list(base)
            for position in rng.choice(len(copy), edits, replace=False):
                copy[position] = "CHANGED"
            group.append(len(texts))
            texts.append(" ".join(copy))
        expected.add(frozenset(group))
    texts.append("a short unrelated line")
    texts.append("")
    return texts, expected


def _jaccard(first: np.ndarray, second: np.ndarray) -> float:
    inter = len(np.intersect1d(first, second, assume_unique=True))
    return inter / (len(first) + len(second) - inter)


# ---------------------------------------------------------------------------------------------- kernels
def test_char_shingles_match_python_sets() -> None:
    texts = ["abcdefabcdef", "abc", "", "héllo wörld ✓ héllo", "x" * 7]
    hashes, offsets = char_shingle_hashes(texts, 5)
    for text, distinct in zip(texts, shingle_sets(hashes, offsets), strict=True):
        strings = {text[i : i + 5] for i in range(len(text) - 4)} if len(text) >= 5 else ({text} - {""})
        assert len(distinct) == len(strings)
    again, _ = char_shingle_hashes(texts[3:4], 5)  # independent of the batch it is computed in
    assert np.array_equal(np.unique(again), shingle_sets(hashes, offsets)[3])


def test_word_shingles_and_signature_estimates() -> None:
    texts, _ = _crafted()
    hashes, offsets = word_shingle_hashes(texts[:3], 3)
    sets = shingle_sets(hashes, offsets)
    assert [len(s) for s in sets] == [len({tuple(t.split()[i : i + 3]) for i in range(118)}) for t in texts[:3]]
    signatures = MinHasher(256, 1).signatures(hashes, offsets)
    estimate = (signatures[0] == signatures[2]).mean()
    assert abs(estimate - _jaccard(sets[0], sets[2])) < 0.1


def test_connected_components() -> None:
    labels = connected_components(7, np.array([5, 1, 3, 6]), np.array([4, 0, 1, 4]))
    assert labels.tolist() == [0, 0, 2, 0, 4, 4, 4]


# ------------------------------------------------------------------------------------------------ groups
@pytest.mark.parametrize(
    "options",
    [{}, {"false_positive_check": True}, {"word_ngrams": 2}, {"num_buckets": 16, "hashes_per_bucket": 8}],
)
def test_crafted_near_duplicates(options: dict[str, object]) -> None:
    texts, expected = _crafted()
    found = FuzzyDuplicates(**options).identify_duplicates(_dataset(texts)).to_pandas()
    assert _groups(found) == expected
    assert list(found.columns) == ["id", "group"]
    assert found["group"].tolist() == sorted(found["group"])  # numbered by smallest id


def test_remove_keeps_exactly_one_representative_per_group() -> None:
    texts, expected = _crafted()
    dataset = _dataset(texts)
    dedup = FuzzyDuplicates()
    kept = set(dedup.remove(dataset).to_pandas()["id"])
    for group in expected:
        assert kept & group == {min(group)}
    assert len(kept) == len(texts) - sum(len(g) - 1 for g in expected)
    assert set(dedup.remove(dataset, dedup.identify_duplicates(dataset)).to_pandas()["id"]) == kept
    assert set(FuzzyDuplicates(perform_removal=True)(dataset).to_pandas()["id"]) == kept


def _t0_subset() -> list[str]:
    files = sorted(T0_SAMPLE.glob("quoref_*.jsonl"))[:3] + sorted(T0_SAMPLE.glob("adversarial_qa_*.jsonl"))[:2]
    return [json.loads(line)["prompt"] for path in files for line in path.read_text().splitlines()[:60]]


def test_real_t0_subset_against_exact_jaccard() -> None:
    """Same passages under different templates: groups cover >= 95 % of the pairs with exact char-5-gram
    Jaccard >= 0.8, and with the check every group's pairs are near-duplicates of the exact graph."""
    texts = _t0_subset()
    sets = shingle_sets(*char_shingle_hashes(texts, 5))
    true_pairs = {(i, j) for i, j in combinations(range(len(texts)), 2) if _jaccard(sets[i], sets[j]) >= 0.8}
    assert len(true_pairs) > 50
    labels = connected_components(len(texts), *np.array(sorted(true_pairs)).T)
    for options in ({}, {"false_positive_check": True}):
        found = FuzzyDuplicates(**options).identify_duplicates(_dataset(texts, 4)).to_pandas()
        predicted = {pair for group in _groups(found) for pair in combinations(sorted(group), 2)}
        assert len(predicted & true_pairs) >= 0.95 * len(true_pairs)
        outside = [pair for pair in predicted if labels[pair[0]] != labels[pair[1]]]
        assert len(outside) <= (0 if options else 0.01 * len(predicted))


# ---------------------------------------------------------------------------------------------- config
@pytest.mark.parametrize(
    "kwargs",
    [
        {"char_ngrams": 5, "word_ngrams": 2},
        {"char_ngrams": 0},
        {"num_buckets": 0},
        {"hashes_per_bucket": -1},
        {"num_hashes": 100},
        {"jaccard_threshold": 0.0},
        {"jaccard_threshold": 1.5},
        {"seed": -1},
        {"num_anchors": 0},
        {"text_field": ""},
        {"no_such_option": 1},
    ],
)
def test_bad_parameters_raise_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        FuzzyDuplicates(**kwargs)


def test_config_object_and_defaults() -> None:
    config = FuzzyDuplicatesConfig(num_buckets=10, hashes_per_bucket=5, num_hashes=50)
    assert FuzzyDuplicates(config).config is config
    default = FuzzyDuplicatesConfig()
    assert (default.char_ngrams, default.word_ngrams, default.num_hashes) == (5, None, 270)
    assert default.collision_probability(0.9) > 0.98
    assert default.collision_probability(0.95) > 0.9999
    assert default.collision_probability(0.3) < 1e-5
    # docs/dedup.md's figures: the defaults (18 x 15) against NeMo Curator's 20 x 13
    nemo = FuzzyDuplicatesConfig(num_buckets=20, hashes_per_bucket=13)
    figures = [(config.collision_probability(0.8), config.collision_probability(0.9)) for config in (default, nemo)]
    assert figures == [(pytest.approx(0.48, abs=0.005), pytest.approx(0.984, abs=5e-4)),
                       (pytest.approx(0.68, abs=0.005), pytest.approx(0.997, abs=5e-4))]  # fmt: skip
    with pytest.raises(ConfigError):
        FuzzyDuplicates(config, seed=1)
    with pytest.raises(ConfigError, match="lacks"):
        FuzzyDuplicates().identify_duplicates(DocumentDataset.from_pandas(pd.DataFrame({"id": [1]})))


# ------------------------------------------------------------------------------------- local vs cluster
@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, host="127.0.0.1"
    )
    with distributed.Client(cluster) as active:
        yield active
    cluster.close()


def test_local_scheduler_and_local_cluster_give_identical_groups(client: object) -> None:
    texts = _t0_subset()
    crafted, _ = _crafted()
    dataset = _dataset([*texts, *crafted, texts[0].upper(), crafted[0] + "  "], 4)  # + two exact duplicates
    runs = {
        "fuzzy": lambda: FuzzyDuplicates().identify_duplicates(dataset).to_pandas(),
        "checked": lambda: FuzzyDuplicates(false_positive_check=True).identify_duplicates(dataset).to_pandas(),
        "exact": lambda: ExactDuplicates().identify_duplicates(dataset).to_pandas().sort_values(["group", "id"]),
    }
    for name, run in runs.items():
        on_cluster = run().reset_index(drop=True)
        with dask.config.set(scheduler="threads"):
            local = run().reset_index(drop=True)
        pd.testing.assert_frame_equal(local, on_cluster, obj=name)
        assert len(local) > 0
