"""Exact deduplication: documents whose (normalised) text hashes to the same digest form a duplicate group.

NeMo Curator 0.9 shape: ``ExactDuplicates(id_field=, text_field=, hash_method="md5")`` with
``identify_duplicates(dataset)`` and ``remove(dataset, duplicates)``. Normalisation (on by default) lower-cases,
optionally strips punctuation, collapses runs of whitespace to one space and trims the ends, so texts that
differ only there are duplicates. Hashing is a ``map_partitions``; grouping is a shuffle on the digest, so it
runs on the default scheduler and on a ``distributed`` cluster alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import dask.dataframe as dd
import pandas as pd

from curator_synth.dataset import DocumentDataset
from curator_synth.dedup.lsh import shuffle_method
from curator_synth.errors import ConfigError

__all__ = ["HASH_METHODS", "ExactDuplicates", "normalize_text", "remove_duplicates"]

HASH_COLUMN = "_hashes"
GROUP_COLUMN = "group"


def _blake2b(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


HASH_METHODS: dict[str, Callable[[bytes], str]] = {
    "md5": lambda data: hashlib.md5(data).hexdigest(),
    "sha1": lambda data: hashlib.sha1(data).hexdigest(),
    "sha256": lambda data: hashlib.sha256(data).hexdigest(),
    "blake2b": _blake2b,
}
"""Registry of hash methods by name (``hash_method=``): bytes in, hex digest out."""


def normalize_text(texts: pd.Series, strip_punctuation: bool = False) -> pd.Series:
    """Lower-case, optionally drop punctuation (anything neither word character nor space), collapse
    whitespace runs to one space, trim. Missing texts become the empty string."""
    out = texts.fillna("").astype(str).str.lower()
    if strip_punctuation:
        out = out.str.replace(r"[^\w\s]", "", regex=True)
    return out.str.replace(r"\s+", " ", regex=True).str.strip()


def _hash_partition(
    part: pd.DataFrame, id_field: str, text_field: str, hash_method: str, normalize: bool, strip_punctuation: bool
) -> pd.DataFrame:
    texts = normalize_text(part[text_field], strip_punctuation) if normalize else part[text_field].fillna("")
    digest = HASH_METHODS[hash_method]
    hashes = [digest(text.encode("utf-8", errors="surrogatepass")) for text in texts.astype(str)]
    return pd.DataFrame({id_field: part[id_field].to_numpy(), HASH_COLUMN: pd.Series(hashes, dtype=object)})


def _duplicated_partition(part: pd.DataFrame, id_field: str) -> pd.DataFrame:
    part = part[part.duplicated(HASH_COLUMN, keep=False)]
    group = pd.Series([int(h[:15], 16) for h in part[HASH_COLUMN]], index=part.index, dtype="int64")
    return part.assign(**{GROUP_COLUMN: group}).sort_values([GROUP_COLUMN, id_field])


def remove_duplicates(
    dataset: DocumentDataset, duplicates: DocumentDataset | dd.DataFrame | pd.DataFrame, id_field: str
) -> DocumentDataset:
    """``dataset`` without the duplicates, keeping the smallest id of every group (the representative).

    ``duplicates`` holds ``id_field`` and ``group`` columns (what ``identify_duplicates`` returns); the ids to
    drop are computed here and filtered out of every partition.
    """
    table = duplicates.df if isinstance(duplicates, DocumentDataset) else duplicates
    if isinstance(table, dd.DataFrame):
        table = table[[id_field, GROUP_COLUMN]].compute()
    missing = {id_field, GROUP_COLUMN} - set(table.columns)
    if missing:
        raise ConfigError(f"duplicates table lacks column(s) {sorted(missing)}")
    table = table.sort_values([GROUP_COLUMN, id_field])
    drop = table.loc[table.duplicated(GROUP_COLUMN, keep="first"), id_field].tolist()
    return DocumentDataset(dataset.df[~dataset.df[id_field].isin(drop)])


class ExactDuplicates:
    """Find documents with identical (normalised) text.

    ``identify_duplicates`` returns a dataset of every document in a group of two or more: ``id_field``,
    ``_hashes`` (hex digest) and ``group`` (an int64 taken from the digest). ``remove`` keeps one document per
    group. With ``perform_removal=True`` calling the object removes, otherwise it identifies (as in NeMo).
    """

    def __init__(
        self,
        id_field: str = "id",
        text_field: str = "text",
        hash_method: str = "md5",
        normalize: bool = True,
        strip_punctuation: bool = False,
        perform_removal: bool = False,
    ) -> None:
        if hash_method not in HASH_METHODS:
            raise ConfigError(f"hash_method must be one of {sorted(HASH_METHODS)}, got {hash_method!r}")
        if not id_field or not text_field:
            raise ConfigError("id_field and text_field must be non-empty column names")
        if strip_punctuation and not normalize:
            raise ConfigError("strip_punctuation=True needs normalize=True")
        self.id_field = id_field
        self.text_field = text_field
        self.hash_method = hash_method
        self.normalize = normalize
        self.strip_punctuation = strip_punctuation
        self.perform_removal = perform_removal

    def _check(self, dataset: DocumentDataset) -> None:
        missing = {self.id_field, self.text_field} - set(dataset.columns)
        if missing:
            raise ConfigError(f"dataset lacks column(s) {sorted(missing)}; it has {dataset.columns}")

    def hash_documents(self, dataset: DocumentDataset) -> dd.DataFrame:
        """Lazy ``(id_field, _hashes)`` for every document."""
        self._check(dataset)
        meta = pd.DataFrame(
            {self.id_field: dataset.df._meta[self.id_field].iloc[:0], HASH_COLUMN: pd.Series([], dtype=object)}
        )
        return dataset.df[[self.id_field, self.text_field]].map_partitions(
            _hash_partition,
            self.id_field,
            self.text_field,
            self.hash_method,
            self.normalize,
            self.strip_punctuation,
            meta=meta,
        )

    def identify_duplicates(self, dataset: DocumentDataset) -> DocumentDataset:
        """The duplicate groups (lazy): a shuffle puts equal digests in one partition, which keeps repeats."""
        hashed = self.hash_documents(dataset).shuffle(on=HASH_COLUMN, shuffle_method=shuffle_method())
        meta = hashed._meta.assign(**{GROUP_COLUMN: pd.Series([], dtype="int64")})
        return DocumentDataset(hashed.map_partitions(_duplicated_partition, self.id_field, meta=meta))

    def remove(self, dataset: DocumentDataset, duplicates: DocumentDataset | None = None) -> DocumentDataset:
        """``dataset`` with one representative (smallest id) per group; identifies the groups if not given."""
        if duplicates is None:
            duplicates = self.identify_duplicates(dataset)
        return remove_duplicates(dataset, duplicates, self.id_field)

    def __call__(self, dataset: DocumentDataset) -> DocumentDataset:
        return self.remove(dataset) if self.perform_removal else self.identify_duplicates(dataset)
