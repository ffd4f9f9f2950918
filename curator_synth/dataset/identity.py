"""Record identity: content keys, content-addressed ids, and the rows that share an id.

Identity never merges different content (DESIGN failure rule 2). A record without an id gets one from its
*whole* content (:func:`content_id` of :func:`content_key`: canonical JSON of every non-null value), so it is
the same on every re-run, in any file order and partitioning. :func:`identify` then keeps one row of each
group of true duplicates (same id, same content), refuses one id given to different content within a file,
and namespaces an id that different files give to different records as ``<file name>:<id>``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from curator_synth.dataset.io import position_error, position_name
from curator_synth.dataset.values import canonical, is_null, json_text

__all__ = ["Identified", "content_id", "content_key", "content_keys", "id_text", "identify"]

_KEY = "__content_key"


def content_key(record: Mapping[Any, Any], exclude: Collection[Any] = ()) -> str:
    """Canonical JSON of a record: its non-null values (canonical, see ``values.canonical``) by column name,
    sorted, without the columns in ``exclude``. Null and missing are the same (a column only some files have)."""
    values = {str(k): canonical(v) for k, v in record.items() if k not in exclude and not is_null(v)}
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def content_keys(frame: pd.DataFrame, exclude: Collection[Any] = ()) -> list[str]:
    """:func:`content_key` of every row of ``frame``, in order."""
    columns = [column for column in frame.columns if column not in exclude]
    return [content_key(record) for record in frame[columns].to_dict("records")]


def content_id(key: str) -> str:
    """The id of a record with this content key: 16 hex digits of its SHA-256."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def id_text(value: Any) -> str | None:
    """An explicit id as text (``0`` -> ``"0"``, ``3.0`` -> ``"3"``, a string as it is), None when null."""
    return None if is_null(value) else json_text(value)


@dataclass(frozen=True)
class Identified:
    """What :func:`identify` made of the records: the rows kept (ids unique), how many true duplicates were
    dropped, and the original id of each kept row whose id was namespaced (by its position in ``frame``)."""

    frame: pd.DataFrame
    duplicates: int = 0
    namespaced: dict[int, str] = field(default_factory=dict)


def identify(frame: pd.DataFrame, *, file_column: str, line_column: str) -> Identified:
    """Make the ``id`` column (text, never null) unique without merging different records.

    ``file_column`` holds each row's source file path and ``line_column`` its 1-based line (row for Parquet);
    neither counts as content. Rows identical in every other column, id included, are true duplicates: the
    first is kept. An id with different content twice in one file is a ``DataFormatError`` naming both lines;
    an id of records in several files becomes ``<file base name>:<id>`` in each of them.
    """
    marked = frame.reset_index(drop=True)
    marked[_KEY] = content_keys(marked, exclude={"id", file_column, line_column})
    repeated = marked.duplicated(["id", _KEY])
    kept = marked.loc[~repeated].reset_index(drop=True)
    _refuse_clashes_within_a_file(kept, file_column, line_column)
    namespaced = _namespace(kept, file_column)
    _refuse_repeated_ids(kept, file_column, line_column)
    return Identified(kept.drop(columns=[_KEY]), int(repeated.sum()), namespaced)


def _refuse_clashes_within_a_file(frame: pd.DataFrame, file_column: str, line_column: str) -> None:
    contents = frame.groupby([file_column, "id"], sort=False)[_KEY].transform("nunique")
    clashing = frame.loc[contents > 1]
    if clashing.empty:
        return
    path, record_id = clashing[file_column].iloc[0], clashing["id"].iloc[0]
    group = clashing.loc[(clashing[file_column] == path) & (clashing["id"] == record_id)]
    first = group.iloc[0]
    other = group.loc[group[_KEY] != first[_KEY]].iloc[0]
    used = f"{position_name(path)} {first[line_column]}"
    raise position_error(
        path, int(other[line_column]), f"id {record_id!r} is also used by {used} with different content"
    )


def _namespace(frame: pd.DataFrame, file_column: str) -> dict[int, str]:
    """Rename, in place, the ids found in more than one file to ``<file base name>:<id>``; their originals."""
    several = frame.groupby("id", sort=False)[file_column].transform("nunique") > 1
    if not several.any():
        return {}
    originals = frame.loc[several, "id"]
    names = [os.path.basename(path) for path in frame.loc[several, file_column]]
    frame.loc[several, "id"] = [f"{name}:{record_id}" for name, record_id in zip(names, originals, strict=True)]
    return {int(position): str(record_id) for position, record_id in originals.items()}


def _refuse_repeated_ids(frame: pd.DataFrame, file_column: str, line_column: str) -> None:
    """A namespaced id that another record already has (two files of one base name, or an id like ``a.jsonl:3``)."""
    repeated = frame.loc[frame["id"].duplicated(keep=False)]
    if repeated.empty:
        return
    pair = repeated.loc[repeated["id"] == repeated["id"].iloc[0]]
    first, second = pair.iloc[0], pair.iloc[1]
    where = f"{first[file_column]} {position_name(first[file_column])} {first[line_column]}"
    raise position_error(
        second[file_column],
        int(second[line_column]),
        f"id {second['id']!r} is also the id of {where} (ids used in several files are namespaced by file name)",
    )
