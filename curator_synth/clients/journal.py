"""The request journal: every raw response, written on receipt, keyed by the hash of its canonical request.

A re-run answers journaled requests from disk with no HTTP call, so a crashed or re-started job never pays twice
for what it already received, and a parser fixed later re-reads the raw responses instead of re-buying them.

- Content-addressed: key = SHA-256 of (endpoint, namespace, endpoint path, canonical JSON body). The endpoint is
  the base URL without credentials, so one server's answers are never replayed for another; the body holds
  model, messages/prompt and generation parameters; the namespace is the caller's (a template id and version).
  Credentials are never part of a request body, so the journal never holds the API key.
- Append-only: a request answered again (say, after a truncated answer was retried) adds a row; the newest wins.
  An answer the caller could not use (unparseable, failed validation) is marked with :meth:`Journal.reject`;
  ``lookup(key, skip_rejected=True)`` then treats it as absent, so the next run asks again (the raw answer stays).
- One SQLite file per directory in WAL mode, one writer thread per file and process, group commits: rows
  that arrive while a commit runs go into the next one. A row recorded with ``on_commit`` is committed at once
  (with whatever else is queued) and its callback runs after the commit; the engine waits for it before it
  frees the request's concurrency slot, so a kill -9 re-pays at most the requests in flight (sent, or answered
  and not yet committed). Rows without a callback are batched for up to ``flush_interval`` seconds (default
  0.05). Committed rows survive a killed process (``synchronous="full"`` also survives power loss, at a cost).
- A full disk: the journal keeps a small reserve file (``reserve_bytes``, default 1 MiB) beside the database.
  When a commit fails because the disk is full, the reserve is deleted and the commit tried again, so the
  answers already received (those in flight) are kept; from then on the journal is *stopped*:
  :meth:`check_writable` raises :class:`JournalError` and the engine sends nothing new. A re-run after freeing
  space recreates the reserve and pays only for what the journal does not hold.
- Schema versions are numbered, append-only migrations recorded in ``PRAGMA user_version``; several processes
  opening a new directory at once migrate it once (the version is re-read under the write lock).

Measured here: the event loop pays ~5 µs to hand a row to the writer and ~9 µs per lookup. Rows are inserted
with multi-row statements (``executemany`` re-takes the GIL per row and starves the writer while the event
loop is busy). The engine's requests wait for their own commit, which is its back-pressure; other writers
can call :meth:`wait_for_room` when more than ``max_backlog`` rows wait.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from curator_synth.clients.journal_file import (
    FILENAME,
    MIGRATIONS,
    DiskReserve,
    JournalRecord,
    cause,
    connect,
    disk_full,
    key_prefix,
    migrate,
    read_records,
    request_key,
    user_version,
)
from curator_synth.errors import ConfigError, JournalCorruptError, JournalError

__all__ = ["FILENAME", "MIGRATIONS", "Journal", "JournalRecord", "request_key"]

logger = logging.getLogger("curator_synth.clients")


_QUEUE_END = object()
_COLUMNS = "(key_prefix, key, namespace, path, created_at, request, response, endpoint)"
_ROW_FIELDS = 8
_ROWS_PER_STATEMENT = 256  # x 8 parameters, well under SQLite's 32 766 limit
_REJECT = (
    "INSERT INTO rejections (response_id, created_at, reason) "
    "SELECT id, ?, ? FROM responses WHERE key_prefix = ? AND key = ? ORDER BY id DESC LIMIT 1"
)
_LOOKUP = (
    "SELECT r.key, r.response, EXISTS (SELECT 1 FROM rejections j WHERE j.response_id = r.id) "
    "FROM responses r WHERE r.key_prefix = ? ORDER BY r.id DESC"
)

#: Called by the writer thread once a row is committed (None) or cannot be (the error).
CommitCallback = Callable[[BaseException | None], None]


@dataclass(frozen=True, slots=True)
class _Reject:
    """A queued :meth:`Journal.reject` (applies to the newest response of ``key`` when it is committed)."""

    key: bytes
    reason: str
    created_at: float


class Journal:
    """The journal in ``directory`` (created if missing). Use :meth:`open` to share one per file and process."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        flush_interval: float = 0.05,
        synchronous: Literal["normal", "full"] = "normal",
        max_backlog: int = 2000,
        reserve_bytes: int = 1 << 20,
    ) -> None:
        if synchronous not in ("normal", "full"):
            raise ConfigError(f"synchronous must be 'normal' or 'full', got {synchronous!r}")
        if isinstance(reserve_bytes, bool) or not isinstance(reserve_bytes, int) or reserve_bytes < 0:
            raise ConfigError(f"reserve_bytes must be an int >= 0, got {reserve_bytes!r}")
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(f"cannot create the journal directory {self.directory}: {error}") from error
        self.path = self.directory / FILENAME
        self.flush_interval = flush_interval
        self.max_backlog = max_backlog
        self._reserve = DiskReserve(self.directory, reserve_bytes)
        self._reserve.make()
        try:
            self._reader = connect(self.path, synchronous)
            migrate(self._reader, self.path)
            self._writer = connect(self.path, synchronous)
        except sqlite3.DatabaseError as error:
            if disk_full(error):
                raise JournalError(f"no space left on device: {self.directory} (cannot open the journal)") from error
            raise ConfigError(
                f"{self.path} is not a usable journal ({error}); move it away to start a new one (the answers "
                "it holds would then be paid for again)"
            ) from error
        self._read_lock = threading.Lock()
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        # Rows handed to the writer but not committed yet, so a repeat within one flush interval still hits.
        self._uncommitted: dict[bytes, bytes] = {}
        self._rejected_uncommitted: set[bytes] = set()
        self._unsaved: list[tuple[object, ...]] = []  # rows whose commit failed: tried once more on close
        self._pending = 0
        self._pending_lock = threading.Condition()
        self._closed = False
        self._stopped: BaseException | None = None  # why new requests are refused (the first failed write)
        self._failure: BaseException | None = None  # a write that failed even after the reserve was used
        self._users = 0
        self._thread = threading.Thread(target=self._write_loop, name=f"journal-writer:{self.path}", daemon=True)
        self._thread.start()
        _all_journals.add(self)

    @classmethod
    def open(cls, directory: str | os.PathLike[str], **options: object) -> Journal:
        """The process's journal for ``directory``, shared by every client using it (one writer per file).

        Each ``open`` must be paired with a :meth:`release`; the last release closes the file.
        """
        key = (os.getpid(), Path(directory).resolve())
        with _shared_lock:
            journal = _shared.get(key)
            if journal is None or journal._closed:
                journal = _shared[key] = cls(directory, **options)  # type: ignore[arg-type]
            journal._users += 1
            return journal

    def release(self) -> None:
        """Undo one :meth:`open`; the last release commits and closes."""
        with _shared_lock:
            self._users -= 1
            last = self._users <= 0
            if last:
                for key, journal in list(_shared.items()):
                    if journal is self:
                        del _shared[key]
        if last:
            self.close()

    # ------------------------------------------------------------------------------------------- reading
    key = staticmethod(request_key)

    def lookup(self, key: bytes, *, skip_rejected: bool = False) -> bytes | None:
        """The newest raw response journaled for ``key``, or None. ``skip_rejected``: None also when that
        newest response was marked unusable with :meth:`reject` (the caller then asks again)."""
        if skip_rejected and key in self._rejected_uncommitted:
            return None
        recent = self._uncommitted.get(key)
        if recent is not None:
            return recent
        try:
            with self._read_lock:
                rows = self._reader.execute(_LOOKUP, (key_prefix(key),)).fetchall()
        except sqlite3.DatabaseError as error:
            raise self._corrupt(error) from error
        for full_key, response, rejected in rows:
            if full_key == key:
                return None if skip_rejected and rejected else bytes(response)
        return None

    def _corrupt(self, error: sqlite3.DatabaseError) -> JournalError:
        if disk_full(error):
            return JournalError(f"no space left on device: {self.directory} ({error})")
        return JournalCorruptError(
            f"the journal {self.path} cannot be read ({error}): the file is damaged; move it away to start a new "
            "one (its answers would then be paid for again) or restore it from a copy"
        )

    def __len__(self) -> int:
        try:
            with self._read_lock:
                return int(self._reader.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
        except sqlite3.DatabaseError as error:
            raise self._corrupt(error) from error

    def records(self, namespace: str | None = None) -> Iterator[JournalRecord]:
        """Every journaled response in arrival order (e.g. to re-parse with a fixed parser)."""
        return read_records(self.directory, namespace)

    #: Read the journal in a directory without opening it for writing (no writer thread, no lock).
    read = staticmethod(read_records)

    def schema_version(self) -> int:
        with self._read_lock:
            return user_version(self._reader)

    # ------------------------------------------------------------------------------------------- writing
    def record(
        self,
        key: bytes,
        namespace: str,
        path: str,
        request: bytes,
        response: bytes,
        on_commit: CommitCallback | None = None,
        *,
        endpoint: str = "",
    ) -> None:
        """Queue one raw response for the writer thread (returns at once).

        ``on_commit`` (called from the writer thread) makes the writer commit without waiting for a batch to
        gather, and reports the outcome: None once the row is on disk, else the error. Raises
        :class:`JournalError` once a write has failed for good (the row is then kept in memory and tried
        once more when the journal closes): a run must not go on paying for answers it cannot keep.
        """
        if self._closed:
            raise ConfigError(f"the journal {self.path} is closed")
        row = (key_prefix(key), key, namespace, path, time.time(), request, response, endpoint, on_commit)
        self._uncommitted[key] = response
        self._rejected_uncommitted.discard(key)
        if self._failure is not None:
            self._unsaved.append(row)
            self.raise_failure()
        with self._pending_lock:
            self._pending += 1
        self._queue.put(row)

    def reject(self, key: bytes, reason: str) -> None:
        """Mark the newest answer of ``key`` as unusable (it failed to parse or validate): a later
        ``lookup(key, skip_rejected=True)`` misses it, so the next run asks again. Best effort: a closed or
        failed journal ignores it (the answer is then replayed, never lost)."""
        if self._closed or self._failure is not None:
            return
        self._rejected_uncommitted.add(key)
        with self._pending_lock:
            self._pending += 1
        self._queue.put(_Reject(key, reason, time.time()))

    @property
    def backlog(self) -> int:
        """Rows recorded but not yet committed."""
        return self._pending

    @property
    def stopped(self) -> bool:
        """True once a write failed: no new request should be sent (see :meth:`check_writable`)."""
        return self._stopped is not None

    def check_writable(self) -> None:
        """Raise :class:`JournalError` if a write has failed: the engine calls this before every request it sends,
        so a full disk stops the sending at once (answers in flight are still journaled, from the reserve)."""
        if self._stopped is not None:
            raise JournalError(
                f"{cause(self._stopped)}: {self.directory} (the request journal could not be written); no new "
                "requests are sent; the answers received so far are kept — free space and re-run to go on"
            ) from self._stopped

    def wait_for_room(self, timeout: float | None = None) -> None:
        """Block while more than ``max_backlog`` rows wait for the writer (the engine's back-pressure)."""
        with self._pending_lock:
            self._pending_lock.wait_for(
                lambda: self._pending <= self.max_backlog // 2 or self._failure is not None, timeout
            )
        self.raise_failure()

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything recorded so far is committed (raises :class:`JournalError` if it cannot be)."""
        with self._pending_lock:
            self._pending_lock.wait_for(lambda: self._pending == 0 or self._failure is not None, timeout)
        self.raise_failure()

    def raise_failure(self) -> None:
        """Raise :class:`JournalError` if a write has failed for good (rows could not be kept)."""
        if self._failure is not None:
            raise JournalError(
                f"{cause(self._failure)}: {self.directory} (the journal {self.path.name} could not be written: "
                f"{self._failure}); {len(self._unsaved)} answer(s) not journaled yet"
            ) from self._failure

    def _write_loop(self) -> None:
        done = False
        while not done:
            batch = [self._queue.get()]
            if not _waited_for(batch[0]):
                time.sleep(self.flush_interval)  # let a batch gather: one commit per interval, not per row
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _QUEUE_END in batch:
                done = True
                batch = [item for item in batch if item is not _QUEUE_END]
            error = self._commit_or_keep(batch) if batch else None
            with self._pending_lock:
                self._pending -= len(batch)
                self._pending_lock.notify_all()
            _notify(batch, error)

    def _commit_or_keep(self, batch: list[object]) -> BaseException | None:
        """Commit ``batch``; on a full disk, give up the reserve and try once more. Returns the error if the batch
        could not be committed (its rows are then kept in memory for a last try on close)."""
        if self._failure is None:
            try:
                self._commit(batch)
                return None
            except Exception as error:  # disk full, I/O error, locked file: report, never die silently
                self._rollback()
                if self._stopped is None:
                    self._stopped = error
                    logger.error("journal %s: %s; no new requests will be sent", self.path, cause(error))
                if disk_full(error) and self._reserve.release():
                    try:
                        self._commit(batch)
                        return None
                    except Exception as again:
                        self._rollback()
                        error = again
                self._failure = error
        self._unsaved.extend(item for item in batch if isinstance(item, tuple))
        return self._failure

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._writer.execute("ROLLBACK")

    def _commit(self, items: list[object]) -> None:
        # Multi-row INSERTs, not executemany: Python's sqlite3 drops and re-takes the GIL for every row, which
        # starves this thread (and lets the backlog grow) while the event loop keeps a core busy. Rows and
        # rejections are written in their queue order (a rejection applies to the newest answer before it).
        self._writer.execute("BEGIN")
        rows: list[tuple[object, ...]] = []
        for item in items:
            if isinstance(item, _Reject):
                self._insert(rows)
                rows = []
                self._writer.execute(_REJECT, (item.created_at, item.reason, key_prefix(item.key), item.key))
            else:
                rows.append(item)  # type: ignore[arg-type]
        self._insert(rows)
        self._writer.execute("COMMIT")
        for item in items:
            if isinstance(item, _Reject):
                if self._uncommitted.get(item.key) is None:
                    self._rejected_uncommitted.discard(item.key)
                continue
            key, response = item[1], item[6]  # type: ignore[index]
            if self._uncommitted.get(key) is response:  # a newer uncommitted answer stays visible
                del self._uncommitted[key]

    def _insert(self, rows: list[tuple[object, ...]]) -> None:
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            chunk = rows[start : start + _ROWS_PER_STATEMENT]
            placeholders = ",".join(["(" + ",".join("?" * _ROW_FIELDS) + ")"] * len(chunk))
            values = [value for row in chunk for value in row[:_ROW_FIELDS]]
            self._writer.execute(f"INSERT INTO responses {_COLUMNS} VALUES {placeholders}", values)

    def close(self) -> None:
        """Commit what is queued (and, once more, what could not be committed before) and close the file.
        Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_QUEUE_END)
        self._thread.join()
        if self._unsaved:
            try:
                self._commit(list(self._unsaved))
                self._unsaved.clear()
            except Exception as error:
                self._rollback()
                logger.error(
                    "journal %s: %d answer(s) could not be journaled (%s); a re-run asks them again",
                    self.path, len(self._unsaved), cause(error),
                )  # fmt: skip
        self._writer.close()
        self._uncommitted.clear()
        with self._read_lock:
            self._reader.close()
        self._reserve.release()  # it only matters while the journal is open

    @property
    def unsaved(self) -> int:
        """Answers received that could not be journaled (still in memory; tried once more on close)."""
        return len(self._unsaved)

    def __repr__(self) -> str:
        return f"Journal({str(self.directory)!r})"


def _waited_for(row: object) -> bool:
    """Whether someone waits for this row (a commit callback, or :meth:`Journal.close`): commit it now."""
    return row is _QUEUE_END or (isinstance(row, tuple) and row[_ROW_FIELDS] is not None)


def _notify(items: list[object], failure: BaseException | None) -> None:
    """Run the rows' commit callbacks (a failing callback must not stop the writer)."""
    for item in items:
        callback = item[_ROW_FIELDS] if isinstance(item, tuple) else None
        if callback is not None:
            with contextlib.suppress(Exception):  # e.g. the waiting event loop has closed
                callback(failure)


_shared: dict[tuple[int, Path], Journal] = {}
_shared_lock = threading.Lock()
_all_journals: weakref.WeakSet[Journal] = weakref.WeakSet()


@atexit.register
def _close_journals() -> None:
    """Commit whatever is queued before the interpreter exits (the writer thread is a daemon)."""
    for journal in list(_all_journals):
        journal.close()
