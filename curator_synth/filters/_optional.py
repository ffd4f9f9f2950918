"""Optional packages that no curator_synth extra installs (fastText, SentencePiece, COMET): imported on first use,
and a :class:`~curator_synth.errors.MissingPackageError` naming the ``pip install`` command when they are not there."""

from __future__ import annotations

import importlib
from types import ModuleType

from curator_synth.errors import MissingPackageError

__all__ = ["MissingPackageError", "import_optional"]


def import_optional(module: str, feature: str, pip_name: str | None = None) -> ModuleType:
    """``import module``, or :class:`MissingPackageError` saying ``feature`` needs ``pip install pip_name``."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingPackageError(module, feature, pip_name) from error
