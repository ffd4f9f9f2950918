"""curator_synth: generate and curate synthetic instruction-tuning and preference data for LLM training.

The public API is listed in ``__all__``; everything else is internal and may change. Names that need pandas
or Dask (``DocumentDataset``, ...) are imported on first access, so ``import curator_synth`` stays light.
"""

from curator_synth._lazy import lazy_getattr as _lazy_getattr
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
    "DocumentFilter": "curator_synth.filters",
    "ScoreFilter": "curator_synth.filters",
    "Score": "curator_synth.filters",
    "Filter": "curator_synth.filters",
    "Sequential": "curator_synth.filters",
    "quality_score": "curator_synth.filters",
    "ExactDuplicates": "curator_synth.dedup",
    "FuzzyDuplicates": "curator_synth.dedup",
    "SemanticDuplicates": "curator_synth.dedup",
    "DiversitySampler": "curator_synth.diversity",
    "compute_diversity_score": "curator_synth.diversity",
    "Embedder": "curator_synth.embeddings",
    "SyntheticDataGenerator": "curator_synth.pipeline",
    "Sample": "curator_synth.pipeline",
    "CombinedFilter": "curator_synth.filters",
    "blend": "curator_synth.blending",
    "BlendResult": "curator_synth.blending",
    "BlendReport": "curator_synth.blending",
    "TransformersClient": "curator_synth.clients.transformers",
    "AsyncTransformersClient": "curator_synth.clients.transformers",
}


__getattr__ = _lazy_getattr(__name__, _LAZY)


__all__ = [
    "APIStatusError",
    "AsyncLLMClient",
    "AsyncNemotronClient",
    "AsyncOpenAIClient",
    "AsyncTransformersClient",
    "BlendReport",
    "BlendResult",
    "ChatMLFormatter",
    "CombinedFilter",
    "ConfigError",
    "ConversationFormatter",
    "CuratorSynthError",
    "DiversitySampler",
    "DocumentDataset",
    "DocumentFilter",
    "Embedder",
    "ExactDuplicates",
    "Filter",
    "FuzzyDuplicates",
    "LLMClient",
    "Llama3Formatter",
    "MissingDependencyError",
    "MixtralFormatter",
    "NemotronClient",
    "NemotronFormatter",
    "OpenAIClient",
    "RateLimitError",
    "ResponseParseError",
    "Sample",
    "Score",
    "ScoreFilter",
    "SemanticDuplicates",
    "Sequential",
    "SingleTurnFormatter",
    "SyntheticDataGenerator",
    "TransformersClient",
    "TransportError",
    "YamlConversionError",
    "__version__",
    "blend",
    "compute_diversity_score",
    "quality_score",
]
