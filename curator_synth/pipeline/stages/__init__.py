"""The pipeline's stages, registered by name in :data:`STAGES` (recipes name them; plugins add their own)."""

# Modules whose stages register on import (their classes are reached through STAGES).
from curator_synth.pipeline.stages import blend, records, topics  # noqa: F401
from curator_synth.pipeline.stages.base import STAGES, Stage, StageOptions, StageOutput, register_stage
from curator_synth.pipeline.stages.data import DedupStage, FilterStage, RedactPiiStage, SampleStage
from curator_synth.pipeline.stages.decontaminate import DecontaminateStage
from curator_synth.pipeline.stages.llm import EvolStage, ResponsesStage, ScoreStage, SelfInstructStage
from curator_synth.pipeline.stages.load import LoadStage

__all__ = [
    "STAGES",
    "DecontaminateStage",
    "DedupStage",
    "EvolStage",
    "FilterStage",
    "LoadStage",
    "RedactPiiStage",
    "ResponsesStage",
    "SampleStage",
    "ScoreStage",
    "SelfInstructStage",
    "Stage",
    "StageOptions",
    "StageOutput",
    "register_stage",
]
