"""Prompt templates, one module per method family; every template is registered by id in ``PROMPTS``.

Importing this package imports every family, so ``PROMPTS`` is complete (recipes look templates up by id).
"""

from curator_synth.prompts import evol, nemotron, self_instruct
from curator_synth.prompts.base import PROMPTS, PromptTemplate, register

__all__ = ["PROMPTS", "PromptTemplate", "evol", "nemotron", "register", "self_instruct"]
