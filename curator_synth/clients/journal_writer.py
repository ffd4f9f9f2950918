"""The journal's one writer thread: group commits, commit callbacks, and what a failed write does.

Items (response rows and :class:`~curator_synth.clients.journal_file.Rejection`\\ s) are committed in their queue
order. A row with a commit callback is committed at once, with whatever else is queued; others wait up to
``flush_interval`` for a batch to gather. The first failed write *stops* the journal (no new request should be
sent); on a full disk the reserve is given up and the commit tried once more, so the answers in flight are kept;
a write that fails even then keeps its rows in memory for a last try on close.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from curator_synth.clients.journal_file import ROW_FIELDS, DiskReserve, cause, disk_full, write_items
from curator_synth.errors import JournalError

__all__ = ["CommitCallback", "JournalWriter"]

logger = logging.getLogger("curator_synth.clients")

_QUEUE_END = object()

#: Called by the writer thread once a row is committed (None) or cannot be (the error).
CommitCallback = Callable[[BaseException | None], None]


class JournalWriter:
    """The thread that writes ``connection`` (the journal file ``path``, ``reserve`` beside it).
    ``on_committed(items)`` runs in the thread after each commit (the journal's in-memory view follows it)."""

    def __init__(
        self,
        path: Path,
        connection: sqlite3.Connection,
        reserve: DiskReserve,
        on_committed: Callable[[list[object]], None],
        *,
        flush_interval: float,
        max_backlog: int,
    ) -> None:
        self.path = path
        self.flush_interval = flush_interval
        self.max_backlog = max_backlog
        self._connection = connection
        self._reserve = reserve
        self._on_committed = on_committed
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._unsaved: list[tuple[object, ...]] = []  # rows whose commit failed: tried once more on close
        self._pending = 0
        self._pending_lock = threading.Condition()
        self._stopped: BaseException | None = None  # why new requests are refused (the first failed write)
        self._failure: BaseException | None = None  # a write that failed even after the reserve was used
        self._thread = threading.Thread(target=self._write_loop, name=f"journal-writer:{path}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------------------------------- the queue
    def put(self, item: object) -> None:
        """Queue a row or a rejection (returns at once). Once a write has failed for good, a row is kept in memory
        instead and :class:`JournalError` raised: a run must not go on paying for answers it cannot keep."""
        if self._failure is not None and isinstance(item, tuple):
            self._unsaved.append(item)
            self.raise_failure()
        with self._pending_lock:
            self._pending += 1
        self._queue.put(item)

    @property
    def backlog(self) -> int:
        """Items queued but not yet committed."""
        return self._pending

    @property
    def failed(self) -> bool:
        """True once a write failed for good (even after the reserve was given up)."""
        return self._failure is not None

    @property
    def stopped(self) -> bool:
        """True once a write failed: no new request should be sent (see :meth:`check_writable`)."""
        return self._stopped is not None

    @property
    def unsaved(self) -> int:
        """Rows that could not be committed (still in memory; tried once more on close)."""
        return len(self._unsaved)

    def check_writable(self) -> None:
        """Raise :class:`JournalError` if a write has failed (the engine's check before every request it sends)."""
        if self._stopped is not None:
            raise JournalError(
                f"{cause(self._stopped)}: {self.path.parent} (the request journal could not be written); no new "
                "requests are sent; the answers received so far are kept — free space and re-run to go on"
            ) from self._stopped

    def wait_for_room(self, timeout: float | None = None) -> None:
        """Block while more than ``max_backlog`` items wait (back-pressure)."""
        with self._pending_lock:
            self._pending_lock.wait_for(
                lambda: self._pending <= self.max_backlog // 2 or self._failure is not None, timeout
            )
        self.raise_failure()

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything queued so far is committed (raises :class:`JournalError` if it cannot be)."""
        with self._pending_lock:
            self._pending_lock.wait_for(lambda: self._pending == 0 or self._failure is not None, timeout)
        self.raise_failure()

    def raise_failure(self) -> None:
        """Raise :class:`JournalError` if a write has failed for good (rows could not be kept)."""
        if self._failure is not None:
            raise JournalError(
                f"{cause(self._failure)}: {self.path.parent} (the journal {self.path.name} could not be written: "
                f"{self._failure}); {len(self._unsaved)} answer(s) not journaled yet"
            ) from self._failure

    # ------------------------------------------------------------------------------------------ the thread
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
            self._connection.execute("ROLLBACK")

    def _commit(self, items: list[object]) -> None:
        self._connection.execute("BEGIN")
        write_items(self._connection, items)
        self._connection.execute("COMMIT")
        self._on_committed(items)

    def close(self) -> None:
        """Commit what is queued (and, once more, what could not be committed before); close the connection."""
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
        self._connection.close()


def _waited_for(row: object) -> bool:
    """Whether someone waits for this row (a commit callback, or :meth:`JournalWriter.close`): commit it now."""
    return row is _QUEUE_END or (isinstance(row, tuple) and row[ROW_FIELDS] is not None)


def _notify(items: list[object], failure: BaseException | None) -> None:
    """Run the rows' commit callbacks (a failing callback must not stop the writer)."""
    for item in items:
        callback = item[ROW_FIELDS] if isinstance(item, tuple) else None
        if callback is not None:
            with contextlib.suppress(Exception):  # e.g. the waiting event loop has closed
                callback(failure)
