"""``export()``: write a dataset as one fine-tuning file (JSON Lines or Parquet), atomically.

The partitions are converted on the Dask workers and written by the dataset writer
(:func:`curator_synth.dataset.writers.write`, itself atomic) into a hidden staging directory next to the
target (``.<name>.export-<id>/``). The client then joins the part files, in partition order, into one
temporary file in that directory and renames it onto the target with ``os.replace``. The staging directory
is removed whatever happens, so the target is either absent, its previous version, or the complete new file.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

import dask
import dask.dataframe as dd
import pandas as pd
import pyarrow as pa

from curator_synth.dataset import DocumentDataset, writers
from curator_synth.errors import ConfigError
from curator_synth.exports.formats import EXPORT_FORMATS, ExportFields, ExportFormat

__all__ = ["export"]


def export(
    data: DocumentDataset | pd.DataFrame,
    path: str | os.PathLike[str],
    format: str = "messages",
    *,
    metadata: str | Sequence[str] | None = None,
    trace: bool = False,
    **fields: str,
) -> int:
    """Write ``data`` to the file ``path`` in an export ``format``; returns the number of records written.

    ``format`` names an entry of :data:`~curator_synth.exports.EXPORT_FORMATS`: ``"messages"`` (OpenAI chat),
    ``"sharegpt"``, ``"alpaca"``, ``"dpo"`` or ``"parquet"`` (all columns). ``fields`` rename the columns a
    format reads (:class:`~curator_synth.exports.ExportFields`: ``instruction``, ``response``, ``input``,
    ``system``, ``messages``, ``prompt``, ``chosen``, ``rejected``). ``metadata`` names columns (e.g.
    ``"provenance"``) copied unchanged into every JSON record. The parent directory is created if needed; an
    existing file at ``path`` is replaced only once the new one is complete. ``trace``: a response whose row has
    a reasoning (the ``reasoning`` column a reasoning model's answers leave) is written with it before it,
    ``<think>\n…\n</think>\n\n`` (messages, sharegpt, alpaca; a conversation column is written as it is).
    """
    if not isinstance(trace, bool):
        raise ConfigError(f"trace must be true or false, got {trace!r}")
    exporter = EXPORT_FORMATS.get(format)(trace=trace)
    names = ExportFields.from_kwargs(fields)
    dataset = _as_dataset(data)
    columns = list(dataset.df.columns)
    exporter.check(columns, names)
    kept = _metadata_columns(metadata, columns, exporter)

    target = Path(path)
    if target.is_dir():
        raise ConfigError(f"export writes one file; {os.fspath(target)!r} is a directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.export-{uuid.uuid4().hex[:12]}"
    try:
        converted = _converted(dataset, exporter, names, kept)
        parts = writers.write(converted, staging / "parts", exporter.file_format)
        joined = staging / "joined.tmp"
        count = _join(parts, joined, exporter.file_format)
        os.replace(joined, target)
    except pa.ArrowException as exc:  # e.g. a struct column holding only empty dicts
        raise ConfigError(f"cannot write {os.fspath(target)!r} as {exporter.file_format}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return count


def _as_dataset(data: DocumentDataset | pd.DataFrame) -> DocumentDataset:
    if isinstance(data, DocumentDataset):
        return data
    if isinstance(data, pd.DataFrame):
        return DocumentDataset.from_pandas(data.reset_index(drop=True))
    raise ConfigError(f"export takes a DocumentDataset or a pandas DataFrame, got {type(data).__name__}")


def _metadata_columns(
    metadata: str | Sequence[str] | None, columns: Sequence[str], exporter: ExportFormat
) -> list[str]:
    kept = [metadata] if isinstance(metadata, str) else list(metadata or [])
    missing = [name for name in kept if name not in columns]
    if missing:
        raise ConfigError(f"metadata column {missing[0]!r} is not in the dataset (columns: {list(columns)})")
    clashing = [name for name in kept if name in exporter.keys]
    if clashing:
        raise ConfigError(f"metadata column {clashing[0]!r} has the name of a {exporter.name!r} record key")
    if len(set(kept)) != len(kept):
        raise ConfigError(f"metadata names a column twice: {kept}")
    return kept


def _converted(dataset: DocumentDataset, exporter: ExportFormat, names: ExportFields, kept: list[str]) -> dd.DataFrame:
    df = dataset.df
    # dask's "convert-string" would turn the object columns holding lists/dicts into strings.
    with dask.config.set({"dataframe.convert-string": False}):
        if exporter.file_format == "parquet":
            return df
        meta = exporter.convert(df._meta, names, kept)
        return df.map_partitions(exporter.convert, names, kept, meta=meta)


def _join(parts: Sequence[Path], target: Path, file_format: str) -> int:
    """Concatenate the part files in order into ``target``; returns the number of records."""
    if file_format == "jsonl":
        count = 0
        with open(target, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    for line in f:
                        out.write(line)
                        count += 1
            out.flush()
            os.fsync(out.fileno())
        return count
    return _join_parquet(parts, target)


def _join_parquet(parts: Sequence[Path], target: Path) -> int:
    """One row group per part, streamed. Parts whose schemas differ (a column all-null in one partition, a
    struct with other keys) are cast to their unified schema, without the pandas metadata that no longer fits."""
    import pyarrow.parquet as pq

    schemas = [pq.read_schema(part) for part in parts]
    if all(schema.equals(schemas[0], check_metadata=True) for schema in schemas):
        schema = schemas[0]
    else:
        schema = pa.unify_schemas([s.remove_metadata() for s in schemas], promote_options="permissive")
    count = 0
    with pq.ParquetWriter(target, schema) as writer:
        for part in parts:
            table = pq.read_table(part)
            if not table.schema.equals(schema, check_metadata=True):
                table = _conform(table, schema)
            writer.write_table(table)
            count += table.num_rows
    return count


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = [
        table.column(field.name) if field.name in table.column_names else pa.nulls(table.num_rows, field.type)
        for field in schema
    ]
    return pa.Table.from_arrays(columns, names=schema.names).cast(schema)
