"""curator_synth: generate and curate synthetic instruction-tuning and preference data for LLM training.

The public API is listed in ``__all__``; everything else is internal and may change.
"""

from curator_synth._version import __version__
from curator_synth.clients import (
    AsyncLLMClient,
    AsyncNemotronClient,
    AsyncOpenAIClient,
    ChatMLFormatter,
    ConversationFormatter,
    Llama3Formatter,
    LLMClient,
    MixtralFormatter,
    NemotronClient,
    NemotronFormatter,
    OpenAIClient,
    SingleTurnFormatter,
)
from curator_synth.errors import (
    APIStatusError,
    ConfigError,
    CuratorSynthError,
    MissingDependencyError,
    RateLimitError,
    ResponseParseError,
    TransportError,
    YamlConversionError,
)

__all__ = [
    "APIStatusError",
    "AsyncLLMClient",
    "AsyncNemotronClient",
    "AsyncOpenAIClient",
    "ChatMLFormatter",
    "ConfigError",
    "ConversationFormatter",
    "CuratorSynthError",
    "LLMClient",
    "Llama3Formatter",
    "MissingDependencyError",
    "MixtralFormatter",
    "NemotronClient",
    "NemotronFormatter",
    "OpenAIClient",
    "RateLimitError",
    "ResponseParseError",
    "SingleTurnFormatter",
    "TransportError",
    "YamlConversionError",
    "__version__",
]
