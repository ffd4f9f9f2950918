"""NeMo's ``DocumentSplitter`` and ``DocumentJoiner``: split each document on a separator into one row per segment
(numbered in ``segment_id_field``), and join the segments of each document (same ``document_id_field``) back,
in segment order, optionally into pieces of at most ``max_length``."""

from __future__ import annotations

from typing import Any

import pandas as pd

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError

__all__ = ["DocumentJoiner", "DocumentSplitter"]


def _require(dataset: DocumentDataset, *fields: str) -> None:
    missing = [field for field in fields if field not in dataset.df.columns]
    if missing:
        raise ConfigError(f"fields {missing} not in the dataset's columns {list(dataset.df.columns)}")


class DocumentSplitter:
    """Split ``text_field`` on ``separator``: each segment becomes a row with the document's other columns and its
    number in ``segment_id_field`` (from 0). Give documents a unique id first to join them back. The dataset passed
    in is changed and returned, as NeMo's is."""

    def __init__(self, separator: str, text_field: str = "text", segment_id_field: str = "segment_id") -> None:
        if not separator:
            raise ConfigError("DocumentSplitter needs a non-empty separator")
        self.separator = separator
        self.text_field = text_field
        self.segment_id_field = segment_id_field

    def __call__(self, dataset: DocumentDataset) -> DocumentDataset:
        _require(dataset, self.text_field)
        meta = dataset.df._meta.assign(**{self.segment_id_field: pd.Series(dtype="int64")})
        dataset.df = dataset.df.map_partitions(self._split, meta=meta)
        return dataset

    def _split(self, part: pd.DataFrame) -> pd.DataFrame:
        rows = part.assign(**{self.text_field: part[self.text_field].str.split(self.separator, regex=False)})
        rows = rows.explode(self.text_field)
        rows[self.segment_id_field] = rows.groupby(level=0).cumcount().astype("int64")
        return rows


class DocumentJoiner:
    """Join the segments of each document (rows with the same ``document_id_field``, in ``segment_id_field`` order)
    with ``separator``; the other columns are the first segment's. With ``max_length`` and ``length_field`` (both or
    neither), segments are joined only while the piece's length (the lengths plus one per separator) stays within
    ``max_length``: a document may give several rows, numbered in ``segment_id_field``. A document's segments must
    be in one partition (as :class:`DocumentSplitter` leaves them)."""

    def __init__(
        self,
        separator: str,
        text_field: str = "text",
        segment_id_field: str = "segment_id",
        document_id_field: str = "id",
        drop_segment_id_field: bool = True,
        max_length: int | None = None,
        length_field: str | None = None,
    ) -> None:
        if (max_length is None) != (length_field is None):
            raise ValueError("max_length and length_field go together: give both or neither")
        self.separator = separator
        self.text_field = text_field
        self.segment_id_field = segment_id_field
        self.document_id_field = document_id_field
        self.drop_segment_id_field = drop_segment_id_field
        self.max_length = max_length
        self.length_field = length_field

    def __call__(self, dataset: DocumentDataset) -> DocumentDataset:
        fields = [self.text_field, self.segment_id_field, self.document_id_field]
        _require(dataset, *fields, *([self.length_field] if self.length_field else []))
        meta = dataset.df._meta
        if self.drop_segment_id_field:
            meta = meta.drop(columns=[self.segment_id_field])
        dataset.df = dataset.df.map_partitions(self._join, list(meta.columns), meta=meta)
        return dataset

    def _join(self, part: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        ordered = part.sort_values([self.document_id_field, self.segment_id_field], kind="stable")
        rows = [row for _, group in ordered.groupby(self.document_id_field, sort=False) for row in self._pieces(group)]
        joined = pd.DataFrame(rows, columns=part.columns) if rows else part.iloc[:0]
        joined = joined.astype(part.dtypes.to_dict()) if rows else joined
        return joined[columns].reset_index(drop=True)

    def _pieces(self, group: pd.DataFrame) -> list[dict[str, Any]]:
        records = group.to_dict(orient="records")
        pieces: list[dict[str, Any]] = []
        for record in records:
            text = str(record[self.text_field])
            if pieces and self._fits(pieces[-1], record):
                last = pieces[-1]
                last[self.text_field] = f"{last[self.text_field]}{self.separator}{text}"
                if self.length_field:
                    last[self.length_field] = last[self.length_field] + record[self.length_field] + 1
                continue
            pieces.append({**record, self.text_field: text, self.segment_id_field: len(pieces)})
        return pieces

    def _fits(self, piece: dict[str, Any], record: dict[str, Any]) -> bool:
        if self.max_length is None or self.length_field is None:
            return True
        return bool(piece[self.length_field] + record[self.length_field] + 1 <= self.max_length)
