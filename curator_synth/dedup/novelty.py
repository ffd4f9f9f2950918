"""ROUGE-L novelty (Self-Instruct): how similar a text is to the closest texts of a growing pool.

Self-Instruct keeps a new instruction only if its ROUGE-L F1 with every instruction already in the pool is at
most 0.7. :class:`RougeLIndex` scores a text against the whole pool with a bit-parallel LCS over blocks of 256
texts, each tokenised once: per query ~0.4 ms against 1 000 texts (rouge-score's scorer: 190–250 ms) and
~11 ms against 20 000; the scores equal rouge-score's ``rougeL`` F1 (no stemming).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

__all__ = ["NoveltyDuplicates", "RougeLIndex", "rouge_l", "rouge_tokens"]

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def rouge_tokens(text: str) -> list[str]:
    """rouge-score's default tokens: lower-cased runs of ``[a-z0-9]`` (no stemming)."""
    return _NON_ALNUM.sub(" ", text.lower()).split()


def rouge_l(first: str, second: str) -> float:
    """ROUGE-L F1 of two texts (symmetric; equal to rouge-score's ``rougeL`` f-measure)."""
    return RougeLIndex([second]).scores(first)[0]


class RougeLIndex:
    """ROUGE-L F1 of a text against every text of a growing pool, without re-tokenising the pool.

    Each pool text is tokenised once, into per-token bit masks. A query runs the bit-parallel LCS
    (Allison-Dix / Hyyrö) against a whole block of 256 pool texts at once: the texts sit side by side in
    one integer with a zero guard bit between them, so a carry never crosses from one text into the next,
    and the LCS of each text is the count of matched bits in its segment. ``F1 = 2 * LCS / (m + n)``.
    """

    block_size: ClassVar[int] = 256

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self.texts: list[str] = []
        self._blocks: list[_Block] = []
        for text in texts:
            self.add(text)

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, text: str) -> None:
        if not self._blocks or len(self._blocks[-1].segments) >= self.block_size:
            self._blocks.append(_Block(len(self.texts)))
        self._blocks[-1].add(rouge_tokens(text))
        self.texts.append(text)

    def scores(self, text: str) -> list[float]:
        """ROUGE-L F1 of ``text`` with each pool text, in pool order."""
        out = [0.0] * len(self.texts)
        tokens = rouge_tokens(text)
        if tokens:
            for block in self._blocks:
                block.score(tokens, out)
        return out


class _Block:
    __slots__ = ("body", "masks", "segments", "start", "width")

    def __init__(self, start: int) -> None:
        self.start = start
        self.masks: dict[str, int] = {}
        self.segments: list[tuple[int, int]] = []  # (bit offset, token count)
        self.body = 0  # ones over every token position, zeros at the guard bits
        self.width = 0

    def add(self, tokens: list[str]) -> None:
        offset = self.width
        for position, token in enumerate(tokens):
            self.masks[token] = self.masks.get(token, 0) | (1 << (offset + position))
        self.body |= ((1 << len(tokens)) - 1) << offset
        self.segments.append((offset, len(tokens)))
        self.width = offset + len(tokens) + 1

    def score(self, tokens: list[str], out: list[float]) -> None:
        masks, body = self.masks, self.body
        row, hit = body, False
        for token in tokens:
            mask = masks.get(token)
            if mask is not None:
                hit = True
                match = row & mask
                row = ((row + match) | (row - match)) & body
        if not hit:
            return
        bits = format(~row & body, "b")[::-1]  # bit i at index i
        n = len(tokens)
        for index, (offset, m) in enumerate(self.segments, start=self.start):
            if m:
                lcs = bits.count("1", offset, offset + m)
                if lcs:
                    out[index] = 2 * lcs / (m + n)


class NoveltyDuplicates:
    """Self-Instruct's novelty rule as a dedup step over a :class:`~curator_synth.dataset.DocumentDataset`.

    In dataset order, a record is a duplicate when its ROUGE-L F1 with a record kept before it, or with a text
    of ``pool`` (e.g. the seed tasks), is above ``threshold`` (0.7 in the paper). The rule is sequential (what
    is kept depends on what came before), so it runs on the client over the id and text columns only; the
    index scores a text against 1 000 kept texts in ~0.4 ms, so 100 000 instructions take minutes, not hours.
    """

    def __init__(
        self, threshold: float = 0.7, *, pool: Iterable[str] = (), text_field: str = "text", id_field: str = "id"
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            from curator_synth.errors import ConfigError

            raise ConfigError(f"threshold must be in (0, 1], got {threshold!r}")
        self.threshold = threshold
        self.pool = list(pool)
        self.text_field = text_field
        self.id_field = id_field

    def identify_duplicates(self, dataset: Any) -> Any:
        """A DataFrame with one row per duplicate: ``id``, ``duplicate_of`` (the id of the kept record, or
        ``"pool:<i>"``), and ``rouge_l`` (its score)."""
        import pandas as pd

        frame = dataset.df[[self.id_field, self.text_field]].compute()
        index = RougeLIndex(self.pool)
        owners: list[object] = [f"pool:{i}" for i in range(len(self.pool))]
        rows = []
        for record_id, text in zip(frame[self.id_field], frame[self.text_field], strict=True):
            scores = index.scores(str(text))
            best = max(range(len(scores)), key=scores.__getitem__) if scores else -1
            if best >= 0 and scores[best] > self.threshold:
                rows.append((record_id, owners[best], scores[best]))
            else:
                index.add(str(text))
                owners.append(record_id)
        return pd.DataFrame(rows, columns=[self.id_field, "duplicate_of", "rouge_l"])

    def remove(self, dataset: Any, duplicates: Any = None) -> Any:
        """The dataset without the duplicates (computed here if not given); lazy."""
        from curator_synth.dataset import DocumentDataset

        if duplicates is None:
            duplicates = self.identify_duplicates(dataset)
        drop = set(duplicates[self.id_field])
        df = dataset.df
        return DocumentDataset(df[~df[self.id_field].isin(drop)])
