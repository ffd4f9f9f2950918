"""The batches a client has submitted and not yet collected, kept next to its journal (``batches.jsonl``), so that
a killed run polls them again instead of submitting (and paying for) their requests a second time.

One line per event, flushed and fsynced before the step it records is relied on:

- ``{"event": "uploaded", "file": ID, "path": "chat/completions", "keys": [...]}``: the input file of these
  journal keys is uploaded (written before the batch is created: a run killed in between finds the batch by its
  input file, or creates it from the file already uploaded);
- ``{"event": "created", "file": ID, "batch": ID}``: the batch over that file exists;
- ``{"event": "collected", "file": ID}``: every answer of the batch is journaled (or was refused): it is done.

A line cut by a crash is ignored (the step it records did not complete), and the next event starts on a new line.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FILENAME", "BatchRegistry", "Submitted"]

FILENAME = "batches.jsonl"


@dataclass
class Submitted:
    """An uploaded input file: its journal keys (hex), endpoint path and batch (None: not created yet)."""

    file: str
    path: str
    keys: list[str]
    batch: str | None = None
    collected: bool = field(default=False, repr=False)


class BatchRegistry:
    """The submitted batches of one journal directory (None: kept in memory only, nothing survives the process)."""

    def __init__(self, directory: str | os.PathLike[str] | None) -> None:
        self.path = Path(directory) / FILENAME if directory is not None else None
        self._lock = threading.Lock()
        self._files: dict[str, Submitted] = {}
        self._by_key: dict[str, str] = {}
        self._cut = False  # the file ends in a line cut by a crash: the next event starts on a new line
        if self.path is not None and self.path.exists():
            content = self.path.read_bytes()
            self._cut = bool(content) and not content.endswith(b"\n")
            for raw in content.splitlines():
                try:
                    self._apply(json.loads(raw))
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut by a crash

    def open_file(self, key: str) -> Submitted | None:
        """The uncollected batch file holding journal key ``key`` (hex), if any."""
        with self._lock:
            name = self._by_key.get(key)
            return self._files.get(name) if name is not None else None

    def uploaded(self, file: str, path: str, keys: list[str]) -> Submitted:
        return self._record({"event": "uploaded", "file": file, "path": path, "keys": keys})

    def created(self, file: str, batch: str) -> Submitted:
        return self._record({"event": "created", "file": file, "batch": batch})

    def collected(self, file: str) -> Submitted:
        return self._record({"event": "collected", "file": file})

    def pending(self) -> list[Submitted]:
        """The uncollected batch files, oldest first."""
        with self._lock:
            return [entry for entry in self._files.values() if not entry.collected]

    def _record(self, event: dict[str, object]) -> Submitted:
        line = json.dumps(event, separators=(",", ":")).encode() + b"\n"
        with self._lock:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "ab") as out:
                    out.write(b"\n" + line if self._cut else line)
                    self._cut = False
                    out.flush()
                    os.fsync(out.fileno())
            return self._apply(event)

    def _apply(self, event: dict[str, object]) -> Submitted:
        name = str(event["file"])
        kind = event["event"]
        if kind == "uploaded":
            keys = [str(key) for key in event["keys"]]  # type: ignore[attr-defined]
            entry = self._files[name] = Submitted(name, str(event["path"]), keys)
            self._by_key.update(dict.fromkeys(keys, name))
            return entry
        entry = self._files[name]
        if kind == "created":
            entry.batch = str(event["batch"])
        elif kind == "collected":
            entry.collected = True
            for key in entry.keys:
                if self._by_key.get(key) == name:
                    del self._by_key[key]
        return entry
