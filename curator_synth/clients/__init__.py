"""LLM clients: one async engine, sync facades, OpenAI-compatible and NIM endpoints, conversation formatters.

``TransformersClient`` / ``AsyncTransformersClient`` (a Hugging Face model run in process, the ``transformers``
extra) are imported on first access, so importing this package never imports torch.
"""

from curator_synth._lazy import lazy_getattr as _lazy_getattr
from curator_synth.clients.base import AsyncLLMClient, LLMClient
from curator_synth.clients.bulk import QueryRequest, QueryResult, bounded_map
from curator_synth.clients.config import ConnectionConfig, RateLimits, RetryPolicy, Secret
from curator_synth.clients.formatters import (
    FORMATTERS,
    ChatMLFormatter,
    ConversationFormatter,
    Llama3Formatter,
    MixtralFormatter,
    NemotronFormatter,
    SingleTurnFormatter,
)
from curator_synth.clients.journal import Journal
from curator_synth.clients.nemotron import AsyncNemotronClient, NemotronClient
from curator_synth.clients.openai import AsyncOpenAIClient, ClientOptions, OpenAIClient
from curator_synth.clients.receipts import journal_namespace
from curator_synth.clients.stats import ClientStats
from curator_synth.clients.sync import SyncClient
from curator_synth.clients.transport import TRANSPORTS, Transport

#: Public names imported on first use: name -> module.
_LAZY = {
    "AsyncTransformersClient": "curator_synth.clients.transformers",
    "TransformersClient": "curator_synth.clients.transformers",
}

__getattr__ = _lazy_getattr(__name__, _LAZY)

__all__ = [
    "FORMATTERS",
    "TRANSPORTS",
    "AsyncLLMClient",
    "AsyncNemotronClient",
    "AsyncOpenAIClient",
    "AsyncTransformersClient",
    "ChatMLFormatter",
    "ClientOptions",
    "ClientStats",
    "ConnectionConfig",
    "ConversationFormatter",
    "Journal",
    "LLMClient",
    "Llama3Formatter",
    "MixtralFormatter",
    "NemotronClient",
    "NemotronFormatter",
    "OpenAIClient",
    "QueryRequest",
    "QueryResult",
    "RateLimits",
    "RetryPolicy",
    "Secret",
    "SingleTurnFormatter",
    "SyncClient",
    "TransformersClient",
    "Transport",
    "bounded_map",
    "journal_namespace",
]
