"""The journal's file: its SQLite schema (numbered, append-only migrations), connections, keys, the statements
that write rows and rejections and look answers up, read-only access, and the disk reserve kept beside it.
:class:`~curator_synth.clients.journal.Journal` (the cache in front and the one writer thread) builds on these."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from curator_synth.errors import ConfigError, JournalCorruptError, JournalError

__all__ = [
    "FILENAME",
    "MIGRATIONS",
    "RESERVE",
    "DiskReserve",
    "JournalRecord",
    "Rejection",
    "cause",
    "connect",
    "disk_full",
    "key_prefix",
    "migrate",
    "newest_answer",
    "read_records",
    "request_key",
    "user_version",
    "write_items",
]

FILENAME = "journal.sqlite3"
RESERVE = "journal.reserve"  # + ".<pid>": one per process that has the journal open

#: Numbered schema migrations; never edit one that has shipped, append a new one. Each is a list of SQL
#: statements separated by ``;`` (run one by one inside one write transaction).
MIGRATIONS: tuple[str, ...] = (
    # 1: responses keyed by a 64-bit prefix of the request hash (fast integer index) plus the full hash.
    """
    CREATE TABLE responses (
        id INTEGER PRIMARY KEY,
        key_prefix INTEGER NOT NULL,
        key BLOB NOT NULL,
        namespace TEXT NOT NULL,
        path TEXT NOT NULL,
        created_at REAL NOT NULL,
        request BLOB NOT NULL,
        response BLOB NOT NULL
    );
    CREATE INDEX responses_key_prefix ON responses (key_prefix);
    """,
    # 2: the endpoint each answer came from (part of the key since this version), and rejections: answers the
    # caller could not use, asked again by the next run unless it only re-parses.
    """
    ALTER TABLE responses ADD COLUMN endpoint TEXT NOT NULL DEFAULT '';
    CREATE TABLE rejections (
        id INTEGER PRIMARY KEY,
        response_id INTEGER NOT NULL,
        created_at REAL NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX rejections_response ON rejections (response_id);
    """,
)


#: The columns of a response row, in the order of the row tuples the journal queues (a commit callback follows).
_COLUMNS = "(key_prefix, key, namespace, path, created_at, request, response, endpoint)"
ROW_FIELDS = 8
_ROWS_PER_STATEMENT = 256  # x 8 parameters, well under SQLite's 32 766 limit
_REJECT = (
    "INSERT INTO rejections (response_id, created_at, reason) "
    "SELECT id, ?, ? FROM responses WHERE key_prefix = ? AND key = ? ORDER BY id DESC LIMIT 1"
)
_LOOKUP = (
    "SELECT r.key, r.response, EXISTS (SELECT 1 FROM rejections j WHERE j.response_id = r.id) "
    "FROM responses r WHERE r.key_prefix = ? ORDER BY r.id DESC"
)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A queued rejection of an answer (applies to the newest response of ``key`` when it is committed)."""

    key: bytes
    reason: str
    created_at: float


@dataclass(frozen=True, slots=True)
class JournalRecord:
    key: bytes
    namespace: str
    path: str
    created_at: float
    request: bytes
    response: bytes
    endpoint: str = ""


def request_key(namespace: str, path: str, body: bytes, endpoint: str = "") -> bytes:
    digest = hashlib.sha256(endpoint.encode())
    digest.update(b"\0")
    digest.update(namespace.encode())
    digest.update(b"\0")
    digest.update(path.encode())
    digest.update(b"\0")
    digest.update(body)
    return digest.digest()


def key_prefix(key: bytes) -> int:
    return int.from_bytes(key[:8], "big", signed=True)


def connect(path: Path, synchronous: str, *, patience: float = 30.0) -> sqlite3.Connection:
    """A connection in WAL mode. Switching a new file to WAL needs a lock that SQLite does not wait for when
    several processes open it at once ("database is locked"): that is retried for up to ``patience`` seconds."""
    started = time.monotonic()
    while True:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        try:
            connection.execute("PRAGMA busy_timeout = 30000")
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(f"PRAGMA synchronous={synchronous}")
            return connection
        except sqlite3.OperationalError as error:
            connection.close()
            if not _busy(error) or time.monotonic() - started > patience:
                raise
            time.sleep(random.uniform(0.005, 0.05))


def _busy(error: sqlite3.Error) -> bool:
    return getattr(error, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in str(error)


def user_version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def migrate(connection: sqlite3.Connection, path: Path) -> None:
    """Apply the missing migrations in one write transaction. The version is read again once the write lock is
    held: another process opening the same new directory may have migrated it while this one waited."""
    if user_version(connection) == len(MIGRATIONS):
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = user_version(connection)
        if version > len(MIGRATIONS):
            raise ConfigError(
                f"{path} has journal schema version {version}, newer than this curator_synth knows "
                f"({len(MIGRATIONS)}); upgrade curator_synth"
            )
        for number in range(version, len(MIGRATIONS)):
            for statement in MIGRATIONS[number].split(";"):
                if statement.strip():
                    connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
        connection.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        raise


def disk_full(error: BaseException) -> bool:
    """Whether a write failed for lack of space (SQLite's SQLITE_FULL, or ENOSPC / EDQUOT from the OS)."""
    if isinstance(error, sqlite3.Error):
        return getattr(error, "sqlite_errorname", "") == "SQLITE_FULL" or "disk is full" in str(error)
    return isinstance(error, OSError) and error.errno in (28, 122)  # ENOSPC, EDQUOT


def cause(error: BaseException) -> str:
    return "no space left on device" if disk_full(error) else f"{type(error).__name__}: {error}"


def newest_answer(connection: sqlite3.Connection, key: bytes) -> tuple[bytes, bool] | None:
    """The newest response journaled for ``key`` and whether it was rejected, or None."""
    for full_key, response, rejected in connection.execute(_LOOKUP, (key_prefix(key),)).fetchall():
        if full_key == key:
            return bytes(response), bool(rejected)
    return None


def write_items(connection: sqlite3.Connection, items: Sequence[object]) -> None:
    """Write response rows (tuples of :data:`ROW_FIELDS` values, more ignored) and :class:`Rejection`\\ s in their
    order (a rejection applies to the newest answer before it), inside the caller's transaction.

    Multi-row INSERTs, not executemany: Python's sqlite3 drops and re-takes the GIL for every row, which starves
    the writer thread (and lets the backlog grow) while the event loop keeps a core busy."""
    rows: list[tuple[object, ...]] = []
    for item in items:
        if isinstance(item, Rejection):
            _insert(connection, rows)
            rows = []
            connection.execute(_REJECT, (item.created_at, item.reason, key_prefix(item.key), item.key))
        else:
            rows.append(item)  # type: ignore[arg-type]
    _insert(connection, rows)


def _insert(connection: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        placeholders = ",".join(["(" + ",".join("?" * ROW_FIELDS) + ")"] * len(chunk))
        values = [value for row in chunk for value in row[:ROW_FIELDS]]
        connection.execute(f"INSERT INTO responses {_COLUMNS} VALUES {placeholders}", values)


def read_records(directory: str | os.PathLike[str], namespace: str | None = None) -> Iterator[JournalRecord]:
    """Read the journal in ``directory`` without opening it for writing (no writer thread, no lock)."""
    path = Path(directory) / FILENAME
    if not path.exists():
        raise ConfigError(f"no journal at {path}")
    sql = "SELECT * FROM responses"
    args: tuple[str, ...] = ()
    if namespace is not None:
        sql += " WHERE namespace = ?"
        args = (namespace,)
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    try:
        if user_version(connection) == 0:  # created, its schema not committed yet (or its creator was killed)
            raise ConfigError(f"no journal at {path} yet: its schema is not written")
        for row in connection.execute(sql + " ORDER BY id", args):
            endpoint = row["endpoint"] if "endpoint" in row.keys() else ""  # noqa: SIM118 - sqlite3.Row
            yield JournalRecord(
                bytes(row["key"]), row["namespace"], row["path"], row["created_at"], bytes(row["request"]),
                bytes(row["response"]), endpoint,
            )  # fmt: skip
    except sqlite3.DatabaseError as error:
        raise JournalCorruptError(f"the journal {path} cannot be read ({error}): the file is damaged") from error
    finally:
        connection.close()


class DiskReserve:
    """``size`` bytes of disk held in ``directory`` for this process (``journal.reserve.<pid>``), given up when a
    commit finds the disk full so the answers in flight can still be kept. Reserves of dead processes are
    removed when a new one is made."""

    def __init__(self, directory: Path, size: int) -> None:
        self.directory = directory
        self.size = size
        self.path = directory / f"{RESERVE}.{os.getpid()}"

    def make(self) -> None:
        """Allocate the reserve (nothing for size 0): :class:`JournalError` if the disk is already full."""
        _remove_stale_reserves(self.directory)
        if not self.size:
            return
        try:
            with open(self.path, "wb") as file:
                if hasattr(os, "posix_fallocate"):
                    os.posix_fallocate(file.fileno(), 0, self.size)
                else:  # pragma: no cover - not on Linux
                    file.write(b"\0" * self.size)
        except OSError as error:
            self.path.unlink(missing_ok=True)
            if disk_full(error):
                raise JournalError(
                    f"no space left on device: {self.directory} (cannot keep the journal's "
                    f"{self.size // 1024} KiB reserve); free space before sending requests"
                ) from error
            raise ConfigError(f"cannot write in the journal directory {self.directory}: {error}") from error

    def release(self) -> bool:
        """Give the space back; False if there was none left to give."""
        if not self.path.exists():
            return False
        self.path.unlink(missing_ok=True)
        return True


def _remove_stale_reserves(directory: Path) -> None:
    """Delete the reserve files of processes that no longer run (killed before they could close the journal)."""
    for path in directory.glob(f"{RESERVE}.*"):
        try:
            os.kill(int(path.suffix[1:]), 0)
        except ValueError:
            continue
        except ProcessLookupError:
            path.unlink(missing_ok=True)
        except PermissionError:  # another user's live process
            continue
