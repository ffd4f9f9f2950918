"""NeMo's model-based filters: ``FastTextQualityFilter`` and ``FastTextLangId`` (a fastText model file you give;
needs ``pip install fasttext``), and ``QualityEstimationFilter``, which curator_synth does not run (its COMET and
Cometoid models load their weights from a model hub)."""

from __future__ import annotations

import importlib
import os
from typing import Any

import numpy as np
import pandas as pd

from curator_synth.filters._optional import MissingPackageError, import_optional
from curator_synth.filters.base import DocumentFilter, batched
from curator_synth.nemo.filters.bitext_filter import BitextFilter
from curator_synth.nemo.filters.models.qe_models import QE_PACKAGES

__all__ = ["FastTextLangId", "FastTextQualityFilter", "QualityEstimationFilter"]

_MODELS: dict[str, Any] = {}  # fastText models by path, loaded once per worker process


def _model(path: str) -> Any:
    if path not in _MODELS:
        _MODELS[path] = importlib.import_module("fasttext").load_model(path)
    return _MODELS[path]


def _checked(model_path: str | None, feature: str) -> str:
    if model_path is None:
        raise ValueError(f"{feature} needs model_path: the path of a fastText model")
    if not os.path.isfile(model_path):
        raise FileNotFoundError(f"{feature}: no fastText model at {model_path}")
    import_optional("fasttext", feature)
    return model_path


class FastTextQualityFilter(DocumentFilter):
    """Score each text with a fastText quality classifier (the probability of ``label``) and keep it with a
    Pareto-random draw above ``1 - score``, as NeMo does (``seed`` seeds NumPy's global generator, as NeMo's)."""

    name = "fasttext_quality_filter"

    def __init__(self, model_path: str | None = None, label: str = "__label__hq", alpha: float = 3, seed: int = 42):
        super().__init__()
        self.model_path = _checked(model_path, "FastTextQualityFilter")
        self.label = label
        self.alpha = alpha
        np.random.seed(seed)

    @batched
    def score_document(self, text: pd.Series) -> pd.Series:
        model = _model(self.model_path)

        def score(one: str) -> float:
            labels, probabilities = model.predict(one.replace("\n", " ").replace("__label__", " "))
            return float(probabilities[0]) if labels[0] == self.label else 1.0 - float(probabilities[0])

        return text.map(score).astype("float64")

    @batched
    def keep_document(self, score: pd.Series) -> pd.Series:
        return pd.Series(np.random.pareto(self.alpha, size=len(score)) > 1 - score, index=score.index)


class FastTextLangId(DocumentFilter):
    """Identify each text's language with a fastText model: the score is ``[probability, "EN"]`` (the label's last
    two letters, upper case); texts whose probability is below ``min_langid_score`` are dropped."""

    name = "lang_id"

    def __init__(self, model_path: str | None = None, min_langid_score: float = 0.3) -> None:
        super().__init__()
        self.model_path = _checked(model_path, "FastTextLangId")
        self.min_langid_score = min_langid_score

    @batched
    def score_document(self, text: pd.Series) -> pd.Series:
        model = _model(self.model_path)

        def score(one: str) -> list[float | str]:
            labels, probabilities = model.predict(one.strip().replace("\n", " "), k=1)
            return [float(probabilities[0]), labels[0][-2:].upper()]

        return pd.Series([score(one) for one in text], index=text.index, dtype=object)

    def keep_document(self, score: Any) -> bool:
        return bool(score[0] >= self.min_langid_score)


class QualityEstimationFilter(BitextFilter):
    """NeMo's QE filter (COMET-QE, Cometoid). Not run by curator_synth: its models load their weights from the
    Hugging Face hub, which curator_synth never does at run time. Building one raises a
    :class:`~curator_synth.filters._optional.MissingPackageError` naming the model's package when it is not
    installed, and ``NotImplementedError`` when it is."""

    SUPPORTED_MODELS = tuple(QE_PACKAGES)

    def __init__(self, model_name: str, cutoff: float, mode: str = "always_en_x", gpu: bool = False, **kwargs: Any):
        if model_name not in QE_PACKAGES:
            raise NotImplementedError(f"Only the following models are supported: {list(QE_PACKAGES)}")
        package, message = QE_PACKAGES[model_name]
        try:
            importlib.import_module(package)
        except ImportError as error:
            raise MissingPackageError(package, "QualityEstimationFilter", message=message) from error
        raise NotImplementedError(
            f"QualityEstimationFilter({model_name!r}) is not available in curator_synth: its model loads weights from"
            " a model hub at run time. Score the pairs with the model yourself, then keep them with"
            " curator_synth.nemo.modules.Filter on the score column."
        )

    def score_bitext(self, src: Any, tgt: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def keep_bitext(self, score: Any) -> bool:
        raise NotImplementedError
