"""Prompt templates, one module per method family; every template is registered by id in ``PROMPTS``."""

from curator_synth.prompts.base import PROMPTS, PromptTemplate, register

__all__ = ["PROMPTS", "PromptTemplate", "register"]
