"""Exports: write a curated dataset as a fine-tuning file (OpenAI messages, ShareGPT, Alpaca, DPO, Parquet).

``export(dataset, "train.jsonl", format="sharegpt")`` converts and writes atomically and returns the number of
records. Formats are registered by name in :data:`EXPORT_FORMATS`; :class:`ExportFields` names the columns.
"""

from curator_synth.exports.formats import (
    EXPORT_FORMATS,
    AlpacaFormat,
    DpoFormat,
    ExportFields,
    ExportFormat,
    MessagesFormat,
    ParquetFormat,
    ShareGptFormat,
)
from curator_synth.exports.write import export

__all__ = [
    "EXPORT_FORMATS",
    "AlpacaFormat",
    "DpoFormat",
    "ExportFields",
    "ExportFormat",
    "MessagesFormat",
    "ParquetFormat",
    "ShareGptFormat",
    "export",
]
