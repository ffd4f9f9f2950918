"""Blending: mix synthetic and authentic datasets at configured ratios (per source and per category), with
cross-source dedup and provenance kept (``docs/blending.md``). The pipeline stage is ``blend``."""

from curator_synth.blending.core import BLEND_SOURCE, MISSING_CATEGORY, BlendResult, blend
from curator_synth.blending.dedup import BLEND_DEDUP
from curator_synth.blending.ratios import allocate, normalise_ratios, plan_quotas
from curator_synth.blending.report import BlendReport, BlendShortfallError, CellCounts, Shortfall, SourceCounts

__all__ = [
    "BLEND_DEDUP",
    "BLEND_SOURCE",
    "MISSING_CATEGORY",
    "BlendReport",
    "BlendResult",
    "BlendShortfallError",
    "CellCounts",
    "Shortfall",
    "SourceCounts",
    "allocate",
    "blend",
    "normalise_ratios",
    "plan_quotas",
]
