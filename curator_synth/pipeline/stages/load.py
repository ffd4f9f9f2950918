"""The ``load`` stage: records from JSON Lines and Parquet files, and the record shape every stage shares.

Every record carries ``id``, ``instruction``, ``input``, ``response``, ``source`` and ``provenance`` (a JSON
string: Parquet-safe). A loaded record without an id gets one from its whole content (the same on a re-run);
explicit ids are kept as text, and the load stage never lets one id stand for two different records
(``curator_synth.dataset.identity``): identical rows are dropped and counted (``duplicate_id``), an id used by
two different records of one file is an error naming both lines, and ids shared across files are namespaced
by the file (``<file>:<id>``, the original kept in ``provenance.load``). Every record's ``provenance.load`` names
the file and line it came from. Non-string text fields are an error
naming file, line and field unless ``coerce: true``; lines skipped with ``on_bad_lines: skip`` are counted.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd
from pydantic import Field, field_validator

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError, CuratorSynthError
from curator_synth.pipeline.context import RunContext
from curator_synth.pipeline.stages.base import Stage, StageOptions, StageOutput, register_stage

__all__ = ["RECORD_COLUMNS", "TEXT_FIELDS", "LoadOptions", "LoadStage", "normalise_records"]

RECORD_COLUMNS = ("id", "instruction", "input", "response", "source", "provenance")
TEXT_FIELDS = ("instruction", "input", "response")
#: Bookkeeping columns of the load stage (each record's file path and 1-based line or row); never content.
FILE_COLUMN, LINE_COLUMN = "__load_file", "__load_line"


def normalise_records(frame: pd.DataFrame, source: str | None = None, exclude: Sequence[str] = ()) -> pd.DataFrame:
    """The pipeline's record columns: text fields filled (null -> ``""``, any other non-string as its JSON text,
    never Python's repr), ``source`` filled with ``source`` where missing, ``provenance`` a JSON string, ``id``
    text. A row without an id gets the content id of all its columns but ``exclude`` (bookkeeping columns).
    Callers that must not convert values check them first, as the load stage does."""
    from curator_synth.dataset.identity import content_id, content_keys, id_text
    from curator_synth.dataset.values import is_null, json_text

    frame = frame.copy()
    for column in TEXT_FIELDS:
        values = frame[column] if column in frame.columns else [None] * len(frame)
        frame[column] = pd.Series(["" if is_null(v) else json_text(v) for v in values], index=frame.index, dtype=str)
    frame["source"] = frame["source"].fillna(source or "") if "source" in frame.columns else source or ""
    if "provenance" not in frame.columns:
        frame["provenance"] = "{}"
    frame["provenance"] = [_provenance_text(p) for p in frame["provenance"]]
    ids: list[str | None] = [id_text(v) for v in frame["id"]] if "id" in frame.columns else [None] * len(frame)
    missing = [position for position, value in enumerate(ids) if value is None]
    if missing:
        keys = content_keys(frame.iloc[missing], exclude={"id", *exclude})
        for position, key in zip(missing, keys, strict=True):
            ids[position] = content_id(key)
    frame["id"] = pd.Series(ids, index=frame.index, dtype=str)
    rest = [column for column in frame.columns if column not in RECORD_COLUMNS]
    return frame[list(RECORD_COLUMNS) + rest]


def _provenance_text(value: Any) -> str:
    from curator_synth.dataset.values import is_null, plain

    if is_null(value):
        return "{}"
    return value if isinstance(value, str) else json.dumps(plain(value), default=str)


# ------------------------------------------------------------------------------------------------- load
class LoadOptions(StageOptions):
    """``coerce``: turn non-string text fields (lists, objects, numbers, booleans) into their JSON text instead
    of refusing them."""

    path: str | list[str]
    rename: dict[str, str] = Field(default_factory=dict)
    columns: list[str] | None = None
    source: str | None = None
    source_from_filename: str | None = None
    limit: int | None = Field(None, ge=1)
    on_bad_lines: Literal["error", "skip"] = "error"
    files_per_partition: int | None = Field(None, ge=1)
    coerce: bool = False

    @field_validator("source_from_filename")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                if re.compile(value).groups != 1:
                    raise ValueError("needs exactly one (group) capturing the source name")
            except re.error as error:
                raise ValueError(f"not a regular expression: {error}") from None
        return value

    @field_validator("rename")
    @classmethod
    def _distinct_targets(cls, value: dict[str, str]) -> dict[str, str]:
        targets: dict[str, str] = {}
        for column, target in value.items():
            if target in targets:
                raise ValueError(f"{targets[target]!r} and {column!r} would both become {target!r}")
            targets[target] = column
        return value


@register_stage
class LoadStage(Stage[LoadOptions]):
    """Read records from JSON Lines and Parquet files (paths relative to the recipe; a directory: every such
    file in it); ``rename`` maps source columns to the record columns; ``source_from_filename`` (a regex with
    one group) names each record's source. Ids: see the module docstring; true duplicates (identical rows) are
    dropped and counted as ``duplicate_id``, lines skipped with ``on_bad_lines: skip`` as ``bad_line``."""

    name = "load"
    Options = LoadOptions
    first = True

    def check(self, ctx: RunContext) -> None:
        """Every path gives at least one supported, readable file (Parquet: a readable footer), no two files
        share a base name, and ``source_from_filename`` matches at least one file name."""
        from curator_synth.dataset.io import check_readable

        options = self.options
        files = self._files(ctx)
        for path in files:
            check_readable(path)
        pattern = options.source_from_filename
        if pattern and not any(re.search(pattern, os.path.basename(path)) for path in files):
            names = ", ".join(os.path.basename(path) for path in files[:5])
            raise ConfigError(f"source_from_filename: {pattern!r} matches none of the file names ({names})")

    def preview(self, n: int) -> dict[str, Any]:
        return {"limit": min(self.options.limit or n, n)}

    def fingerprint(self, ctx: RunContext) -> dict[str, Any]:
        """The files read (name, size, modification time): an edited input is loaded again."""
        try:
            files = self._files(ctx)
        except CuratorSynthError:
            return {}  # reported by check() and run()
        return {"files": [(path, os.stat(path).st_size, os.stat(path).st_mtime_ns) for path in files]}

    def _files(self, ctx: RunContext) -> list[str]:
        """The files the paths give (resolved against the recipe), checked to have distinct base names: ids
        and provenance name a record's file by its base name."""
        from curator_synth.dataset.io import SUPPORTED_SUFFIXES, resolve_input_files

        options = self.options
        paths = [options.path] if isinstance(options.path, str) else options.path
        try:
            files = resolve_input_files([str(ctx.config.resolve(path)) for path in paths], SUPPORTED_SUFFIXES)
        except ConfigError as error:
            raise ConfigError(f"path: {error}") from None
        seen: dict[str, str] = {}
        for path in files:
            other = seen.setdefault(os.path.basename(path), path)
            if other != path:
                raise ConfigError(f"path: two input files are named {os.path.basename(path)!r} ({other}, {path})")
        return files

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        from curator_synth.dataset.identity import identify
        from curator_synth.dataset.values import checked_text

        options = self.options
        files = self._files(ctx)
        loaded = DocumentDataset.read_files(
            files,
            add_filename=FILE_COLUMN,
            add_line_number=LINE_COLUMN,
            columns=options.columns,
            on_bad_lines=options.on_bad_lines,
            files_per_partition=options.files_per_partition or 1,
        )
        frame = loaded.to_pandas().rename(columns=options.rename).reset_index(drop=True)
        frame[FILE_COLUMN] = frame[FILE_COLUMN].map({os.path.basename(path): path for path in files})
        if options.source_from_filename:
            pattern = re.compile(options.source_from_filename)
            frame["source"] = [_group(pattern, os.path.basename(path)) for path in frame[FILE_COLUMN]]
        if options.limit:
            frame = frame.head(options.limit)
        frame = checked_text(frame, TEXT_FIELDS, coerce=options.coerce, file_column=FILE_COLUMN,
                             line_column=LINE_COLUMN, hint="set coerce: true on the load stage to convert")  # fmt: skip
        frame = normalise_records(frame, options.source, exclude=(FILE_COLUMN, LINE_COLUMN))
        identified = identify(frame, file_column=FILE_COLUMN, line_column=LINE_COLUMN)
        frame = _with_load_provenance(identified.frame, identified.namespaced)
        frame = frame.drop(columns=[FILE_COLUMN, LINE_COLUMN])
        skipped = loaded.read_report().bad_lines if options.on_bad_lines == "skip" else 0
        counts = {"duplicate_id": identified.duplicates, "bad_line": skipped}
        rejections = {reason: n for reason, n in counts.items() if n}
        partitions = max(1, min(ctx.partitions, len(frame)))
        return StageOutput(
            DocumentDataset.from_pandas(frame, npartitions=partitions), {"load": rejections} if rejections else {}
        )


def _with_load_provenance(frame: pd.DataFrame, namespaced: dict[int, str]) -> pd.DataFrame:
    """Every record's ``provenance.load``: the file (base name) and line (row for Parquet) it was read from, and
    its original id where the id was namespaced. A record that already had a ``load`` entry (records exported by
    an earlier run) keeps it as ``provenance.load.earlier``."""
    from curator_synth.pipeline.tasks import parsed_provenance

    files = [os.path.basename(path) for path in frame[FILE_COLUMN]]
    lines = [int(line) for line in frame[LINE_COLUMN]]
    texts = []
    for position, (provenance, file, line) in enumerate(zip(frame["provenance"], files, lines, strict=True)):
        origin: dict[str, object] = {"file": file, "line": line}
        if position in namespaced:
            origin = {"id": namespaced[position], **origin}
        if provenance == "{}":  # the common case, without a JSON round trip
            texts.append(json.dumps({"load": origin}, ensure_ascii=False))
            continue
        found = parsed_provenance(provenance)
        if "load" in found:
            origin["earlier"] = found["load"]
        texts.append(json.dumps({**found, "load": origin}, default=str, ensure_ascii=False))
    return frame.assign(provenance=texts)


def _group(pattern: re.Pattern[str], name: str) -> str:
    match = pattern.search(name)
    return match.group(1) if match else name
