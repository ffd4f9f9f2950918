"""NeMo Curator's module layout over curator_synth, so that migrating is renaming ``nemo_curator`` to
``curator_synth.nemo`` in imports (issue 18; what differs is in ``docs/nemo_migration.md``).

Landed so far: :mod:`curator_synth.nemo.services` (the LLM clients), the formatters and the abstract generator of
:mod:`curator_synth.nemo.synthetic`, ``DocumentDataset`` and ``ParallelDataset`` (:mod:`curator_synth.nemo.datasets`),
:mod:`curator_synth.nemo.filters`, ``blend_datasets``, ``ExactDuplicates`` and the filter steps
(:mod:`curator_synth.nemo.modules`), and :mod:`curator_synth.nemo.utils` (``batched``, ``safe_import``). The
native API (:mod:`curator_synth.clients`, :mod:`curator_synth.generators`, ...) stays as it is where the two differ.
"""

import importlib
from typing import Any

from curator_synth._lazy import lazy_getattr as _lazy_getattr

#: NeMo's top-level names: its modules (``from nemo_curator import ScoreFilter``) and DocumentDataset.
_MODULE_NAMES = (
    "AddId",
    "BaseConfig",
    "DocumentJoiner",
    "DocumentSplitter",
    "ExactDuplicates",
    "Filter",
    "Modify",
    "ParallelScoreFilter",
    "Score",
    "ScoreFilter",
    "Sequential",
    "Shuffle",
    "TaskDecontamination",
    "blend_datasets",
)
_SUBMODULES = ("datasets", "filters", "models", "modules", "services", "synthetic", "tasks", "utils")

__all__ = ["DocumentDataset", *_MODULE_NAMES, *_SUBMODULES]

_names = _lazy_getattr(
    __name__,
    {"DocumentDataset": "curator_synth.nemo.datasets", **dict.fromkeys(_MODULE_NAMES, "curator_synth.nemo.modules")},
)


def __getattr__(name: str) -> Any:
    """NeMo's top-level names and subpackages, imported on first use."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    return _names(name)
