"""curator_synth: generate and curate synthetic instruction-tuning and preference data for LLM training.

The public API is listed in ``__all__``; everything else is internal and may change. Names that need pandas
or Dask (``DocumentDataset``, ...) are imported on first access, so ``import curator_synth`` stays light.
"""

import importlib
from typing import Any

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

#: Public names imported on first use: name -> module.
_LAZY = {
    "DocumentDataset": "curator_synth.dataset",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'curator_synth' has no attribute {name!r}")


__all__ = [
    "APIStatusError",
    "AsyncLLMClient",
    "AsyncNemotronClient",
    "AsyncOpenAIClient",
    "ChatMLFormatter",
    "ConfigError",
    "ConversationFormatter",
    "CuratorSynthError",
    "DocumentDataset",
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
