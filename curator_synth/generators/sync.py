"""Blocking generator classes, generated from the async ones (one implementation; DESIGN.md rule 6).

``NemotronGenerator = sync_generator(AsyncNemotronGenerator, "NemotronGenerator")`` gives a class whose every
public coroutine method runs to completion on the shared loop thread of the sync clients
(:func:`curator_synth.clients.sync.run_sync`); plain methods and attributes pass through. Signatures and
docstrings are kept, so ``help()`` and IDEs show the same API.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from curator_synth.clients.sync import run_sync

__all__ = ["sync_generator"]


def _blocking(name: str, method: Any) -> Any:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        return run_sync(getattr(self._async, name)(*args, **kwargs))

    return call


def _passthrough(name: str, method: Any) -> Any:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._async, name)(*args, **kwargs)

    return call


def sync_generator(async_cls: type, name: str) -> type:
    """A blocking twin of ``async_cls``, built from it at import time."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        self._async = async_cls(*args, **kwargs)
        self._async.public_name = name  # provenance names the class the caller used

    def __getattr__(self: Any, attribute: str) -> Any:  # model, params, client, ...: read from the async one
        if attribute == "_async":
            raise AttributeError(attribute)
        return getattr(self._async, attribute)

    namespace: dict[str, Any] = {
        "__init__": functools.wraps(vars(async_cls).get("__init__", __init__))(__init__),
        "__getattr__": __getattr__,
        "__doc__": f"Blocking version of :class:`{async_cls.__name__}` (same methods, no ``await``).\n\n"
        + (async_cls.__doc__ or ""),
        "__module__": async_cls.__module__,
        "async_generator": property(lambda self: self._async, doc="The async generator doing the work."),
    }
    for attribute, member in inspect.getmembers(async_cls, predicate=inspect.isfunction):
        if attribute.startswith("_"):
            continue
        wrap = _blocking if inspect.iscoroutinefunction(member) else _passthrough
        namespace[attribute] = wrap(attribute, member)
    return type(name, (), namespace)
