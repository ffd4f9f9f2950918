"""NeMo Curator's module layout over curator_synth, so that migrating is renaming ``nemo_curator`` to
``curator_synth.nemo`` in imports (issue 18; what differs is in ``docs/nemo_migration.md``).

Landed so far: :mod:`curator_synth.nemo.services` (the LLM clients) and the formatters of
:mod:`curator_synth.nemo.synthetic`. The native API (:mod:`curator_synth.clients`,
:mod:`curator_synth.generators`, ...) stays as it is where the two differ.
"""

from curator_synth._lazy import lazy_getattr as _lazy_getattr

__all__ = ["services", "synthetic"]

__getattr__ = _lazy_getattr(
    __name__, {"services": "curator_synth.nemo.services", "synthetic": "curator_synth.nemo.synthetic"}
)
