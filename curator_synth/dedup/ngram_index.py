"""The benchmark n-grams to look for, by task, and what one document contains of them.

:class:`NgramIndex` maps each n-gram (normalised words joined by one space,
:func:`curator_synth.dedup.benchmarks.ngram_words`) to the tasks it comes from. A window of a document's words is
joined and looked up only where its first two words start some n-gram of that length, so a scan costs about two
dictionary lookups per word. Pure Python, no pandas: it is pickled to Dask workers and used on plain lists alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from curator_synth.dedup.benchmarks import Benchmark, ngram_words, word_spans
from curator_synth.errors import ConfigError

__all__ = ["Contamination", "NgramIndex", "SplitOptions", "split_document"]

_SENTENCE_END = re.compile(r"[.!?]")


@dataclass(frozen=True)
class Contamination:
    """What a document holds of the benchmarks: ``task`` (the one with most of its n-grams, the first given on a
    tie; the removal reason is ``contaminated:<task>``), every such task, and the distinct n-grams found."""

    task: str
    tasks: tuple[str, ...]
    ngrams: tuple[str, ...]

    @property
    def reason(self) -> str:
        return f"contaminated:{self.task}"


class NgramIndex:
    """``ngram -> tasks`` (in the order the tasks were given) and a fast scan of word sequences for them."""

    def __init__(self, ngrams: Mapping[str, Sequence[str]], task_order: Sequence[str] = ()) -> None:
        self.ngrams: dict[str, tuple[str, ...]] = {ngram: tuple(tasks) for ngram, tasks in ngrams.items()}
        seen = list(task_order) + [task for tasks in self.ngrams.values() for task in tasks]
        self.tasks: tuple[str, ...] = tuple(dict.fromkeys(seen))
        # (first word, second word) -> the lengths of the n-grams starting so, longest first; one-word n-grams apart
        starts: dict[tuple[str, ...], set[int]] = {}
        for ngram in self.ngrams:
            words = ngram.split(" ")
            starts.setdefault(tuple(words[:2]), set()).add(len(words))
        self._starts = {key: tuple(sorted(lengths, reverse=True)) for key, lengths in starts.items()}
        self._singles = frozenset(key[0] for key in self._starts if len(key) == 1)

    @classmethod
    def from_benchmarks(
        cls, benchmarks: Benchmark | Iterable[Benchmark], ngram_size: int = 13, min_ngram_size: int = 8
    ) -> NgramIndex:
        """The n-grams of every benchmark; names must differ and every benchmark must give some n-gram."""
        items = [benchmarks] if isinstance(benchmarks, Benchmark) else list(benchmarks)
        return cls.from_task_ngrams({bench.name: bench.ngrams(ngram_size, min_ngram_size) for bench in items}, items)

    @classmethod
    def from_task_ngrams(
        cls, by_task: Mapping[str, Iterable[str]], benchmarks: Sequence[Benchmark] | None = None
    ) -> NgramIndex:
        """The index of ready n-grams by task name (n-grams are normalised again, so any spacing works)."""
        names = [bench.name for bench in benchmarks] if benchmarks is not None else list(by_task)
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ConfigError(f"benchmark names must differ: {repeated} given more than once")
        if not by_task:
            raise ConfigError("no benchmark given: decontamination needs at least one")
        ngrams: dict[str, list[str]] = {}
        for task, found in by_task.items():
            for ngram in found:
                words = ngram_words(ngram)
                if words:
                    ngrams.setdefault(" ".join(words), []).append(task)
        if not ngrams:
            raise ConfigError(f"the benchmarks {sorted(by_task)} give no n-gram to look for")
        return cls(ngrams, names)

    def __len__(self) -> int:
        return len(self.ngrams)

    def restrict(self, keep: Iterable[str]) -> NgramIndex:
        """The index of the n-grams of ``keep`` only (those of them it has), with the same task order."""
        return NgramIndex({ngram: self.ngrams[ngram] for ngram in keep if ngram in self.ngrams}, self.tasks)

    def scan(self, words: Sequence[str]) -> Iterator[tuple[int, int, str]]:
        """Every ``(start, length, ngram)`` in ``words``, by start, the longest first at one start."""
        size = len(words)
        for start, word in enumerate(words):
            for length in self._starts.get((word, words[start + 1]), ()) if start + 1 < size else ():
                if start + length <= size:
                    ngram = " ".join(words[start : start + length])
                    if ngram in self.ngrams:
                        yield start, length, ngram
            if word in self._singles:
                yield start, 1, word

    def found_in(self, text: str) -> set[str]:
        """The distinct n-grams of the index in ``text``."""
        return {ngram for _start, _length, ngram in self.scan(ngram_words(text))} if self.ngrams else set()

    def contamination(self, found: Iterable[str]) -> Contamination | None:
        """The :class:`Contamination` of a document in which ``found`` n-grams were seen (None if none)."""
        ngrams = tuple(sorted(set(found)))
        if not ngrams:
            return None
        counts = {task: 0 for task in self.tasks}
        for ngram in ngrams:
            for task in self.ngrams[ngram]:
                counts[task] += 1
        tasks = tuple(task for task in self.tasks if counts[task])
        top = max(tasks, key=lambda task: counts[task])  # the first of the most frequent, in task order
        return Contamination(top, tasks, ngrams)


@dataclass(frozen=True)
class SplitOptions:
    """NeMo's split mode: cut ``remove_char_each_side`` characters around each match, widened to the sentence end
    (``.``, ``!`` or ``?``) outside them; keep pieces longer than ``min_document_length`` characters; a document
    cut into more than ``max_splits`` pieces, or into none, is removed whole."""

    remove_char_each_side: int = 200
    min_document_length: int = 200
    max_splits: int = 10

    def __post_init__(self) -> None:
        if min(self.remove_char_each_side, self.min_document_length) < 0 or self.max_splits < 1:
            raise ConfigError(
                "remove_char_each_side and min_document_length must be >= 0 and max_splits >= 1, got "
                f"{self.remove_char_each_side}, {self.min_document_length}, {self.max_splits}"
            )


def split_document(text: str, index: NgramIndex, options: SplitOptions) -> tuple[list[str], set[str]]:
    """``text`` without its matches: the pieces kept (``[text]`` when nothing matched) and the n-grams cut out.

    The leftmost match, with the matches overlapping it (a benchmark text longer than one n-gram), is cut out
    (see :class:`SplitOptions`); the part before it is kept if long enough, the part after it scanned again if long
    enough.
    """
    pieces: list[str] = []
    found: set[str] = set()
    rest = text
    while rest:
        words, spans = word_spans(rest)
        matches = index.scan(words) if index.ngrams else iter(())
        first = next(matches, None)
        if first is None:
            pieces.append(rest)  # the whole text, or a remainder already known to be long enough
            break
        start, length, ngram = first
        end = start + length
        found.add(ngram)
        for later, length, ngram in matches:  # matches overlapping or touching the first: one span
            if later > end:
                break
            end = max(end, later + length)
            found.add(ngram)
        before, rest = _cut(rest, spans[start][0], spans[end - 1][1], options.remove_char_each_side)
        if len(before) > options.min_document_length:
            pieces.append(before)
        if len(rest) <= options.min_document_length:
            rest = ""
    return pieces, found


def _cut(text: str, start: int, end: int, margin: int) -> tuple[str, str]:
    """The text before ``start - margin`` up to and with the last sentence end there, and the text after the
    first sentence end from ``end + margin`` on ("" where there is none)."""
    limit = start - margin
    last = max((text.rfind(mark, 0, limit + 1) for mark in ".!?"), default=-1) if limit > 0 else -1
    before = text[: last + 1] if last > 0 else ""
    following = _SENTENCE_END.search(text, max(end + margin, 0))
    return before, text[following.end() :] if following else ""
