"""Generators: one module per method family, each async with a generated blocking twin."""

from curator_synth.generators.base import BaseGenerator, Failure, StageResult, as_async_client
from curator_synth.generators.sync import sync_generator

__all__ = ["BaseGenerator", "Failure", "StageResult", "as_async_client", "sync_generator"]
