"""Benchmark (evaluation-set) texts and their word n-grams, the input of decontamination.

Texts are normalised as NeMo Curator does before its n-grams are taken: lower-cased, punctuation removed (not
replaced: ``well-known`` is one word, ``wellknown``) and split on whitespace. Punctuation is every character that
is neither a word character nor whitespace, plus ``_``: exactly Python's ``string.punctuation`` on ASCII text,
and Unicode punctuation and symbols (curly quotes, dashes) besides.

A benchmark text of at least ``ngram_size`` words gives all its ``ngram_size``-word windows; a shorter one of at
least ``min_ngram_size`` words gives its whole word sequence as one n-gram; a text shorter still gives nothing
(a two-word answer such as "Paris, France" would match half of any corpus). Nothing here downloads: benchmarks
come from in-memory strings or from local JSON Lines, Parquet or plain-text files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from curator_synth._files import jsonl_objects
from curator_synth.errors import ConfigError, DataFormatError

__all__ = ["BENCHMARK_SUFFIXES", "Benchmark", "benchmark_ngrams", "ngram_words", "read_benchmark_texts"]

_PUNCTUATION = re.compile(r"[^\w\s]|_")
_TOKEN = re.compile(r"\S+")

#: The file kinds a benchmark is read from, by suffix: one JSON object per line, a Parquet table, or one text per
#: line (blank lines skipped).
BENCHMARK_SUFFIXES: dict[str, tuple[str, ...]] = {
    "jsonl": (".jsonl", ".json", ".ndjson"),
    "parquet": (".parquet",),
    "text": (".txt",),
}


def ngram_words(text: str) -> list[str]:
    """The normalised words of ``text``: lower-cased, punctuation removed, split on whitespace."""
    return _PUNCTUATION.sub("", text.lower()).split()


def word_spans(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """The words of :func:`ngram_words` and each one's ``(start, end)`` character span in ``text`` itself (a token
    made only of punctuation is no word, as there)."""
    words: list[str] = []
    spans: list[tuple[int, int]] = []
    for token in _TOKEN.finditer(text):
        for word in ngram_words(token.group()):  # one word, or none; two only where lower() makes whitespace
            words.append(word)
            spans.append(token.span())
    return words, spans


def benchmark_ngrams(texts: Iterable[str], ngram_size: int = 13, min_ngram_size: int = 8) -> set[str]:
    """The n-grams (words joined by one space) of ``texts``, by the rules in the module's docstring."""
    if not 1 <= min_ngram_size <= ngram_size:
        raise ConfigError(f"need 1 <= min_ngram_size <= ngram_size, got {min_ngram_size} and {ngram_size}")
    found: set[str] = set()
    for text in texts:
        words = ngram_words(text)
        if len(words) < min_ngram_size:
            continue
        if len(words) < ngram_size:
            found.add(" ".join(words))
        for start in range(len(words) - ngram_size + 1):
            found.add(" ".join(words[start : start + ngram_size]))
    return found


@dataclass(frozen=True)
class Benchmark:
    """A named benchmark: its texts (questions, answers, passages: whatever a model could have memorised).

    ``Benchmark("squad", texts)`` from strings, :meth:`from_file` from a local file. ``source`` names where
    the texts came from, for messages.
    """

    name: str
    texts: tuple[str, ...]
    source: str = "<texts>"

    def __post_init__(self) -> None:
        if not self.name or ":" in self.name:
            raise ConfigError(f"a benchmark needs a name without ':' (removal reasons hold it), got {self.name!r}")
        if not self.texts:
            raise ConfigError(f"benchmark {self.name!r} ({self.source}) has no texts")

    @classmethod
    def from_texts(cls, name: str, texts: Iterable[str]) -> Benchmark:
        texts = tuple(texts)
        bad = [number for number, text in enumerate(texts) if not isinstance(text, str)]
        if bad:
            raise ConfigError(f"benchmark {name!r}: texts[{bad[0]}] is not a string")
        return cls(name, texts)

    @classmethod
    def from_file(
        cls, name: str, path: str | os.PathLike[str], field: str | Sequence[str] = "text", fmt: str | None = None
    ) -> Benchmark:
        """Read :func:`read_benchmark_texts` of ``path`` (``field``: the column or key, or several)."""
        return cls(name, tuple(read_benchmark_texts(path, field, fmt)), os.fspath(path))

    def ngrams(self, ngram_size: int = 13, min_ngram_size: int = 8) -> set[str]:
        """This benchmark's n-grams; none at all (every text too short) is a ``ConfigError``."""
        found = benchmark_ngrams(self.texts, ngram_size, min_ngram_size)
        if not found:
            raise ConfigError(
                f"benchmark {self.name!r} ({self.source}): none of its {len(self.texts)} texts has "
                f"{min_ngram_size} words or more, so it gives no n-gram to look for"
            )
        return found


def benchmark_format(path: str, fmt: str | None = None) -> str:
    """The :data:`BENCHMARK_SUFFIXES` kind of ``path`` (``fmt`` overrides the suffix)."""
    if fmt is not None:
        if fmt not in BENCHMARK_SUFFIXES:
            raise ConfigError(f"benchmark format must be one of {sorted(BENCHMARK_SUFFIXES)}, got {fmt!r}")
        return fmt
    for name, suffixes in BENCHMARK_SUFFIXES.items():
        if path.lower().endswith(suffixes):
            return name
    known = ", ".join(suffix for suffixes in BENCHMARK_SUFFIXES.values() for suffix in suffixes)
    raise ConfigError(f"{path}: unknown benchmark file kind (known suffixes: {known}; or give its format)")


def read_benchmark_texts(
    path: str | os.PathLike[str], field: str | Sequence[str] = "text", fmt: str | None = None
) -> list[str]:
    """The texts of a benchmark file: ``field`` of every JSON Lines record or Parquet row (a string, or a list of
    strings such as several answers; several fields give several texts per record), or every non-blank line of a
    ``.txt`` file. A missing file, a line that is not a JSON object, a missing field or a value of another type is
    a :class:`~curator_synth.errors.DataFormatError` naming the file and the line."""
    path = os.fspath(path)
    kind = benchmark_format(path, fmt)
    fields = [field] if isinstance(field, str) else list(field)
    if not fields or not all(isinstance(name, str) and name for name in fields):
        raise ConfigError(f"{path}: field must be a column name or a list of them, got {field!r}")
    if not os.path.isfile(path):
        raise DataFormatError(path, None, "no such benchmark file")
    if kind == "text":
        with open(path, encoding="utf-8", errors="strict") as lines:
            try:
                return [line.strip() for line in lines if line.strip()]
            except UnicodeDecodeError as error:
                raise DataFormatError(path, None, f"not UTF-8 text: {error}") from None
    rows = jsonl_objects(path) if kind == "jsonl" else _parquet_rows(path, fields)
    texts: list[str] = []
    for line, row in rows:
        for name in fields:
            texts.extend(_field_texts(path, kind, line, row, name))
    return texts


def _parquet_rows(path: str, fields: list[str]) -> Iterator[tuple[int, dict[str, object]]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as error:  # pyarrow raises several types for a file that is not Parquet
        raise DataFormatError(path, None, f"not a readable Parquet file: {error}") from None
    missing = [name for name in fields if name not in table.column_names]
    if missing:
        raise DataFormatError(path, None, f"no column {missing[0]!r}; it has {table.column_names}")
    yield from enumerate(table.select(fields).to_pylist(), start=1)


def _field_texts(path: str, kind: str, line: int, row: dict[str, object], name: str) -> list[str]:
    if name not in row:
        raise _row_error(path, kind, line, f"no field {name!r} (the record has {sorted(row)})")
    value = row[name]
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise _row_error(path, kind, line, f"field {name!r} is {type(value).__name__}, not a string or a list of strings")


def _row_error(path: str, kind: str, line: int, reason: str) -> DataFormatError:
    """``a.jsonl:7: reason`` for a JSON Lines file, ``a.parquet: row 7: reason`` for a Parquet one (``.line`` is 7)."""
    if kind == "jsonl":
        return DataFormatError(path, line, reason)
    error = DataFormatError(path, None, f"row {line}: {reason}")
    error.line = line
    return error
