"""A sentence-transformers BERT model (all-MiniLM-L6-v2, the default) run with numpy: no torch, no transformers.

Importing torch, transformers and sentence-transformers costs ~7 s here before the first text is embedded, more
than the whole curation job it serves; a 6-layer MiniLM forward pass is a few matrix products that numpy's BLAS
does as fast as torch does on a CPU, and with one batch per core the rest (softmax, GELU) keeps up too
(``benchmarks/embedding_throughput.py``: 1.1-1.5x sentence-transformers' texts per second here).

This module runs exactly the three modules such a model directory declares (``modules.json``): the BERT encoder
(``model.safetensors``, ``config.json``; the tokenizer from ``tokenizer.json`` through the ``tokenizers`` library),
mean pooling over the tokens, and (optionally) L2 normalisation. :func:`supports` says whether a directory is such a
model; anything else goes through sentence-transformers. ``tests/test_embeddings.py`` checks the vectors against
sentence-transformers' own.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BertEncoder", "supports"]

_MODULES = ("sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling")
_NORMALIZE = "sentence_transformers.models.Normalize"


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def supports(directory: Path) -> bool:
    """Whether ``directory`` is a sentence-transformers model this module runs: a BERT encoder (absolute
    positions, GELU) with safetensors weights and a ``tokenizer.json``, then mean pooling (then Normalize)."""
    try:
        modules = [module["type"] for module in _read(directory / "modules.json")]
        config = _read(directory / "config.json")
        pooling = _read(directory / "1_Pooling" / "config.json")
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return (
        tuple(modules[:2]) == _MODULES
        and modules[2:] in ([], [_NORMALIZE])
        and config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and pooling.get("pooling_mode_mean_tokens") is True
        and not any(
            value for key, value in pooling.items() if key.startswith("pooling_mode_") and "mean_tokens" not in key
        )
        and (directory / "model.safetensors").is_file()
        and (directory / "tokenizer.json").is_file()
    )


@dataclass(frozen=True)
class _Layer:
    qkv: np.ndarray  # (hidden, 3 * hidden): query, key and value projections side by side
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


class BertEncoder:
    """The model of a directory :func:`supports`, loaded once; :meth:`encode` is thread-safe."""

    def __init__(self, directory: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = _read(directory / "config.json")
        sentence_config = directory / "sentence_bert_config.json"
        settings = _read(sentence_config) if sentence_config.is_file() else {}
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_length = int(settings.get("max_seq_length") or config.get("max_position_embeddings", 512))
        self.normalizes = any(module["type"] == _NORMALIZE for module in _read(directory / "modules.json"))
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_length)
        self.tokenizer.no_padding()
        stored = load_file(str(directory / "model.safetensors"))
        weights = {name.removeprefix("bert."): value for name, value in stored.items()}
        self.words = weights["embeddings.word_embeddings.weight"]
        self.positions = weights["embeddings.position_embeddings.weight"]
        self.token_types = weights["embeddings.token_type_embeddings.weight"]
        self.embedding_norm = (weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])
        self.layers = [self._layer(weights, f"encoder.layer.{i}.") for i in range(int(config["num_hidden_layers"]))]
        self.dimension = int(self.words.shape[1])
        self._lock = threading.Lock()

    @staticmethod
    def _layer(weights: dict[str, np.ndarray], prefix: str) -> _Layer:
        def dense(name: str) -> tuple[np.ndarray, np.ndarray]:  # stored (out, in) like torch: use its transpose
            return np.ascontiguousarray(weights[f"{prefix}{name}.weight"].T), weights[f"{prefix}{name}.bias"]

        (query, query_bias), (key, key_bias), (value, value_bias) = (
            dense(f"attention.self.{name}") for name in ("query", "key", "value")
        )
        out, out_bias = dense("attention.output.dense")
        up, up_bias = dense("intermediate.dense")
        down, down_bias = dense("output.dense")

        def norm(name: str) -> tuple[np.ndarray, np.ndarray]:
            return weights[f"{prefix}{name}.LayerNorm.weight"], weights[f"{prefix}{name}.LayerNorm.bias"]

        qkv = np.concatenate([query, key, value], axis=1)
        qkv_bias = np.concatenate([query_bias, key_bias, value_bias])
        return _Layer(
            qkv, qkv_bias, out, out_bias, norm("attention.output"), up, up_bias, down, down_bias, norm("output")
        )

    # ---------------------------------------------------------------------------------------------- encode
    def encode(self, texts: Sequence[str], batch_size: int = 64, normalize: bool = True) -> np.ndarray:
        """``(len(texts), dimension)`` float32 sentence vectors, in input order.

        No padding: the texts are sorted by token count and their tokens packed into one matrix, so every dense
        layer is one large GEMM over real tokens, and attention runs per group of texts of the same length.
        ``batch_size`` texts' worth of tokens (times 64, at least 4096) go through the layers at a time, which
        bounds the memory; one such pass runs on each core at once."""
        with self._lock:
            encodings = self.tokenizer.encode_batch(list(texts))
        rows = [np.asarray(encoding.ids, dtype=np.int64) for encoding in encodings]
        order = np.argsort([len(row) for row in rows], kind="stable")
        vectors = np.zeros((len(rows), self.dimension), dtype=np.float32)
        total = sum(len(row) for row in rows)
        budget = min(max(4096, 64 * batch_size), -(-total // _CORES))  # tokens per pass; a pass for every core
        passes, start = [], 0
        while start < len(order):
            end, tokens = start, 0
            while end < len(order) and (end == start or tokens + len(rows[order[end]]) <= budget):
                tokens += len(rows[order[end]])
                end += 1
            passes.append(order[start:end])
            start = end

        def run(chosen: np.ndarray) -> None:
            vectors[chosen] = self._pooled([rows[i] for i in chosen])

        _on_every_core(run, passes)
        if normalize or self.normalizes:  # a Normalize module always runs, as in sentence-transformers
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
        return vectors

    def _pooled(self, rows: list[np.ndarray]) -> np.ndarray:
        """Mean of the last hidden states over each row's tokens; ``rows`` sorted by length."""
        lengths = np.array([len(row) for row in rows])
        ids = np.concatenate(rows)
        positions = np.concatenate([np.arange(length) for length in lengths])
        hidden = self.words[ids] + self.positions[positions] + self.token_types[0]
        hidden = _layer_norm(hidden, *self.embedding_norm, self.eps)
        # groups of rows of one length: (first token, rows, length), contiguous in the packed matrix
        groups, offset = [], 0
        for length in np.unique(lengths):
            count = int((lengths == length).sum())
            groups.append((offset, count, int(length)))
            offset += count * int(length)
        for layer in self.layers:
            hidden = self._block(hidden, groups, layer)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        return np.add.reduceat(hidden, starts, axis=0) / lengths[:, None].astype(np.float32)

    def _block(self, hidden: np.ndarray, groups: list[tuple[int, int, int]], layer: _Layer) -> np.ndarray:
        """One encoder layer over packed tokens ``(tokens, width)``; ``groups`` say which rows attend together."""
        width = hidden.shape[1]
        size = width // self.heads
        qkv = hidden @ layer.qkv
        qkv += layer.qkv_bias
        attended = np.empty_like(hidden)
        scale = np.float32(1.0 / math.sqrt(size))
        for first, count, length in groups:
            block = qkv[first : first + count * length].reshape(count, length, 3, self.heads, size)
            query, key, value = (block[:, :, part].transpose(0, 2, 1, 3) for part in range(3))
            scores = query @ key.transpose(0, 1, 3, 2)
            scores *= scale
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            out = (scores @ value).transpose(0, 2, 1, 3)
            attended[first : first + count * length] = out.reshape(count * length, width)
        mixed = attended @ layer.out
        mixed += layer.out_bias
        mixed += hidden
        hidden = _layer_norm(mixed, *layer.norm1, self.eps)
        inner = hidden @ layer.up
        inner += layer.up_bias
        _gelu(inner)
        output = inner @ layer.down
        output += layer.down_bias
        output += hidden
        return _layer_norm(output, *layer.norm2, self.eps)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + np.float32(eps)) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, ``x * Φ(x)``, with erf from Abramowitz & Stegun 7.1.26 (error < 1.5e-7), in place on
    ``x``, in cache-sized blocks with scratch buffers made once: it is memory-bound, and a fresh temporary per
    operation (each a page-faulting allocation) would cost more than the matrix products around it."""
    flat = x.reshape(-1, x.shape[-1])
    rows = min(_BLOCK, len(flat))
    scratch = [np.empty((rows, flat.shape[1]), dtype=np.float32) for _ in range(3)]
    for start in range(0, len(flat), _BLOCK):
        block = flat[start : start + _BLOCK]
        _gelu_block(block, *(buffer[: len(block)] for buffer in scratch))
    return x


def _on_every_core(work: Any, pieces: list[Any]) -> None:
    """``work(piece)`` for every piece, one thread per core, each calling BLAS single-threaded (restored after).

    Half of BERT's time is outside the matrix products (softmax, GELU, layer norm), in numpy loops that use one
    core; and BLAS's own threads, which spin a while after each product, would slow them. Whole passes side by
    side use every core for everything. numpy releases the GIL in its loops and BLAS calls."""
    if _CORES == 1 or len(pieces) == 1:
        for piece in pieces:
            work(piece)
        return
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=_CORES, thread_name_prefix="bert")
    with _blas_single_threaded():
        futures = [_POOL.submit(work, piece) for piece in pieces]
        wait(futures)  # every pass done (or failed) before BLAS gets its threads back
    for future in futures:
        future.result()


@contextmanager
def _blas_single_threaded() -> Iterator[None]:
    """BLAS on one thread while any encode runs its passes. The limit is process-wide, and encodes overlap (Dask
    runs partitions on threads), so the first to start sets it and the last to finish restores the original."""
    global _BLAS_USERS, _BLAS_LIMIT
    with _POOL_LOCK:
        if _BLAS_USERS == 0:
            from threadpoolctl import threadpool_limits

            _BLAS_LIMIT = threadpool_limits(limits=1, user_api="blas")
        _BLAS_USERS += 1
    try:
        yield
    finally:
        with _POOL_LOCK:
            _BLAS_USERS -= 1
            if _BLAS_USERS == 0:
                _BLAS_LIMIT.restore_original_limits()


_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_BLAS_USERS = 0  # encodes running passes now
_BLAS_LIMIT: Any = None
_BLOCK = 256  # rows of the FFN's hidden layer per block: 256 x 1536 float32 = 1.5 MiB
_A1, _A2, _A3, _A4, _A5 = (np.float32(c) for c in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))
_P, _SCALE = np.float32(0.3275911), np.float32(1 / math.sqrt(2))


def _gelu_block(x: np.ndarray, z: np.ndarray, t: np.ndarray, u: np.ndarray) -> None:
    np.abs(x, out=z)
    z *= _SCALE  # |x| / sqrt(2)
    np.multiply(z, _P, out=t)
    t += 1.0
    np.reciprocal(t, out=t)  # t = 1 / (1 + p |x| / sqrt(2))
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)  # exp(-x^2 / 2)
    np.multiply(t, _A1, out=u)
    for coefficient in (_A2, _A3, _A4, _A5):  # Horner: u = t (a5 + t (a4 + t (a3 + t (a2 + t a1))))
        u += coefficient
        u *= t
    u *= z  # 1 - erf(|x| / sqrt(2))
    np.subtract(1.0, u, out=u)
    np.copysign(u, x, out=u)  # erf(x / sqrt(2))
    u += 1.0
    u *= 0.5  # Φ(x)
    x *= u
