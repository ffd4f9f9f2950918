"""Prompt templates, one module per method family; every template is registered by id in ``PROMPTS``.

Importing this package imports every family, so ``PROMPTS`` is complete (recipes look templates up by id).
"""

from curator_synth.prompts import evol, magpie, nemotron, persona, responses, self_instruct
from curator_synth.prompts.base import PROMPTS, PromptTemplate, register, transcript

__all__ = [
    "PROMPTS",
    "PromptTemplate",
    "evol",
    "magpie",
    "nemotron",
    "persona",
    "register",
    "responses",
    "self_instruct",
    "transcript",
]
