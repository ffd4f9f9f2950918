"""Streamed chains: consecutive per-record LLM stages (``responses`` → ``score`` → ...) run record by record, with
no barrier between them. A record's next request is sent as soon as its previous one is answered, every record
of the run shares one client (one concurrency budget, one journal), and no stage waits for the slowest record of
the one before.

What each stage keeps is the same as when it runs alone: its records are written to ``<stage_dir>/stream/``, one
part per chunk of ``chunk_size`` input records (``part-00000.parquet``, in input order, with the rows that failed
and their reasons), as soon as every record of the chunk is through that stage. A killed run resumes chunk by
chunk: a chunk starts at its first stage without a part, and the requests answered before the kill come back
from the journal (nothing answered is paid again). A record whose request failed transiently stops where it
failed: its chunk's part of that stage (and the later ones) is not written, and the stage is unfinished.

Memory is bounded by ``window`` records in flight and ``max_open`` chunks whose parts are not all written, not by
the size of the dataset: the input is read a partition at a time.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from curator_synth._files import atomic_write
from curator_synth.clients.defaults import RequestDefaults, request_defaults
from curator_synth.clients.limits import request_priority
from curator_synth.clients.stats import ClientStats, StatsScope, counted_in
from curator_synth.pipeline.failures import error_name, rejection_counts
from curator_synth.pipeline.tasks import ERROR_COLUMN, records_frame

if TYPE_CHECKING:
    from curator_synth.dataset import DocumentDataset

__all__ = ["CHAIN_FILE", "Link", "StreamedChain", "record_rows"]

#: In a stage's ``stream/`` directory: which chain wrote the parts (its first stage, the chunk size).
CHAIN_FILE = "_chain.json"


async def record_rows(task: Any, row: dict[str, Any], client: Any) -> list[dict[str, Any]]:
    """The rows one record becomes through ``task``: its own :meth:`record` when it has one, else the task run
    on a one-row frame (any :class:`~curator_synth.distributed.PartitionTask` works, only slower)."""
    record = getattr(task, "record", None)
    if record is not None:
        return list(await record(row, client))
    frame = await task(pd.DataFrame([row]), client)
    return list(frame.to_dict("records"))


@dataclass
class Link:
    """One stage of a chain: its number in the recipe, its task, where its parts go, and what it did so far.

    ``error_column``: where the task writes a row's error; rows failing in ``llm_error`` are not sent on (they
    are kept in the part, counted in :attr:`rejections`), those failing in another column (scores) are.
    ``aside``: a column whose filled rows are not failures but are not sent on either (``no_pair``: an
    instruction whose answers gave no preference pair), counted under the column's name.
    """

    number: int
    name: str
    task: Any
    stage_dir: Path
    error_column: str = ERROR_COLUMN
    defaults: RequestDefaults | None = None
    aside: str | None = None
    stats: ClientStats = field(default_factory=ClientStats)
    rows: int = 0  # rows in the parts (failed ones included)
    errors: int = 0  # rows with an error
    set_aside: int = 0  # rows with a value in ``aside``
    rejections: Counter[str] = field(default_factory=Counter)  # failed rows by reason
    error_types: Counter[str] = field(default_factory=Counter)  # failed rows by error type
    first_error: str | None = None
    transient: Counter[str] = field(default_factory=Counter)  # transient failures that left chunks unwritten
    unwritten: int = 0  # chunks not written (a record failed transiently, here or before)
    chunks_done: int = 0
    started: float = 0.0  # time.monotonic()
    finished: float | None = None  # when its last part was written

    @property
    def parts(self) -> Path:
        return self.stage_dir / "stream"

    def part(self, chunk: int) -> Path:
        return self.parts / f"part-{chunk:05d}.parquet"

    def files(self) -> list[str]:
        return sorted(str(path) for path in self.parts.glob("part-*.parquet"))

    def sends_on(self, row: Mapping[str, Any]) -> dict[str, Any] | None:
        """The row as the next stage gets it (None: it failed here, or was set aside, and goes no further)."""
        dropped = self.dropped_columns()
        if any(_present(row.get(column)) for column in dropped):
            return None
        return {key: value for key, value in row.items() if key not in dropped}

    def dropped_columns(self) -> tuple[str, ...]:
        """The columns whose filled rows leave the stage's output, and which leave it themselves."""
        errors = (ERROR_COLUMN,) if self.error_column == ERROR_COLUMN else ()
        return (*errors, self.aside) if self.aside is not None else errors

    def sent_dtypes(self, frame: pd.DataFrame) -> dict[str, Any]:
        """The column types of the rows of ``frame`` (one of this stage's parts) that the next stage gets."""
        dropped = self.dropped_columns()
        return {name: kind for name, kind in frame.dtypes.items() if name not in dropped}

    @property
    def kept(self) -> int:
        """The rows the stage sends on (its records out)."""
        return self.rows - (self.errors if self.error_column == ERROR_COLUMN else 0) - self.set_aside

    def count(self, rows: int, errors: list[Any], set_aside: int = 0) -> None:
        self.rows += rows
        self.errors += len(errors)
        self.set_aside += set_aside
        if set_aside and self.aside is not None:
            self.rejections[self.aside] += set_aside
        self.rejections.update(rejection_counts(errors))
        self.error_types.update(error_name(text) for text in errors)
        if errors and self.first_error is None:
            self.first_error = str(errors[0])


@dataclass
class _Chunk:
    number: int
    start: int  # the first link this run does for the chunk
    outputs: list[list[list[dict[str, Any]] | None]] = field(default_factory=list)  # per link, per record: its rows
    pending: list[int] = field(default_factory=list)  # per link: records not through it yet
    broken: list[bool] = field(default_factory=list)  # per link: a record failed transiently, no part is written
    dtypes: list[dict[str, Any]] = field(default_factory=list)  # per link: the input's column types
    done: asyncio.Event = field(default_factory=asyncio.Event)


class StreamedChain:
    """Run ``links`` over every record of a dataset with one ``client``.

    ``window``: records in flight at most (enough to keep the client's concurrency full as records move from
    stage to stage); ``chunk_size``: input records per part; ``max_open``: chunks in progress at most (bounds
    memory when a slow record holds its chunk open); ``on_part(link, chunks_done, chunks)``: called as parts are
    written (or found written by an earlier run).
    """

    def __init__(
        self,
        links: list[Link],
        client: Any,
        *,
        window: int,
        chunk_size: int = 1000,
        max_open: int = 8,
        on_part: Callable[[Link, int, int], None] | None = None,
    ) -> None:
        self.links = links
        self.client = client
        self.window = window
        self.chunk_size = chunk_size
        self.max_open = max_open
        self.on_part = on_part or (lambda link, done, total: None)
        self.chunks = 0

    # ------------------------------------------------------------------------------------------ the run
    async def run(self, data: DocumentDataset, records: int) -> None:
        """Every record of ``data`` (``records`` of them) through every link; raises the first error that is not a
        record's own failure (a fatal one: the journal, the error budget; or a bug), after cancelling the rest."""
        self.chunks = -(-records // self.chunk_size)
        for link in self.links:
            self._claim(link)
            link.started = time.monotonic()
        slots = asyncio.Semaphore(self.window)
        open_chunks = asyncio.Semaphore(self.max_open)
        tasks: set[asyncio.Future[None]] = set()
        failed: list[BaseException] = []

        def finished(task: asyncio.Future[None]) -> None:
            tasks.discard(task)
            if task.cancelled() or task.exception() is None:
                return
            if not failed:  # stop: cancel the others and wake the loop below, which then ends
                failed.append(cast(BaseException, task.exception()))
                for other in list(tasks):
                    other.cancel()
                for _ in range(self.window + self.max_open):
                    slots.release()
                    open_chunks.release()

        def spawn(work: Any) -> None:
            task = asyncio.ensure_future(work)
            tasks.add(task)
            task.add_done_callback(finished)

        chunks = self._chunks(data)
        try:
            for number in range(self.chunks):
                await open_chunks.acquire()
                if failed:
                    break
                frame = await asyncio.to_thread(next, chunks)  # reading a partition does not stop the requests
                chunk = await asyncio.to_thread(self._open, number, frame)
                if chunk is None:
                    open_chunks.release()
                    continue
                spawn(self._close_when_done(chunk, open_chunks))
                for index, row in enumerate(self._inputs(chunk, frame)):
                    await slots.acquire()
                    if failed:
                        break
                    spawn(self._flow(chunk, index, row, slots))
            while tasks and not failed:
                await asyncio.wait(set(tasks))
        finally:
            for task in list(tasks):
                task.cancel()
            if tasks:
                await asyncio.wait(set(tasks))
        if failed:
            raise failed[0]

    async def _close_when_done(self, chunk: _Chunk, open_chunks: asyncio.Semaphore) -> None:
        await chunk.done.wait()
        open_chunks.release()

    def _chunks(self, data: DocumentDataset) -> Iterator[pd.DataFrame]:
        """The input, ``chunk_size`` records at a time, a partition read at a time."""
        buffer: list[pd.DataFrame] = []
        held = 0
        for partition in data.df.to_delayed():
            frame = partition.compute().reset_index(drop=True)
            buffer.append(frame)
            held += len(frame)
            while held >= self.chunk_size:
                joined = pd.concat(buffer, ignore_index=True) if len(buffer) > 1 else buffer[0]
                yield joined.iloc[: self.chunk_size].reset_index(drop=True)
                rest = joined.iloc[self.chunk_size :]
                buffer, held = ([rest] if len(rest) else []), len(rest)
        if held:
            yield pd.concat(buffer, ignore_index=True) if len(buffer) > 1 else buffer[0]

    def _claim(self, link: Link) -> None:
        """Keep the parts of an earlier run of this same chain (first link, chunk size); drop any other's."""
        marker = link.parts / CHAIN_FILE
        wanted = {"first": self.links[0].number, "chunk_size": self.chunk_size}
        try:
            found = json.loads(marker.read_text())
        except (OSError, json.JSONDecodeError):
            found = None
        if found != wanted:
            for part in link.parts.glob("part-*"):
                part.unlink()
            link.parts.mkdir(parents=True, exist_ok=True)
            atomic_write(marker, lambda temp: temp.write_text(json.dumps(wanted)))

    def _open(self, number: int, frame: pd.DataFrame) -> _Chunk | None:
        """The chunk's state: parts written by an earlier run are counted and skipped (None: all are written)."""
        start = next((k for k, link in enumerate(self.links) if not link.part(number).exists()), len(self.links))
        for link in self.links[:start]:
            link.count(*_part_counts(link.part(number), link))
            self._part_done(link)
        if start == len(self.links):
            return None
        return _Chunk(number, start)

    def _inputs(self, chunk: _Chunk, frame: pd.DataFrame) -> list[dict[str, Any]]:
        """The records the chunk's first link gets: the input rows, or what the last written part sends on."""
        if chunk.start == 0:
            rows, dtypes = frame.to_dict("records"), dict(frame.dtypes)
        else:
            previous = self.links[chunk.start - 1]
            written = pd.read_parquet(previous.part(chunk.number))
            dtypes = previous.sent_dtypes(written)
            rows = [sent for row in written.to_dict("records") if (sent := previous.sends_on(row)) is not None]
        links = range(len(self.links))  # the lists have a place for every link; those before ``start`` stay unused
        chunk.outputs = [[None] * len(rows) for _ in links]
        chunk.pending = [len(rows) for _ in links]
        chunk.broken = [False for _ in links]
        chunk.dtypes = [dtypes if k == chunk.start else {} for k in links]
        if not rows:  # nothing to do: the parts are empty
            for k in range(chunk.start, len(self.links)):
                self._write(chunk, k)
            chunk.done.set()
        return rows

    async def _flow(self, chunk: _Chunk, index: int, row: dict[str, Any], slots: asyncio.Semaphore) -> None:
        """One record through the chunk's links, each of its rows sent on as soon as it is made."""
        try:
            current = [row]
            for k in range(chunk.start, len(self.links)):
                link = self.links[k]
                made: list[dict[str, Any]] = []
                if current and not chunk.broken[k]:
                    scope = StatsScope(link.stats)
                    with counted_in(scope), request_defaults(link.defaults), request_priority(k):
                        outputs = await asyncio.gather(*(record_rows(link.task, item, self.client) for item in current))
                    made = [item for output in outputs for item in output]
                    if scope.transient:  # not answered: the record stops, its chunk's parts from here are not written
                        link.transient.update(scope.transient)
                        for j in range(k, len(self.links)):
                            chunk.broken[j] = True
                        made = []
                chunk.outputs[k][index] = made
                chunk.pending[k] -= 1
                if chunk.pending[k] == 0:
                    await asyncio.to_thread(self._write, chunk, k)
                    if k == len(self.links) - 1:
                        chunk.done.set()
                current = [sent for item in made if (sent := link.sends_on(item)) is not None]
        finally:
            slots.release()

    def _write(self, chunk: _Chunk, k: int) -> None:
        """Every record of the chunk is through link ``k``: write its part (unless a record failed transiently),
        then free the rows (the next link has its own)."""
        link = self.links[k]
        rows = [item for output in chunk.outputs[k] if output for item in output]
        chunk.outputs[k] = []
        if chunk.broken[k]:
            link.unwritten += 1
        else:
            frame = records_frame(rows, chunk.dtypes[k], getattr(link.task, "dtypes", {}))
            link.count(*_frame_counts(frame, link))
            atomic_write(link.part(chunk.number), functools.partial(frame.to_parquet, index=False))
            if k + 1 < len(self.links):
                chunk.dtypes[k + 1] = link.sent_dtypes(frame)
            self._part_done(link)

    def _part_done(self, link: Link) -> None:
        link.chunks_done += 1
        if link.chunks_done == self.chunks:
            link.finished = time.monotonic()
        self.on_part(link, link.chunks_done, self.chunks)


def _present(value: Any) -> bool:
    """Whether an error cell holds an error (not None, NaN or NA)."""
    return value is not None and not (isinstance(value, float) and value != value) and value is not pd.NA


def _frame_counts(frame: pd.DataFrame, link: Link) -> tuple[int, list[Any], int]:
    """A part's rows, the errors among them, and the rows set aside."""
    errors = [text for text in frame[link.error_column].tolist() if _present(text)] if len(frame) else []
    aside = int(frame[link.aside].notna().sum()) if link.aside is not None and link.aside in frame else 0
    return len(frame), errors, aside


def _part_counts(path: Path, link: Link) -> tuple[int, list[Any], int]:
    """:func:`_frame_counts` of a part written by an earlier run."""
    columns = [link.error_column, *([link.aside] if link.aside is not None else [])]
    return _frame_counts(pd.read_parquet(path, columns=columns), link)
