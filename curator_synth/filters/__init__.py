"""Filters: the ``DocumentFilter`` contract, the steps that apply filters to a dataset, and the filters.

``ScoreFilter(WordCountFilter())(dataset)`` returns a :class:`FilteredDataset` whose ``report()`` counts
kept/dropped rows and drop reasons per step. Filters are registered by name in :data:`FILTERS`.
"""

from curator_synth.filters.base import FILTERS, DocumentFilter, PairFilter, batched, is_batched, register_filter
from curator_synth.filters.bitext import LengthRatioFilter
from curator_synth.filters.code import (
    AlphaFilter,
    GeneralCommentToCodeFilter,
    NumberOfLinesOfCodeFilter,
    PythonCommentToCodeFilter,
    TokenizerFertilityFilter,
    XMLHeaderFilter,
)
from curator_synth.filters.code_extension import PerExtensionFilter
from curator_synth.filters.combined import CombinedFilter, rejection_counts
from curator_synth.filters.heuristic import (
    CommonEnglishWordsFilter,
    LongWordFilter,
    MeanWordLengthFilter,
    NonAlphaNumericFilter,
    NumbersFilter,
    ParenthesesFilter,
    PornographicUrlsFilter,
    SymbolsToWordsFilter,
    UrlsFilter,
    WhiteSpaceFilter,
    WordCountFilter,
    WordsWithoutAlphabetsFilter,
)
from curator_synth.filters.heuristic_lines import (
    BoilerPlateStringFilter,
    BulletsFilter,
    EllipsisFilter,
    PunctuationFilter,
    SubstringFilter,
    TokenCountFilter,
)
from curator_synth.filters.html import HTMLBoilerplateFilter
from curator_synth.filters.instruction import (
    EchoFilter,
    EmptyResponseFilter,
    FewShotContinuationFilter,
    InstructionOverlapFilter,
    LanguageFilter,
    RefusalFilter,
    TruncatedResponseFilter,
)
from curator_synth.filters.llm_guard import (
    GUARD_CATEGORIES,
    GuardVerdict,
    LlmGuardFilter,
    build_guard_messages,
    parse_guard_output,
)
from curator_synth.filters.pii import PiiFilter, PiiMatch, RedactPii, detect_pii, redact_pii
from curator_synth.filters.qa_checks import AnswerabilityFilter, EasinessFilter
from curator_synth.filters.quality import (
    QualityFilter,
    QualitySignals,
    quality_score,
    quality_scores,
    quality_signals,
)
from curator_synth.filters.repetition import (
    RepeatedLinesByCharFilter,
    RepeatedLinesFilter,
    RepeatedParagraphsByCharFilter,
    RepeatedParagraphsFilter,
    RepeatingDuplicateNGramsFilter,
    RepeatingTopNGramsFilter,
)
from curator_synth.filters.report import REASON_COLUMN, FilteredDataset, FilterReport, StepCounts
from curator_synth.filters.safety import SAFETY_CATEGORIES, SafetyFilter, safety_flags
from curator_synth.filters.steps import Filter, FilterStep, Score, ScoreFilter, Sequential
from curator_synth.filters.thresholds import ScoreThresholdFilter

__all__ = [
    "FILTERS",
    "GUARD_CATEGORIES",
    "REASON_COLUMN",
    "SAFETY_CATEGORIES",
    "AlphaFilter",
    "AnswerabilityFilter",
    "BoilerPlateStringFilter",
    "BulletsFilter",
    "CombinedFilter",
    "CommonEnglishWordsFilter",
    "DocumentFilter",
    "EasinessFilter",
    "EchoFilter",
    "EllipsisFilter",
    "EmptyResponseFilter",
    "FewShotContinuationFilter",
    "Filter",
    "FilterReport",
    "FilterStep",
    "FilteredDataset",
    "GeneralCommentToCodeFilter",
    "GuardVerdict",
    "HTMLBoilerplateFilter",
    "InstructionOverlapFilter",
    "LanguageFilter",
    "LengthRatioFilter",
    "LlmGuardFilter",
    "LongWordFilter",
    "MeanWordLengthFilter",
    "NonAlphaNumericFilter",
    "NumberOfLinesOfCodeFilter",
    "NumbersFilter",
    "PairFilter",
    "ParenthesesFilter",
    "PerExtensionFilter",
    "PiiFilter",
    "PiiMatch",
    "PornographicUrlsFilter",
    "PunctuationFilter",
    "PythonCommentToCodeFilter",
    "QualityFilter",
    "QualitySignals",
    "RedactPii",
    "RefusalFilter",
    "RepeatedLinesByCharFilter",
    "RepeatedLinesFilter",
    "RepeatedParagraphsByCharFilter",
    "RepeatedParagraphsFilter",
    "RepeatingDuplicateNGramsFilter",
    "RepeatingTopNGramsFilter",
    "SafetyFilter",
    "Score",
    "ScoreFilter",
    "ScoreThresholdFilter",
    "Sequential",
    "StepCounts",
    "SubstringFilter",
    "SymbolsToWordsFilter",
    "TokenCountFilter",
    "TokenizerFertilityFilter",
    "TruncatedResponseFilter",
    "UrlsFilter",
    "WhiteSpaceFilter",
    "WordCountFilter",
    "WordsWithoutAlphabetsFilter",
    "XMLHeaderFilter",
    "batched",
    "build_guard_messages",
    "detect_pii",
    "is_batched",
    "parse_guard_output",
    "quality_score",
    "quality_scores",
    "quality_signals",
    "redact_pii",
    "register_filter",
    "rejection_counts",
    "safety_flags",
]
