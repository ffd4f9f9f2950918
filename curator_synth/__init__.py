"""curator_synth: generate and curate synthetic instruction-tuning and preference data for LLM training.

The front door: the names a user needs to start, by what they are for. Everything else stays in its subpackage
(``curator_synth.clients`` for formatters and transports, ``curator_synth.errors`` for the whole error tree,
``curator_synth.testing`` for ``FakeLLMServer``, ...). Names that need pandas, Dask or torch are imported on
first access, so ``import curator_synth`` stays light.

- **Endpoints**: ``OpenAIClient`` / ``AsyncOpenAIClient`` (any OpenAI-compatible endpoint: vLLM, NIM, llama.cpp,
  OpenAI), ``NemotronClient`` / ``AsyncNemotronClient`` (NIM defaults, the Nemotron reward model),
  ``TransformersClient`` / ``AsyncTransformersClient`` (a local Hugging Face model), and the contracts
  ``LLMClient`` / ``AsyncLLMClient``.
- **Pipelines**: ``SyntheticDataPipeline`` (a recipe, resumable, on Dask), ``PipelineConfig``, ``load_config``,
  ``PipelineResult``, ``run_simple_pipeline`` (seeds in, curated data out, one call).
- **Generators**, blocking and async: ``NemotronGenerator``, ``NemotronCCGenerator``, ``SelfInstruct``,
  ``EvolInstruct``, ``ResponseGenerator``, ``DialogueGenerator``, ``MagpieGenerator``, ``PersonaGenerator``,
  ``Transformer``, ``SyntheticDataGenerator`` (and ``Sample``).
- **Judges and preference data**: ``RewardModel`` / ``AsyncRewardModel``, ``PairwiseJudge`` /
  ``AsyncPairwiseJudge``, ``build_preference_pairs``.
- **Data and curation**: ``DocumentDataset``; filters (``ScoreFilter``, ``Score``, ``Filter``, ``Sequential``,
  ``DocumentFilter``, ``CombinedFilter``, ``quality_score``); dedup (``ExactDuplicates``, ``FuzzyDuplicates``,
  ``SemanticDuplicates``); ``DiversitySampler``, ``compute_diversity_score``, ``Embedder``; ``blend``
  (``BlendResult``, ``BlendReport``); ``export``.
- **Errors** most often caught: ``CuratorSynthError`` (the root), ``ConfigError``, ``APIStatusError``,
  ``RateLimitError``, ``TransportError``, ``ResponseParseError``, ``YamlConversionError``,
  ``MissingDependencyError``, ``StageError``, ``IncompleteStageError``.
"""

from typing import TYPE_CHECKING

from curator_synth._lazy import lazy_getattr as _lazy_getattr
from curator_synth._version import __version__
from curator_synth.clients import (
    AsyncLLMClient,
    AsyncNemotronClient,
    AsyncOpenAIClient,
    LLMClient,
    NemotronClient,
    OpenAIClient,
)
from curator_synth.errors import (
    APIStatusError,
    ConfigError,
    CuratorSynthError,
    IncompleteStageError,
    MissingDependencyError,
    RateLimitError,
    ResponseParseError,
    StageError,
    TransportError,
    YamlConversionError,
)

if TYPE_CHECKING:  # what mypy and IDEs read; at run time the names are imported on first use (_LAZY)
    from curator_synth.blending import BlendReport, BlendResult, blend
    from curator_synth.clients.transformers import AsyncTransformersClient, TransformersClient
    from curator_synth.dataset import DocumentDataset
    from curator_synth.dedup import ExactDuplicates, FuzzyDuplicates, SemanticDuplicates
    from curator_synth.diversity import DiversitySampler, compute_diversity_score
    from curator_synth.embeddings import Embedder
    from curator_synth.exports import export
    from curator_synth.filters import (
        CombinedFilter,
        DocumentFilter,
        Filter,
        Score,
        ScoreFilter,
        Sequential,
        quality_score,
    )
    from curator_synth.generators import (
        AsyncDialogueGenerator,
        AsyncEvolInstruct,
        AsyncMagpieGenerator,
        AsyncNemotronCCGenerator,
        AsyncNemotronGenerator,
        AsyncPersonaGenerator,
        AsyncResponseGenerator,
        AsyncSelfInstruct,
        AsyncTransformer,
        DialogueGenerator,
        EvolInstruct,
        MagpieGenerator,
        NemotronCCGenerator,
        NemotronGenerator,
        PersonaGenerator,
        ResponseGenerator,
        SelfInstruct,
        Transformer,
    )
    from curator_synth.pipeline import (
        PipelineConfig,
        PipelineResult,
        SyntheticDataGenerator,
        SyntheticDataPipeline,
        load_config,
        run_simple_pipeline,
    )
    from curator_synth.records import Sample
    from curator_synth.reward import (
        AsyncPairwiseJudge,
        AsyncRewardModel,
        PairwiseJudge,
        RewardModel,
        build_preference_pairs,
    )

_GENERATORS = (
    "NemotronGenerator", "NemotronCCGenerator", "SelfInstruct", "EvolInstruct", "ResponseGenerator",
    "DialogueGenerator", "MagpieGenerator", "PersonaGenerator", "Transformer",
)  # fmt: skip

#: Public names imported on first use: name -> module.
_LAZY = {
    "TransformersClient": "curator_synth.clients.transformers",
    "AsyncTransformersClient": "curator_synth.clients.transformers",
    "SyntheticDataPipeline": "curator_synth.pipeline",
    "PipelineConfig": "curator_synth.pipeline",
    "PipelineResult": "curator_synth.pipeline",
    "load_config": "curator_synth.pipeline",
    "run_simple_pipeline": "curator_synth.pipeline",
    "SyntheticDataGenerator": "curator_synth.pipeline",
    "Sample": "curator_synth.records",
    **{name: "curator_synth.generators" for name in _GENERATORS},
    **{f"Async{name}": "curator_synth.generators" for name in _GENERATORS},
    "RewardModel": "curator_synth.reward",
    "AsyncRewardModel": "curator_synth.reward",
    "PairwiseJudge": "curator_synth.reward",
    "AsyncPairwiseJudge": "curator_synth.reward",
    "build_preference_pairs": "curator_synth.reward",
    "DocumentDataset": "curator_synth.dataset",
    "DocumentFilter": "curator_synth.filters",
    "ScoreFilter": "curator_synth.filters",
    "Score": "curator_synth.filters",
    "Filter": "curator_synth.filters",
    "Sequential": "curator_synth.filters",
    "CombinedFilter": "curator_synth.filters",
    "quality_score": "curator_synth.filters",
    "ExactDuplicates": "curator_synth.dedup",
    "FuzzyDuplicates": "curator_synth.dedup",
    "SemanticDuplicates": "curator_synth.dedup",
    "DiversitySampler": "curator_synth.diversity",
    "compute_diversity_score": "curator_synth.diversity",
    "Embedder": "curator_synth.embeddings",
    "blend": "curator_synth.blending",
    "BlendResult": "curator_synth.blending",
    "BlendReport": "curator_synth.blending",
    "export": "curator_synth.exports",
}


__getattr__ = _lazy_getattr(__name__, _LAZY)


__all__ = [
    "APIStatusError",
    "AsyncDialogueGenerator",
    "AsyncEvolInstruct",
    "AsyncLLMClient",
    "AsyncMagpieGenerator",
    "AsyncNemotronCCGenerator",
    "AsyncNemotronClient",
    "AsyncNemotronGenerator",
    "AsyncOpenAIClient",
    "AsyncPairwiseJudge",
    "AsyncPersonaGenerator",
    "AsyncResponseGenerator",
    "AsyncRewardModel",
    "AsyncSelfInstruct",
    "AsyncTransformer",
    "AsyncTransformersClient",
    "BlendReport",
    "BlendResult",
    "CombinedFilter",
    "ConfigError",
    "CuratorSynthError",
    "DialogueGenerator",
    "DiversitySampler",
    "DocumentDataset",
    "DocumentFilter",
    "Embedder",
    "EvolInstruct",
    "ExactDuplicates",
    "Filter",
    "FuzzyDuplicates",
    "IncompleteStageError",
    "LLMClient",
    "MagpieGenerator",
    "MissingDependencyError",
    "NemotronCCGenerator",
    "NemotronClient",
    "NemotronGenerator",
    "OpenAIClient",
    "PairwiseJudge",
    "PersonaGenerator",
    "PipelineConfig",
    "PipelineResult",
    "RateLimitError",
    "ResponseGenerator",
    "ResponseParseError",
    "RewardModel",
    "Sample",
    "Score",
    "ScoreFilter",
    "SelfInstruct",
    "SemanticDuplicates",
    "Sequential",
    "StageError",
    "SyntheticDataGenerator",
    "SyntheticDataPipeline",
    "Transformer",
    "TransformersClient",
    "TransportError",
    "YamlConversionError",
    "__version__",
    "blend",
    "build_preference_pairs",
    "compute_diversity_score",
    "export",
    "load_config",
    "quality_score",
    "run_simple_pipeline",
]
