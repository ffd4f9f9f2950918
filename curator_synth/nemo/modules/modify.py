"""NeMo's ``Modify``: rewrite a text column with a modifier's ``modify_document`` (a function of one text, or,
marked ``@batched``, of a Series of texts)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError
from curator_synth.filters.base import is_batched

__all__ = ["Modify"]


class Modify:
    """Replace ``text_field`` by ``modifier.modify_document`` of it, in the dataset passed in (as NeMo does), and
    return that dataset. ``modifier`` is any object with ``modify_document`` (NeMo's ``DocumentModifier``s)."""

    def __init__(self, modifier: Any, text_field: str = "text") -> None:
        if not callable(getattr(modifier, "modify_document", None)):
            raise ConfigError(f"Modify needs an object with modify_document(text), got {type(modifier).__name__}")
        self.modifier = modifier
        self.text_field = text_field

    def __call__(self, dataset: DocumentDataset) -> DocumentDataset:
        if self.text_field not in dataset.df.columns:
            raise ConfigError(f"text field {self.text_field!r} not in the dataset's columns {list(dataset.df.columns)}")
        column = dataset.df[self.text_field]
        meta = pd.Series(dtype=object, name=self.text_field)
        if is_batched(self.modifier.modify_document):
            dataset.df[self.text_field] = column.map_partitions(self._batch, meta=meta)
        else:
            dataset.df[self.text_field] = column.map_partitions(self._each, meta=meta)
        return dataset

    def _batch(self, texts: pd.Series) -> pd.Series:
        result = self.modifier.modify_document(texts)
        if len(result) != len(texts):
            raise TypeError(f"a @batched modify_document must return one text per row ({len(texts)})")
        return pd.Series(list(result), index=texts.index, dtype=object, name=self.text_field)

    def _each(self, texts: pd.Series) -> pd.Series:
        modified = [self.modifier.modify_document(text) for text in texts]
        return pd.Series(modified, index=texts.index, dtype=object, name=self.text_field)
