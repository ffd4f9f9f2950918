"""Generators: one module per method family, each async with a blocking twin (generators/blocking.py).

Every family is registered by name in ``GENERATORS`` (recipes name them; plugins add their own through the
``curator_synth.generators`` entry point group).
"""

from curator_synth.generators.base import GENERATORS, BaseGenerator
from curator_synth.generators.blocking import BlockingGenerator, sync_generator
from curator_synth.generators.dialogue import AsyncDialogueGenerator, DialogueGenerator
from curator_synth.generators.evol import AsyncEvolInstruct, EvolInstruct
from curator_synth.generators.magpie import AsyncMagpieGenerator, MagpieGenerator
from curator_synth.generators.nemotron import AsyncNemotronGenerator, NemotronGenerator
from curator_synth.generators.nemotron_cc import AsyncNemotronCCGenerator, NemotronCCGenerator
from curator_synth.generators.nemotron_run import NemotronPipelineResult, PipelineFailure
from curator_synth.generators.persona import AsyncPersonaGenerator, PersonaGenerator
from curator_synth.generators.responses import AsyncResponseGenerator, ResponseGenerator
from curator_synth.generators.self_instruct import AsyncSelfInstruct, SelfInstruct, load_seed_tasks
from curator_synth.generators.transforms import AsyncTransformer, Transformer
from curator_synth.outcome import Failure, Outcome

GENERATORS.add("nemotron", AsyncNemotronGenerator)
GENERATORS.add("evol_instruct", AsyncEvolInstruct)
GENERATORS.add("self_instruct", AsyncSelfInstruct)
GENERATORS.add("responses", AsyncResponseGenerator)
GENERATORS.add("dialogue", AsyncDialogueGenerator)
GENERATORS.add("magpie", AsyncMagpieGenerator)
GENERATORS.add("persona", AsyncPersonaGenerator)
GENERATORS.add("nemotron_cc", AsyncNemotronCCGenerator)
GENERATORS.add("transforms", AsyncTransformer)

__all__ = [
    "GENERATORS",
    "AsyncDialogueGenerator",
    "AsyncEvolInstruct",
    "AsyncMagpieGenerator",
    "AsyncNemotronCCGenerator",
    "AsyncNemotronGenerator",
    "AsyncPersonaGenerator",
    "AsyncResponseGenerator",
    "AsyncSelfInstruct",
    "AsyncTransformer",
    "BaseGenerator",
    "BlockingGenerator",
    "DialogueGenerator",
    "EvolInstruct",
    "Failure",
    "MagpieGenerator",
    "NemotronCCGenerator",
    "NemotronGenerator",
    "NemotronPipelineResult",
    "Outcome",
    "PersonaGenerator",
    "PipelineFailure",
    "ResponseGenerator",
    "SelfInstruct",
    "Transformer",
    "load_seed_tasks",
    "sync_generator",
]
