"""NeMo's ``ParallelDataset``: a :class:`~curator_synth.nemo.datasets.DocumentDataset` of translation pairs (columns
``src``, ``tgt``, ``src_lang``, ``tgt_lang``), read from and written to "simple bitext": two plain-text files with the
same number of lines, line *i* of one the translation of line *i* of the other (``data.de`` / ``data.en``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import cast

import pandas as pd

from curator_synth.errors import ConfigError
from curator_synth.nemo.datasets.doc_dataset import DocumentDataset

__all__ = ["ParallelDataset"]

_COLUMNS = ("src", "tgt", "src_lang", "tgt_lang")


class ParallelDataset(DocumentDataset):
    def persist(self) -> ParallelDataset:
        return ParallelDataset(self.df.persist())

    @classmethod
    def read_simple_bitext(
        cls,
        src_input_files: str | list[str],
        tgt_input_files: str | list[str],
        src_lang: str,
        tgt_lang: str,
        backend: str = "pandas",
        add_filename: bool | str = False,
        npartitions: int = 16,
    ) -> ParallelDataset:
        """Read pairs of simple-bitext files (a path each, or two lists of the same length), concatenated in order
        and cut into ``npartitions``. Each pair's names differ only in their language extension."""
        if isinstance(src_input_files, str) and isinstance(tgt_input_files, str):
            src_input_files, tgt_input_files = [src_input_files], [tgt_input_files]
        elif not isinstance(src_input_files, list) or not isinstance(tgt_input_files, list):
            raise TypeError("src_input_files and tgt_input_files must both be strings or both lists")
        if len(src_input_files) != len(tgt_input_files):
            raise ConfigError(f"{len(src_input_files)} source files but {len(tgt_input_files)} target files")
        frames = [
            cls.read_single_simple_bitext_file_pair((src, tgt), src_lang, tgt_lang, backend=backend,
                                                    add_filename=add_filename)
            for src, tgt in zip(src_input_files, tgt_input_files, strict=True)
        ]  # fmt: skip
        frame = pd.concat(frames, ignore_index=True)
        return cast(ParallelDataset, cls.from_pandas(frame, npartitions=max(1, min(npartitions, len(frame)))))

    @staticmethod
    def read_single_simple_bitext_file_pair(
        input_file_pair: tuple[str, str],
        src_lang: str,
        tgt_lang: str,
        doc_id: str | None = None,
        backend: str = "pandas",
        add_filename: bool | str = False,
    ) -> pd.DataFrame:
        """One pair of files as a pandas frame: ``src``, ``tgt``, ``doc_id`` (``doc_id``, by default both paths
        joined with ``▁``), ``src_lang``, ``tgt_lang`` and, with ``add_filename``, the path without its language
        extension (in the column ``file_name``, or the one named). Lines are read as they are (tabs and quotes
        included); files of different line counts are an error."""
        if backend != "pandas":
            raise ConfigError(f"only backend='pandas' is supported, got {backend!r}")
        src_file, tgt_file = input_file_pair
        stem = _without_extension(src_file)
        if stem != _without_extension(tgt_file):
            raise ConfigError(f"{src_file} and {tgt_file} should differ only in their language extension")
        src, tgt = _lines(src_file), _lines(tgt_file)
        if len(src) != len(tgt):
            raise ConfigError(f"{src_file} has {len(src)} lines but {tgt_file} has {len(tgt)}")
        frame = pd.DataFrame({"src": src, "tgt": tgt})
        frame["doc_id"] = doc_id or f"{src_file}▁{tgt_file}"
        frame["src_lang"] = src_lang
        frame["tgt_lang"] = tgt_lang
        if add_filename:
            frame["file_name" if add_filename is True else str(add_filename)] = stem
        return frame

    def to_bitext(self, output_file_dir: str, write_to_filename: bool | str = False) -> None:
        """Write simple bitext: ``<output_file_dir>.<src_lang>`` and ``.<tgt_lang>``, or, with
        ``write_to_filename`` (``True`` for the ``file_name`` column, or a column's name), one pair of files per
        value of that column, in the directory ``output_file_dir``. A text holding a line break, or several
        languages for one file, is an error: the line pairs would no longer match."""
        frame = self.df.compute()
        missing = [column for column in _COLUMNS if column not in frame.columns]
        if missing:
            raise ConfigError(f"to_bitext needs the columns {list(_COLUMNS)}; missing {missing}")
        if not write_to_filename:
            _write_pair(frame, os.fspath(output_file_dir))
            return
        column = "file_name" if write_to_filename is True else str(write_to_filename)
        if column not in frame.columns:
            raise ConfigError(f"write_to_filename names the column {column!r}, which the dataset does not have")
        os.makedirs(output_file_dir, exist_ok=True)
        for name, group in frame.groupby(column, sort=False):
            _write_pair(group, os.path.join(output_file_dir, Path(str(name)).name))


def _without_extension(path: str) -> str:
    return str(Path(path).with_suffix(""))


def _lines(path: str) -> list[str]:
    """The lines of a file, split on ``\n`` only (a ``\r`` before it dropped): other Unicode line breaks are text."""
    with open(path, encoding="utf-8", newline="") as handle:
        lines = handle.read().split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _write_pair(frame: pd.DataFrame, prefix: str) -> None:
    for side in ("src", "tgt"):
        langs = frame[f"{side}_lang"].unique()
        if len(langs) > 1:
            raise ConfigError(f"{prefix}: {side} texts in several languages {sorted(map(str, langs))}")
        texts = frame[side].astype(str)
        broken = texts.str.contains(r"[\r\n]", regex=True)
        if broken.any():
            raise ConfigError(f"{prefix}: {int(broken.sum())} {side} texts hold a line break; bitext has one per line")
        if len(langs):
            Path(f"{prefix}.{langs[0]}").write_text("".join(f"{text}\n" for text in texts), encoding="utf-8")
