"""NeMo's ``DocumentFilter`` (curator_synth's own: :class:`curator_synth.filters.base.DocumentFilter`, whose
``score_document`` / ``keep_document`` may be ``@batched``) and ``import_filter``."""

from __future__ import annotations

import importlib

from curator_synth.errors import ConfigError
from curator_synth.filters.base import DocumentFilter
from curator_synth.nemo.filters.bitext_filter import BitextFilter

__all__ = ["DocumentFilter", "import_filter"]


def import_filter(filter_path: str) -> type[DocumentFilter] | type[BitextFilter]:
    """The filter class at ``filter_path`` (``"curator_synth.nemo.filters.WordCountFilter"``, or any
    ``module.Class``); a class that is neither a ``DocumentFilter`` nor a ``BitextFilter`` is a ``TypeError``."""
    module_path, _, name = filter_path.rpartition(".")
    if not module_path:
        raise ConfigError(f"filter_path must be 'module.ClassName', got {filter_path!r}")
    found = getattr(importlib.import_module(module_path), name, None)
    if found is None:
        raise ConfigError(f"{module_path} has no filter named {name!r}")
    if not (isinstance(found, type) and issubclass(found, (DocumentFilter, BitextFilter))):
        raise TypeError(f"{filter_path} is not a DocumentFilter or BitextFilter subclass")
    return found
