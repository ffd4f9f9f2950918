"""Record values seen as JSON: their JSON type, a canonical JSON-ready form, and their JSON text.

Readers hand over values in several shapes for one JSON value (a JSON Lines list is a Python list, a Parquet
list a numpy array; an integer column with a null becomes floats), so identity and text conversion go
through :func:`canonical`, which maps each shape to one form.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from curator_synth.dataset.io import position_error

__all__ = ["canonical", "checked_text", "is_null", "json_text", "json_type", "plain", "would_stringify"]

#: The JSON type of a value, by Python type (checked in order: ``bool`` before ``int``, which it subclasses).
_JSON_TYPES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (str, "string"),
    ((bool, np.bool_), "boolean"),
    ((int, float, np.integer, np.floating), "number"),
    ((list, tuple, np.ndarray), "list"),
    (dict, "object"),
)


#: The JSON types a text field may hold (null reads as "").
_TEXT_TYPES = ("string", "null")


def is_null(value: Any) -> bool:
    """None, NaN, ``pd.NA`` and ``pd.NaT`` (what a missing key or an empty cell reads as); False for lists."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def json_type(value: Any) -> str:
    """``"string"``, ``"number"``, ``"boolean"``, ``"list"``, ``"object"`` or ``"null"``; another Python type's name
    (e.g. ``"Timestamp"``) for values JSON has no type for."""
    if is_null(value):
        return "null"
    for types, name in _JSON_TYPES:
        if isinstance(value, types):
            return name
    return type(value).__name__


def plain(value: Any) -> Any:
    """A JSON-ready value: NaN/NA/NaT become null, numpy arrays and scalars Python lists and scalars,
    timestamps ISO strings (nested lists and dicts too)."""
    if isinstance(value, float):
        return None if math.isnan(value) else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return plain(value.tolist())
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def canonical(value: Any) -> Any:
    """:func:`plain`, with numbers compared by value: a float holding an integer becomes that integer (pandas
    turns an integer column with a null into floats, so ``1`` and ``1.0`` must not differ)."""
    value = plain(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def json_text(value: Any) -> str:
    """A string as it is; anything else as its JSON text (``["a", "b"]``, ``{"x": 1}``, ``3``, ``true``),
    non-ASCII characters kept and never Python's repr."""
    if isinstance(value, str):
        return value
    return json.dumps(canonical(value), ensure_ascii=False, default=str)


def would_stringify(values: pd.Series, dtype: Any) -> bool:
    """Whether casting ``values`` to ``dtype`` would turn non-string values into their Python repr (a string
    dtype, inferred from the first records, meeting a list or a number later): the readers then keep them."""
    if not isinstance(pd.api.types.pandas_dtype(dtype), pd.StringDtype):
        return False
    return any(not isinstance(value, str) and not is_null(value) for value in values)


def checked_text(
    frame: pd.DataFrame, fields: Iterable[str], *, coerce: bool, file_column: str, line_column: str, hint: str = ""
) -> pd.DataFrame:
    """``frame`` with its text ``fields`` checked: a value neither a string nor null is a ``DataFormatError``
    naming the file (``file_column``), the line or row (``line_column``), the field and its JSON type, plus
    ``hint``; with ``coerce`` it becomes its :func:`json_text` instead."""
    for field in fields:
        if field not in frame.columns or isinstance(frame[field].dtype, pd.StringDtype):
            continue  # a string column holds only strings and nulls
        types = [json_type(value) for value in frame[field]]
        wrong = [position for position, kind in enumerate(types) if kind not in _TEXT_TYPES]
        if not wrong:
            continue
        if not coerce:
            first = wrong[0]
            article = "an" if types[first][0] in "aeiou" else "a"
            reason = f"field {field!r} is {article} {types[first]}, expected a string" + (f" ({hint})" if hint else "")
            raise position_error(frame[file_column].iat[first], int(frame[line_column].iat[first]), reason)
        frame = frame.copy()
        frame[field] = [
            json_text(v) if kind not in _TEXT_TYPES else v for v, kind in zip(frame[field], types, strict=True)
        ]
    return frame
