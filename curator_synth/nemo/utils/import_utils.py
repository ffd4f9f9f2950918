"""NeMo's ``safe_import`` and ``is_unavailable``: import an optional module if it is installed, or get a stand-in
that raises a :class:`~curator_synth.filters._optional.MissingPackageError` (an ``ImportError`` and a
``MissingDependencyError``) with your message as soon as it is used."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, NoReturn

from curator_synth.filters._optional import MissingPackageError

__all__ = ["UnavailableModule", "is_unavailable", "safe_import"]


class UnavailableModule:
    """Stands in for a module that could not be imported: using it (an attribute, a call) raises
    :class:`~curator_synth.filters._optional.MissingPackageError` with the message given to :func:`safe_import`."""

    def __init__(self, name: str, message: str) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_message", message)

    def _fail(self) -> NoReturn:
        raise MissingPackageError(self._name, self._name, message=self._message)

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)  # copy, pickle and mock probe dunders: a plain "no such attribute"
        self._fail()

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._fail()

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<unavailable module {self._name!r}>"


def safe_import(module: str, msg: str | None = None, alt: Any = None) -> ModuleType | UnavailableModule | Any:
    """``import module``; when it cannot be imported, ``alt`` if given, else an :class:`UnavailableModule` whose use
    raises an error saying ``msg`` (by default: the module could not be imported). An error raised while the
    installed module itself imports (not a missing package) propagates unchanged."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        if alt is not None:
            return alt
        why = f": {error}" if str(error) else ""
        return UnavailableModule(module, msg or f"{module} could not be imported{why}")


def is_unavailable(obj: Any) -> bool:
    """Whether ``obj`` is a stand-in for a module :func:`safe_import` could not import."""
    return isinstance(obj, UnavailableModule)
