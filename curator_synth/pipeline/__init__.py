"""Pipelines: a validated recipe (:class:`PipelineConfig`, YAML) run stage by stage with resume
(:class:`SyntheticDataPipeline`), the seed README's one-call API (:func:`run_simple_pipeline`), and the seed
pipeline's generator (:class:`SyntheticDataGenerator`, producing :class:`Sample` objects). Wherever a client is
taken, a Hugging Face model and its tokenizer are accepted too (:func:`resolve_client`)."""

from curator_synth.clients.accept import resolve_client
from curator_synth.pipeline.config import BiasConfig, PipelineConfig, load_config
from curator_synth.pipeline.generator import (
    AsyncSyntheticDataGenerator,
    GenerationReport,
    Sample,
    SyntheticDataGenerator,
)
from curator_synth.pipeline.runner import PipelineResult, SyntheticDataPipeline
from curator_synth.pipeline.simple import run_simple_pipeline
from curator_synth.pipeline.stages import STAGES, Stage, StageOptions, StageOutput, register_stage

__all__ = [
    "STAGES",
    "AsyncSyntheticDataGenerator",
    "BiasConfig",
    "GenerationReport",
    "PipelineConfig",
    "PipelineResult",
    "Sample",
    "Stage",
    "StageOptions",
    "StageOutput",
    "SyntheticDataGenerator",
    "SyntheticDataPipeline",
    "load_config",
    "register_stage",
    "resolve_client",
    "run_simple_pipeline",
]
