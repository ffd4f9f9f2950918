"""NeMo Curator's module layout over curator_synth, so that migrating is renaming ``nemo_curator`` to
``curator_synth.nemo`` in imports (issue 18; what differs is in ``docs/nemo_migration.md``).

What is here: :mod:`~curator_synth.nemo.services` (0.9's LLM clients) and :mod:`~curator_synth.nemo.models`
(1.x's ``models.client``), :mod:`~curator_synth.nemo.synthetic` (the formatters and the Nemotron / Nemotron-CC
generators), :mod:`~curator_synth.nemo.datasets` (``DocumentDataset``, ``ParallelDataset``),
:mod:`~curator_synth.nemo.filters`, :mod:`~curator_synth.nemo.modules` (the filter steps, ``blend_datasets``,
``ExactDuplicates``, ``TaskDecontamination``, ...), :mod:`~curator_synth.nemo.tasks` and
:mod:`~curator_synth.nemo.utils`. The native API (:mod:`curator_synth.clients`, :mod:`curator_synth.generators`, ...)
stays as it is where the two differ.
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
