"""LLM clients: one async engine, sync facades, OpenAI-compatible and NIM endpoints, conversation formatters."""

from curator_synth.clients.base import AsyncLLMClient, LLMClient
from curator_synth.clients.bulk import QueryRequest, QueryResult, bounded_map
from curator_synth.clients.config import ConnectionConfig, RateLimits, RetryPolicy, Secret
from curator_synth.clients.engine import journal_namespace
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
from curator_synth.clients.stats import ClientStats
from curator_synth.clients.sync import SyncClient
from curator_synth.clients.transport import TRANSPORTS, Transport

__all__ = [
    "FORMATTERS",
    "TRANSPORTS",
    "AsyncLLMClient",
    "AsyncNemotronClient",
    "AsyncOpenAIClient",
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
    "Transport",
    "bounded_map",
    "journal_namespace",
]
