"""Name → object registries, so YAML recipes and CLI flags can name clients, formatters, filters, stages.

Third-party packages extend a registry through an entry point group ``curator_synth.<registry name>``
(e.g. ``[project.entry-points."curator_synth.formatters"] mine = "pkg.mod:MyFormatter"``); entry points are
loaded lazily, the first time a name is not found among the built-ins.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from curator_synth.errors import ConfigError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection of objects of one kind (classes or factories)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.group = f"curator_synth.{kind}"
        self._items: dict[str, T] = {}
        self._entry_points_loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: ``@FORMATTERS.register("chatml")``. Names are case-insensitive; re-use is an error."""

        def decorator(obj: T) -> T:
            self.add(name, obj)
            return obj

        return decorator

    def add(self, name: str, obj: T) -> None:
        key = name.lower()
        if key in self._items and self._items[key] is not obj:
            raise ConfigError(f"{self.kind}: the name {name!r} is already registered to {self._items[key]!r}")
        self._items[key] = obj

    def get(self, name: str) -> T:
        key = name.lower()
        if key not in self._items:
            self._load_entry_points()
        try:
            return self._items[key]
        except KeyError:
            close = difflib.get_close_matches(key, sorted(self._items), n=1)
            listed = ", ".join(self._shortest_names()) or "none"
            hint = f"did you mean {close[0]!r}? (known: {listed})" if close else f"known: {listed}"
            raise ConfigError(f"unknown {self.kind} {name!r}; {hint}") from None

    def _shortest_names(self) -> list[str]:
        """One name per registered object, sorted: what an error lists, so a hundred aliases do not bury the
        suggestion. An object registered under its class name and another name (a filter's ``name``) is listed
        by the other; among several, the shortest."""
        chosen: dict[int, str] = {}

        def rank(key: str, obj: object) -> tuple[bool, int, str]:
            return key == getattr(obj, "__name__", "").lower(), len(key), key

        for key, obj in self._items.items():
            known = chosen.get(id(obj))
            if known is None or rank(key, obj) < rank(known, obj):
                chosen[id(obj)] = key
        return sorted(chosen.values())

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for ep in entry_points(group=self.group):
            if ep.name.lower() not in self._items:
                self._items[ep.name.lower()] = ep.load()

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {sorted(self._items)})"
