"""Optional packages that no curator_synth extra installs (word segmenters, SentencePiece): imported on first use,
and a :class:`MissingPackageError` naming the ``pip install`` command when they are not there."""

from __future__ import annotations

import importlib
from types import ModuleType

from curator_synth.errors import MissingDependencyError

__all__ = ["MissingPackageError", "import_optional"]


class MissingPackageError(MissingDependencyError):
    """A package outside curator_synth's extras is not installed; the message says what to ``pip install``
    (or, with ``message``, what else to do)."""

    def __init__(self, package: str, feature: str, pip_name: str | None = None, message: str | None = None) -> None:
        self.package = package
        self.extra = ""  # no curator_synth extra installs it
        text = message or f"{feature} needs the '{package}' package. Install it with: pip install {pip_name or package}"
        ImportError.__init__(self, text, name=package)


def import_optional(module: str, feature: str, pip_name: str | None = None) -> ModuleType:
    """``import module``, or :class:`MissingPackageError` saying ``feature`` needs ``pip install pip_name``."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingPackageError(module, feature, pip_name) from error
