"""Per-extension rules for source files (StarCoder's): ``PerExtensionFilter`` reads the thresholds of one
(language, extension) from a table and drops files with too long lines, too few alphanumeric characters or too
few letters.

The table is a CSV file in the format of the BigCode/StarCoder per-extension table (the one NeMo Curator uses):
one row per ``language`` and ``extension``, with the columns ``Include`` (``1`` to keep the extension's files at
all), ``Long_line_threshold`` (the longest line allowed; with it, the mean line length may be 100 at most),
``Alphanum_threshold`` (the least share of alphanumeric characters) and ``Alpha filter`` (the least share of
letters). An empty cell means no such rule. curator_synth ships no table: pass yours as ``metadata_file``.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from typing import Any

from curator_synth.errors import ConfigError
from curator_synth.filters.base import register_filter
from curator_synth.filters.thresholds import _AtLeast

__all__ = ["ExtensionRules", "PerExtensionFilter", "load_extension_rules"]

#: The mean line length allowed when the table gives a longest-line threshold (StarCoder's rule).
MAX_MEAN_LINE_LENGTH = 100
_COLUMNS = ("language", "extension", "Include", "Long_line_threshold", "Alphanum_threshold", "Alpha filter")


@dataclass(frozen=True)
class ExtensionRules:
    """The rules for one (language, extension); ``None`` where the table has no such rule."""

    include: bool
    max_line_length: int | None
    max_mean_line_length: float | None
    min_alphanum_ratio: float | None
    min_alpha_ratio: float | None


def load_extension_rules(path: str | os.PathLike[str], language: str) -> dict[str, ExtensionRules]:
    """The rules of every extension of ``language`` in the table at ``path``, by extension."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [column for column in _COLUMNS if column not in (reader.fieldnames or [])]
            if missing:
                raise ConfigError(f"{os.fspath(path)}: the per-extension table lacks the columns {missing}")
            rows = [row for row in reader if row["language"] == language]
    except FileNotFoundError as error:
        raise ConfigError(f"PerExtensionFilter: no per-extension table at {os.fspath(path)}") from error
    if not rows:
        raise ConfigError(f"{os.fspath(path)}: no rules for the language {language!r}")
    return {row["extension"]: _rules(row, path) for row in rows}


def _rules(row: dict[str, str], path: str | os.PathLike[str]) -> ExtensionRules:
    def number(column: str, kind: type[float] | type[int]) -> Any:
        cell = (row[column] or "").strip()
        try:
            return kind(cell) if cell else None
        except ValueError as error:
            where = f"{os.fspath(path)}: {row['language']}/{row['extension']}"
            raise ConfigError(f"{where}: {column} is {cell!r}, not a number") from error

    max_line = number("Long_line_threshold", int)
    return ExtensionRules(
        include=(row["Include"] or "").strip() == "1",
        max_line_length=max_line,
        max_mean_line_length=MAX_MEAN_LINE_LENGTH if max_line else None,
        min_alphanum_ratio=number("Alphanum_threshold", float),
        min_alpha_ratio=number("Alpha filter", float),
    )


def table_language(lang: str) -> str:
    """A dataset's language name as the table spells it (``C#`` -> ``c-sharp``, ``Visual Basic`` ->
    ``visual-basic``)."""
    return {"C#": "c-sharp", "F#": "f-sharp"}.get(lang, lang.lower().replace(" ", "-"))


@register_filter
class PerExtensionFilter(_AtLeast):
    """Keep files of ``lang`` with ``extension`` that pass the table's rules for them (score 1; 0 drops).

    ``extension`` is written as in the table (``"cpp"``; ``""`` or ``None`` for files without one). A (language,
    extension) the table does not list is a :class:`~curator_synth.errors.ConfigError` here.
    """

    name = "per_extension_filter"

    def __init__(self, lang: str, extension: str | None, metadata_file: str | os.PathLike[str]) -> None:
        super().__init__()
        self.lang = lang
        self.extension = extension or ""
        self.metadata_file = os.fspath(metadata_file)
        self._limit = 1
        rules = load_extension_rules(self.metadata_file, table_language(lang))
        if self.extension not in rules:
            raise ConfigError(
                f"{self.metadata_file} has no rules for {lang!r} files with the extension {self.extension!r};"
                f" it knows {sorted(rules)}"
            )
        self.rules = rules[self.extension]

    @staticmethod
    def _line_statistics(source: str) -> tuple[int, float]:
        """``(longest line, mean line length)`` in characters, newlines left out."""
        lengths = [len(line) for line in source.split("\n")]
        return max(lengths), sum(lengths) / len(lengths)

    def score_document(self, text: Any) -> int:
        source, rules = str(text), self.rules
        if not rules.include:
            return 0
        longest, mean = self._line_statistics(source)
        size = max(len(source), 1)
        failed = (
            (rules.max_line_length is not None and longest > rules.max_line_length)
            or (rules.max_mean_line_length is not None and mean > rules.max_mean_line_length)
            or (
                rules.min_alphanum_ratio is not None and sum(map(str.isalnum, source)) / size < rules.min_alphanum_ratio
            )
            or (rules.min_alpha_ratio is not None and sum(map(str.isalpha, source)) / size < rules.min_alpha_ratio)
        )
        return 0 if failed else 1
