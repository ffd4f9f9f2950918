"""Export formats: how one dataset row becomes one record of a fine-tuning file.

Every format is a small :class:`ExportFormat` registered by name in :data:`EXPORT_FORMATS`, so recipes and the
CLI can say ``format: sharegpt``. A format checks the dataset's columns up front (:meth:`ExportFormat.check`,
a :class:`~curator_synth.errors.ConfigError` naming the missing field) and then converts pandas partitions
(:meth:`ExportFormat.convert`) on the Dask workers; ``curator_synth.exports.write`` does the writing.

Column names are configurable through :class:`ExportFields`; the records written always use the format's own
key names (``messages``, ``conversations``, ``instruction``/``input``/``output``, ``prompt``/``chosen``/``rejected``).

Texts are written without the whitespace around them: completion models start most answers with ``"\n\n"``, and a
fine-tuning file that keeps it teaches the model to start so. Whitespace inside a text is kept as it is.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from typing import Any, ClassVar, Literal

import pandas as pd

from curator_synth.clients.reasoning import with_trace
from curator_synth.errors import ConfigError, ConversationFormatError
from curator_synth.records import prompt_text
from curator_synth.registry import Registry

__all__ = [
    "EXPORT_FORMATS",
    "AlpacaFormat",
    "DpoFormat",
    "ExportFields",
    "ExportFormat",
    "MessagesFormat",
    "ParquetFormat",
    "ShareGptFormat",
]

FileFormat = Literal["jsonl", "parquet"]
Row = Mapping[str, Any]  # one dataset row, column -> value
Record = dict[str, Any]  # one output record, key -> JSON-ready value

#: ShareGPT's speaker names for the chat roles (``human``/``gpt`` are accepted as roles too).
SHAREGPT_ROLES: Mapping[str, str] = {
    "system": "system",
    "user": "human",
    "human": "human",
    "assistant": "gpt",
    "gpt": "gpt",
}


@dataclass(frozen=True)
class ExportFields:
    """The dataset's column names for each part of a record (``export(..., response="output")`` renames one).

    ``input`` and ``system`` are optional columns: used when present, and a missing value in a row means none.
    ``messages`` holds multi-turn conversations (lists of ``{"role", "content"}``); when that column exists the
    chat formats use it instead of ``instruction``/``response``. ``reasoning`` (a reasoning model's reasoning,
    kept by the ``responses`` stage) is read only by an export with ``trace=True``.
    """

    instruction: str = "instruction"
    response: str = "response"
    input: str = "input"
    system: str = "system"
    messages: str = "messages"
    prompt: str = "prompt"
    chosen: str = "chosen"
    rejected: str = "rejected"
    reasoning: str = "reasoning"

    @classmethod
    def from_kwargs(cls, overrides: Mapping[str, str]) -> ExportFields:
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            raise ConfigError(f"unknown export field(s) {unknown}; the fields are {known}")
        for name, value in overrides.items():
            if not isinstance(value, str) or not value:
                raise ConfigError(f"export field {name!r} must be a column name, got {value!r}")
        return cls(**overrides)


# ------------------------------------------------------------------------------------------- values
def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _optional_text(row: Mapping[str, Any], column: str, columns: Sequence[str]) -> str | None:
    """The row's value in an optional column as text, stripped; ``None`` when the column is absent or the value
    missing or blank."""
    if column not in columns:
        return None
    value = row[column]
    if _is_missing(value):
        return None
    return str(value).strip() or None


def _required_text(row: Mapping[str, Any], column: str, position: Any) -> str:
    value = row[column]
    if _is_missing(value):
        raise ConfigError(f"row {position}: column {column!r} has no value")
    return str(value).strip()


def _as_list(value: Any) -> list[Any]:
    """A list from a list, tuple or numpy array (Parquet gives arrays for list columns)."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ConversationFormatError(f"expected a list of messages, got {type(value).__name__}")


def _messages(value: Any, position: Any) -> list[dict[str, Any]]:
    """The row's conversation as plain ``{"role", "content", ...}`` dicts, checked."""
    try:
        items = _as_list(value)
    except ConversationFormatError as exc:
        raise ConversationFormatError(f"row {position}: {exc}") from None
    messages: list[dict[str, Any]] = []
    for index, message in enumerate(items):
        if not isinstance(message, Mapping) or "role" not in message or "content" not in message:
            raise ConversationFormatError(
                f"row {position}, turn {index}: expected a dict with 'role' and 'content', got {message!r:.80}"
            )
        kept = {key: item for key, item in message.items() if not _is_missing(item)}
        if isinstance(kept.get("content"), str):
            kept["content"] = kept["content"].strip()
        messages.append(kept)
    if not messages:
        raise ConversationFormatError(f"row {position}: the conversation is empty")
    return messages


# ------------------------------------------------------------------------------------------- formats
class ExportFormat(ABC):
    """One output format. Subclasses set ``name``, ``keys`` and ``needs`` (and ``file_format`` if not JSON
    Lines) and implement :meth:`record`; :meth:`convert` may be overridden to work on a whole partition."""

    name: ClassVar[str]
    file_format: ClassVar[FileFormat] = "jsonl"
    #: The keys of every record written (metadata columns come after them).
    keys: ClassVar[tuple[str, ...]] = ()
    #: The :class:`ExportFields` whose columns the format reads ...
    needs: ClassVar[tuple[str, ...]] = ()
    #: ... unless the dataset has the column of this field instead (conversations for the chat formats).
    alternative: ClassVar[str | None] = None

    def __init__(self, trace: bool = False) -> None:
        #: Whether the response carries its reasoning as a trace: ``<think>\n…\n</think>\n\n`` before it.
        self.trace = trace

    def response(self, row: Row, columns: Sequence[str], fields: ExportFields, position: Any) -> str:
        """The row's response text; with :attr:`trace`, its reasoning (if any) before it in ``<think>`` tags."""
        text = _required_text(row, fields.response, position)
        reasoning = _optional_text(row, fields.reasoning, columns) if self.trace else None
        return with_trace(reasoning, text) if reasoning is not None else text

    def check(self, columns: Sequence[str], fields: ExportFields) -> None:
        """Raise :class:`ConfigError` naming the first column this format needs and the dataset lacks."""
        if self.alternative is not None and getattr(fields, self.alternative) in columns:
            return
        for name in self.needs:
            column = getattr(fields, name)
            if column not in columns:
                instead = f" (or a {getattr(fields, self.alternative)!r} column)" if self.alternative else ""
                raise ConfigError(
                    f"format {self.name!r} needs column {column!r}{instead}, which the dataset does not have"
                    f" (columns: {list(columns)}); if it has another name, pass {name}='<column>' to export()"
                )

    def convert(self, frame: pd.DataFrame, fields: ExportFields, metadata: Sequence[str]) -> pd.DataFrame:
        """The records of one partition as a frame with columns ``keys + metadata`` (runs on the workers)."""
        # Only the columns a format can read are converted to Python objects (not, e.g., embeddings).
        wanted = dict.fromkeys([*astuple(fields), *metadata])
        columns = [column for column in frame.columns if column in wanted]
        out: list[dict[str, Any]] = []
        for position, row in zip(frame.index, frame[columns].to_dict(orient="records"), strict=True):
            record = self.record(row, columns, fields, position)
            out.append(record | {name: row[name] for name in metadata})
        names = [*self.keys, *metadata]
        result = pd.DataFrame({name: pd.Series([r[name] for r in out], dtype=object) for name in names})
        result.index = frame.index
        return result

    @abstractmethod
    def record(self, row: Row, columns: Sequence[str], fields: ExportFields, position: Any) -> Record:
        """One output record (the keys of :attr:`keys`) from one row."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(trace={self.trace})"


EXPORT_FORMATS: Registry[type[ExportFormat]] = Registry("export_formats")


class _ChatFormat(ExportFormat):
    """Formats holding a conversation: from the ``messages`` column, else from instruction/input/response."""

    needs = ("instruction", "response")
    alternative = "messages"

    def conversation(
        self, row: Mapping[str, Any], columns: Sequence[str], fields: ExportFields, position: Any
    ) -> list[dict[str, Any]]:
        if fields.messages in columns:
            return _messages(row[fields.messages], position)
        messages: list[dict[str, Any]] = []
        system = _optional_text(row, fields.system, columns)
        if system is not None:
            messages.append({"role": "system", "content": system})
        instruction = _required_text(row, fields.instruction, position)
        messages.append(
            {"role": "user", "content": prompt_text(instruction, _optional_text(row, fields.input, columns))}
        )
        messages.append({"role": "assistant", "content": self.response(row, columns, fields, position)})
        return messages


@EXPORT_FORMATS.register("messages")
class MessagesFormat(_ChatFormat):
    """OpenAI chat fine-tuning JSONL: ``{"messages": [{"role", "content"}, ...]}``.

    Single-turn rows become [system], user (instruction, then input after a blank line), assistant.
    """

    name = "messages"
    keys = ("messages",)

    def record(self, row: Row, columns: Sequence[str], fields: ExportFields, position: Any) -> Record:
        return {"messages": self.conversation(row, columns, fields, position)}


@EXPORT_FORMATS.register("sharegpt")
class ShareGptFormat(_ChatFormat):
    """ShareGPT JSONL: ``{"conversations": [{"from": "system"|"human"|"gpt", "value": ...}, ...]}``."""

    name = "sharegpt"
    keys = ("conversations",)

    def record(self, row: Row, columns: Sequence[str], fields: ExportFields, position: Any) -> Record:
        turns = []
        for index, message in enumerate(self.conversation(row, columns, fields, position)):
            speaker = SHAREGPT_ROLES.get(str(message["role"]))
            if speaker is None:
                raise ConversationFormatError(
                    f"row {position}, turn {index}: ShareGPT has no speaker for role {message['role']!r}"
                    f" (known roles: {sorted(SHAREGPT_ROLES)})"
                )
            turns.append({"from": speaker, "value": message["content"]})
        return {"conversations": turns}


@EXPORT_FORMATS.register("alpaca")
class AlpacaFormat(ExportFormat):
    """Alpaca JSONL: ``{"instruction", "input", "output"}`` (``input`` is ``""`` when there is none)."""

    name = "alpaca"
    keys = ("instruction", "input", "output")

    needs = ("instruction", "response")

    def record(self, row: Row, columns: Sequence[str], fields: ExportFields, position: Any) -> Record:
        return {
            "instruction": _required_text(row, fields.instruction, position),
            "input": _optional_text(row, fields.input, columns) or "",
            "output": self.response(row, columns, fields, position),
        }


@EXPORT_FORMATS.register("dpo")
class DpoFormat(ExportFormat):
    """Preference pairs as JSONL: ``{"prompt", "chosen", "rejected"}``; values are copied as they are
    (strings, or conversations as lists of messages), which TRL's ``DPOTrainer`` reads either way."""

    name = "dpo"
    keys = ("prompt", "chosen", "rejected")
    needs = ("prompt", "chosen", "rejected")

    def record(self, row: Row, columns: Sequence[str], fields: ExportFields, position: Any) -> Record:
        record = {}
        for key, column in zip(self.keys, (fields.prompt, fields.chosen, fields.rejected), strict=True):
            value = row[column]
            if _is_missing(value):
                raise ConfigError(f"row {position}: column {column!r} has no value")
            record[key] = value if isinstance(value, str) else _as_plain(value)
        return record


def _as_plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return _as_plain(value.tolist())
    if isinstance(value, Mapping):
        return {k: _as_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_plain(v) for v in value]
    return value


@EXPORT_FORMATS.register("parquet")
class ParquetFormat(ExportFormat):
    """Every column, as it is, in one Parquet file (field names and ``metadata`` do not apply)."""

    name = "parquet"
    file_format = "parquet"

    def convert(self, frame: pd.DataFrame, fields: ExportFields, metadata: Sequence[str]) -> pd.DataFrame:
        return frame

    def record(self, row: Row, columns: Sequence[str], fields: ExportFields, position: Any) -> Record:
        return dict(row)
