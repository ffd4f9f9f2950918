"""Pipelines: a validated recipe (:class:`PipelineConfig`, YAML) run stage by stage with resume
(:class:`SyntheticDataPipeline`), and the seed README's one-call API (:func:`run_simple_pipeline`)."""

from curator_synth.pipeline.config import PipelineConfig, load_config
from curator_synth.pipeline.runner import PipelineResult, SyntheticDataPipeline
from curator_synth.pipeline.simple import run_simple_pipeline
from curator_synth.pipeline.stages import STAGES, Stage, StageOptions, StageOutput, register_stage

__all__ = [
    "STAGES",
    "PipelineConfig",
    "PipelineResult",
    "Stage",
    "StageOptions",
    "StageOutput",
    "SyntheticDataPipeline",
    "load_config",
    "register_stage",
    "run_simple_pipeline",
]
