"""NeMo Curator 1.x's ``nemo_curator.models.client``: ``GenerationConfig``, the ``LLMClient`` / ``AsyncLLMClient``
contracts (``setup()``, ``_query_model_impl``, ``max_concurrent_requests``) and the OpenAI SDK clients built from
keyword arguments. 0.9's clients, which wrap an SDK instance you build, are in :mod:`curator_synth.nemo.services`.
"""

from curator_synth.nemo.models.client.llm_client import (
    AsyncLLMClient,
    ConversationFormatter,
    GenerationConfig,
    LLMClient,
)
from curator_synth.nemo.models.client.openai_client import AsyncOpenAIClient, OpenAIClient

__all__ = [
    "AsyncLLMClient",
    "AsyncOpenAIClient",
    "ConversationFormatter",
    "GenerationConfig",
    "LLMClient",
    "OpenAIClient",
]
