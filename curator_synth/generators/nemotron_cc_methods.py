"""The ``method=`` table of ``AsyncNemotronCCGenerator.process_documents`` (:mod:`curator_synth.generators.
nemotron_cc`): for each Nemotron-CC method, the generator method that sends the request, its default template, the
post-processor that cleans its answers (:mod:`curator_synth.generators.nemotron_cc_post`) and how the rewritten
chunks of a document are joined.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from curator_synth.generators.nemotron_cc_post import (
    TokenCounter,
    clean_knowledge_list,
    postprocess_distill,
    postprocess_diverse_qa,
    postprocess_extract_knowledge,
    postprocess_wikipedia,
)
from curator_synth.prompts import nemotron_cc as prompts
from curator_synth.prompts.base import PromptTemplate

__all__ = ["NEMOTRON_CC_METHODS", "NemotronCCMethod", "PostOptions", "PostProcess"]


@dataclass(frozen=True)
class PostOptions:
    """The post-processing options of one ``process_documents`` run (QA
    sampling seed and sizing, the knowledge-list threshold, the token counter)."""

    seed: int
    tokens_per_pair: int
    max_pairs: int | None
    min_fact_words: int
    count_tokens: TokenCounter


PostProcess = Callable[[str, str, random.Random, PostOptions], str]
"""(answer, chunk, rng, options) → clean text, or ResponseParseError with the reason for rejecting it."""


@dataclass(frozen=True)
class NemotronCCMethod:
    """One ``method=`` of ``process_documents``: the generator method that sends
    the request (``call``), its default template, its post-processor, the separator between the rewritten
    chunks of one document, and the system prompt a plain-string template gets."""

    call: str
    template: PromptTemplate
    post: PostProcess
    separator: str
    system: str = prompts.NEMOTRON_CC_SYSTEM_PROMPT


NEMOTRON_CC_METHODS: dict[str, NemotronCCMethod] = {
    "wikipedia": NemotronCCMethod(
        "rewrite_to_wikipedia_style",
        prompts.WIKIPEDIA_REPHRASING_PROMPT_TEMPLATE,
        lambda answer, chunk, rng, options: postprocess_wikipedia(answer),
        "\n\n",
    ),
    "diverse_qa": NemotronCCMethod(
        "generate_diverse_qa",
        prompts.DIVERSE_QA_PROMPT_TEMPLATE,
        lambda answer, chunk, rng, options: postprocess_diverse_qa(
            answer,
            chunk,
            rng=rng,
            tokens_per_pair=options.tokens_per_pair,
            max_pairs=options.max_pairs,
            count_tokens=options.count_tokens,
        ),
        "\n\n",
    ),
    "distill": NemotronCCMethod(
        "distill",
        prompts.DISTILL_PROMPT_TEMPLATE,
        lambda answer, chunk, rng, options: postprocess_distill(answer),
        "\n\n",
        prompts.NEMOTRON_CC_DISTILL_SYSTEM_PROMPT,
    ),
    "extract_knowledge": NemotronCCMethod(
        "extract_knowledge",
        prompts.EXTRACT_KNOWLEDGE_PROMPT_TEMPLATE,
        lambda answer, chunk, rng, options: postprocess_extract_knowledge(answer),
        "\n\n",
    ),
    "knowledge_list": NemotronCCMethod(
        "generate_knowledge_list",
        prompts.KNOWLEDGE_LIST_PROMPT_TEMPLATE,
        lambda answer, chunk, rng, options: clean_knowledge_list(answer, min_words=options.min_fact_words),
        "\n",
    ),
}
"""The ``method=`` names of ``process_documents``: the generator method each one
calls, its default template, its post-processor and how its chunks are joined."""
