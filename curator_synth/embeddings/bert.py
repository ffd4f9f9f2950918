"""A sentence-transformers BERT model (all-MiniLM-L6-v2, the default) run with numpy: no torch, no transformers.

Importing torch, transformers and sentence-transformers costs ~7 s here before the first text is embedded, more
than the whole curation job it serves; a 6-layer MiniLM forward pass is a few matrix products that numpy's BLAS
does as fast as torch does on a CPU. This module runs exactly the three modules such a model directory declares
(``modules.json``): the BERT encoder (``model.safetensors``, ``config.json``; the tokenizer from
``tokenizer.json`` through the ``tokenizers`` library), mean pooling over the tokens, and (optionally) L2
normalisation. :func:`supports` says whether a directory is such a model; anything else goes through
sentence-transformers. ``tests/test_embeddings.py`` checks the vectors against sentence-transformers' own.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
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
    """The model of a directory :func:`supports`, loaded once; :meth:`encode` is thread-safe (one at a time:
    numpy's BLAS already uses every core for one batch)."""

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
        """``(len(texts), dimension)`` float32 sentence vectors, in input order; batches of similar lengths."""
        with self._lock:
            encodings = self.tokenizer.encode_batch(list(texts))
        ids = [np.asarray(encoding.ids, dtype=np.int64) for encoding in encodings]
        order = np.argsort([len(row) for row in ids], kind="stable")
        vectors = np.zeros((len(ids), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            vectors[chosen] = self._pooled([ids[i] for i in chosen])
        if normalize or self.normalizes:  # a Normalize module always runs, as in sentence-transformers
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
        return vectors

    def _pooled(self, rows: list[np.ndarray]) -> np.ndarray:
        """Mean of the last hidden states over each row's tokens, for one batch of token id rows."""
        length = max(len(row) for row in rows)
        ids = np.zeros((len(rows), length), dtype=np.int64)
        mask = np.zeros((len(rows), length), dtype=np.float32)
        for number, row in enumerate(rows):
            ids[number, : len(row)] = row
            mask[number, : len(row)] = 1.0
        hidden = self.words[ids] + self.positions[:length][None] + self.token_types[0]
        hidden = _layer_norm(hidden, *self.embedding_norm, self.eps)
        blocked = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)  # padding takes no attention
        for layer in self.layers:
            hidden = self._block(hidden, blocked, layer)
        summed = np.einsum("bld,bl->bd", hidden, mask)
        return summed / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)

    def _block(self, hidden: np.ndarray, blocked: np.ndarray, layer: _Layer) -> np.ndarray:
        """One encoder layer over a ``(batch, length, width)`` batch. The dense products run on the tokens as one
        ``(batch * length, width)`` matrix: a single large GEMM each, not one per sequence."""
        batch, length, width = hidden.shape
        size = width // self.heads
        tokens = hidden.reshape(batch * length, width)
        qkv = (tokens @ layer.qkv + layer.qkv_bias).reshape(batch, length, 3, self.heads, size)
        query, key, value = (qkv[:, :, part].transpose(0, 2, 1, 3) for part in range(3))
        scores = query @ key.transpose(0, 1, 3, 2)
        scores *= np.float32(1.0 / math.sqrt(size))
        scores += blocked
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        attended = (scores @ value).transpose(0, 2, 1, 3).reshape(batch * length, width)
        tokens = _layer_norm(attended @ layer.out + layer.out_bias + tokens, *layer.norm1, self.eps)
        inner = _gelu(tokens @ layer.up + layer.up_bias)
        tokens = _layer_norm(inner @ layer.down + layer.down_bias + tokens, *layer.norm2, self.eps)
        return tokens.reshape(batch, length, width)


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
