"""NeMo Curator 0.9's ``nemo_curator.synthetic``: the Nemotron and Nemotron-CC generators (async and blocking), the
conversation formatters, the prompt constants and ``YamlConversionError``, over curator_synth's own generators,
templates and parsers (docs/nemo_migration.md lists what differs)."""

from curator_synth.nemo.synthetic._formats import NemotronFormatter
from curator_synth.nemo.synthetic.async_nemotron import AsyncNemotronGenerator
from curator_synth.nemo.synthetic.async_nemotron_cc import AsyncNemotronCCGenerator
from curator_synth.nemo.synthetic.error import YamlConversionError
from curator_synth.nemo.synthetic.mixtral import Mixtral8x7BFormatter
from curator_synth.nemo.synthetic.nemotron import NemotronGenerator
from curator_synth.nemo.synthetic.nemotron_cc import (
    NemotronCCDiverseQAPostprocessor,
    NemotronCCGenerator,
    NemotronCCKnowledgeListPostprocessor,
)
from curator_synth.nemo.synthetic.no_format import NoFormat
from curator_synth.nemo.synthetic.prompts import *  # noqa: F403  # NeMo re-exports every prompt constant here
from curator_synth.nemo.synthetic.prompts import __all__ as _prompt_names

__all__ = [
    "AsyncNemotronCCGenerator",
    "AsyncNemotronGenerator",
    "Mixtral8x7BFormatter",
    "NemotronCCDiverseQAPostprocessor",
    "NemotronCCGenerator",
    "NemotronCCKnowledgeListPostprocessor",
    "NemotronFormatter",
    "NemotronGenerator",
    "NoFormat",
    "YamlConversionError",
    *_prompt_names,
]
