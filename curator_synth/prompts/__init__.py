"""Prompt templates, one module per method family; every template is registered by id in ``PROMPTS``.

Importing this package imports every family, so ``PROMPTS`` is complete (recipes look templates up by id).
"""

from curator_synth.prompts import (
    evol,
    judge,
    magpie,
    nemotron,
    nemotron_cc,
    pairwise,
    persona,
    responses,
    self_instruct,
    transforms,
)
from curator_synth.prompts.base import PROMPTS, PromptTemplate, register, transcript

__all__ = [
    "PROMPTS",
    "PromptTemplate",
    "evol",
    "judge",
    "magpie",
    "nemotron",
    "nemotron_cc",
    "pairwise",
    "persona",
    "register",
    "responses",
    "self_instruct",
    "transcript",
    "transforms",
]
