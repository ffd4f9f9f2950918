"""docs/filters.md: every built-in filter is in ``FILTERS`` under its class name and its ``name``, except
``AnswerabilityFilter``, whose client object a recipe cannot give."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import curator_synth.filters as filters_package
from curator_synth.filters.base import FILTERS, DocumentFilter

PYTHON_ONLY = {"AnswerabilityFilter"}


def built_in_filters() -> list[type[DocumentFilter]]:
    """The public, concrete filter classes defined in ``curator_synth.filters``' modules."""
    found: dict[str, type[DocumentFilter]] = {}
    for module_info in pkgutil.iter_modules(filters_package.__path__):
        module = importlib.import_module(f"curator_synth.filters.{module_info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (issubclass(cls, DocumentFilter) and cls.__module__ == module.__name__ and not name.startswith("_")
                    and not inspect.isabstract(cls)):  # fmt: skip
                found[name] = cls
    return [found[name] for name in sorted(found)]


def test_every_built_in_filter_is_registered_by_class_name_and_name() -> None:
    classes = built_in_filters()
    assert len(classes) > 40  # the catalogue, not an empty scan
    for cls in classes:
        if cls.__name__ in PYTHON_ONLY:
            assert cls.__name__.lower() not in FILTERS.names()
            continue
        assert FILTERS.get(cls.__name__) is cls, cls.__name__
        assert FILTERS.get(cls.name) is cls, (cls.__name__, cls.name)
