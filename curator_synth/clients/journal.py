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
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from curator_synth.clients.journal_file import (
    FILENAME,
    MIGRATIONS,
    DiskReserve,
    JournalRecord,
    Rejection,
    connect,
    disk_full,
    key_prefix,
    migrate,
    newest_answer,
    read_records,
    request_key,
    user_version,
)
from curator_synth.clients.journal_writer import CommitCallback, JournalWriter
from curator_synth.errors import ConfigError, JournalCorruptError, JournalError

__all__ = ["FILENAME", "MIGRATIONS", "Journal", "JournalRecord", "request_key"]


class Journal:
    """The journal in ``directory`` (created if missing). Use :meth:`open` to share one per file and process, or
    ``with Journal(directory) as journal:`` to close it when done; :meth:`read` only reads (no writer thread)."""

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
        self._reserve = DiskReserve(self.directory, reserve_bytes)
        self._reserve.make()
        try:
            self._reader = connect(self.path, synchronous)
            migrate(self._reader, self.path)
            writer = connect(self.path, synchronous)
        except sqlite3.DatabaseError as error:
            if disk_full(error):
                raise JournalError(f"no space left on device: {self.directory} (cannot open the journal)") from error
            raise ConfigError(
                f"{self.path} is not a usable journal ({error}); move it away to start a new one (the answers "
                "it holds would then be paid for again)"
            ) from error
        self._read_lock = threading.Lock()
        # Rows handed to the writer but not committed yet, so a repeat within one flush interval still hits.
        self._uncommitted: dict[bytes, bytes] = {}
        self._rejected_uncommitted: set[bytes] = set()
        self._closed = False
        self._users = 0
        self._writer = JournalWriter(
            self.path, writer, self._reserve, self._committed, flush_interval=flush_interval, max_backlog=max_backlog
        )
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
                found = newest_answer(self._reader, key)
        except sqlite3.DatabaseError as error:
            raise self._corrupt(error) from error
        if found is None or (skip_rejected and found[1]):
            return None
        return found[0]

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
        self._writer.put(row)

    def reject(self, key: bytes, reason: str) -> None:
        """Mark the newest answer of ``key`` as unusable (it failed to parse or validate): a later
        ``lookup(key, skip_rejected=True)`` misses it, so the next run asks again. Best effort: a closed or
        failed journal ignores it (the answer is then replayed, never lost)."""
        if self._closed or self._writer.failed:
            return
        self._rejected_uncommitted.add(key)
        self._writer.put(Rejection(key, reason, time.time()))

    @property
    def backlog(self) -> int:
        """Rows recorded but not yet committed."""
        return self._writer.backlog

    @property
    def max_backlog(self) -> int:
        """Rows waiting for the writer above which :meth:`wait_for_room` blocks."""
        return self._writer.max_backlog

    @property
    def flush_interval(self) -> float:
        """Seconds the writer lets rows gather before a commit nobody waits for."""
        return self._writer.flush_interval

    @property
    def stopped(self) -> bool:
        """True once a write failed: no new request should be sent (see :meth:`check_writable`)."""
        return self._writer.stopped

    def check_writable(self) -> None:
        """Raise :class:`JournalError` if a write has failed: the engine calls this before every request it sends,
        so a full disk stops the sending at once (answers in flight are still journaled, from the reserve)."""
        self._writer.check_writable()

    def wait_for_room(self, timeout: float | None = None) -> None:
        """Block while more than ``max_backlog`` rows wait for the writer (the engine's back-pressure)."""
        self._writer.wait_for_room(timeout)

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything recorded so far is committed (raises :class:`JournalError` if it cannot be)."""
        self._writer.flush(timeout)

    def raise_failure(self) -> None:
        """Raise :class:`JournalError` if a write has failed for good (rows could not be kept)."""
        self._writer.raise_failure()

    def _committed(self, items: list[object]) -> None:
        """After a commit (in the writer thread): committed rows are read from the file from now on."""
        for item in items:
            if isinstance(item, Rejection):
                if self._uncommitted.get(item.key) is None:
                    self._rejected_uncommitted.discard(item.key)
                continue
            key, response = item[1], item[6]  # type: ignore[index]
            if self._uncommitted.get(key) is response:  # a newer uncommitted answer stays visible
                del self._uncommitted[key]

    def close(self) -> None:
        """Commit what is queued (and, once more, what could not be committed before) and close the file.
        Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        self._uncommitted.clear()
        with self._read_lock:
            self._reader.close()
        self._reserve.release()  # it only matters while the journal is open

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def unsaved(self) -> int:
        """Answers received that could not be journaled (still in memory; tried once more on close)."""
        return self._writer.unsaved

    def __repr__(self) -> str:
        return f"Journal({str(self.directory)!r})"


_shared: dict[tuple[int, Path], Journal] = {}
_shared_lock = threading.Lock()
_all_journals: weakref.WeakSet[Journal] = weakref.WeakSet()


@atexit.register
def _close_journals() -> None:
    """Commit whatever is queued before the interpreter exits (the writer thread is a daemon)."""
    for journal in list(_all_journals):
        journal.close()
