"""NeMo's ``ExactDuplicates``: curator_synth's exact dedup with NeMo's signature and output.

NeMo hashes the text as it is (no normalisation: pass ``normalize=True`` to the native
:class:`curator_synth.dedup.ExactDuplicates` for that), its duplicates table holds ``id_field`` and ``_hashes``
only, and with ``cache_dir`` it is written to ``cache_dir/_exact_duplicates.parquet`` and read back from there.
``remove`` keeps the document with the smallest id of each group. ``logger`` and ``profile_dir`` are accepted
for NeMo's sake; this project logs through :mod:`logging` and profiles with Dask's own tools.
"""

from __future__ import annotations

import os
from typing import Any

from curator_synth.dataset import DocumentDataset
from curator_synth.dedup.exact import GROUP_COLUMN, HASH_COLUMN, remove_duplicates
from curator_synth.dedup.exact import ExactDuplicates as _Native

__all__ = ["ExactDuplicates"]

#: NeMo's name for the duplicates table under ``cache_dir``.
CACHE_FILE = "_exact_duplicates.parquet"


class ExactDuplicates(_Native):
    SUPPORTED_HASHES = frozenset({"md5"})

    def __init__(
        self,
        logger: Any = None,
        id_field: str = "id",
        text_field: str = "text",
        hash_method: str = "md5",
        perform_removal: bool = False,
        profile_dir: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if hash_method not in self.SUPPORTED_HASHES:
            raise ValueError(
                f"{hash_method} not in supported hash_methods. Choose from {sorted(self.SUPPORTED_HASHES)}"
            )
        super().__init__(id_field, text_field, hash_method, normalize=False, perform_removal=perform_removal)
        self.cache_dir = os.fspath(cache_dir) if cache_dir is not None else None

    def identify_duplicates(self, dataset: DocumentDataset) -> DocumentDataset:
        """Every document in a group of two or more: ``id_field`` and ``_hashes`` (written to ``cache_dir`` first,
        when there is one)."""
        found = super().identify_duplicates(dataset).df[[self.id_field, HASH_COLUMN]]
        found = found.astype({HASH_COLUMN: "str"})  # as NeMo's: a string column (pandas' str dtype)
        if self.cache_dir is None:
            return DocumentDataset(found)
        path = os.path.join(self.cache_dir, CACHE_FILE)
        found.to_parquet(path, write_index=False, overwrite=True)
        return DocumentDataset.read_parquet(path)

    def remove(self, dataset: DocumentDataset, duplicates: DocumentDataset | None = None) -> DocumentDataset:
        if duplicates is None:
            duplicates = self.identify_duplicates(dataset)
        table = duplicates.df[[self.id_field, HASH_COLUMN]].compute()
        return remove_duplicates(dataset, table.rename(columns={HASH_COLUMN: GROUP_COLUMN}), self.id_field)
