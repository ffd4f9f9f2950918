"""Deduplication: exact (normalised hash), fuzzy (MinHash-LSH), semantic (embeddings), and ROUGE-L novelty; and
decontamination against benchmark (evaluation) sets by word n-grams.

The Dask-based classes are imported on first use, so modules that need only the ROUGE-L index (Self-Instruct)
do not load pandas and Dask.
"""

from curator_synth._lazy import lazy_getattr as _lazy_getattr
from curator_synth.dedup.novelty import NoveltyDuplicates, RougeLIndex, rouge_l, rouge_tokens

_LAZY = {
    "ExactDuplicates": "curator_synth.dedup.exact",
    "remove_duplicates": "curator_synth.dedup.exact",
    "normalize_text": "curator_synth.dedup.exact",
    "HASH_METHODS": "curator_synth.dedup.exact",
    "FuzzyDuplicates": "curator_synth.dedup.fuzzy",
    "FuzzyDuplicatesConfig": "curator_synth.dedup.fuzzy",
    "SemanticDuplicates": "curator_synth.dedup.semantic",
    "cluster_embeddings": "curator_synth.dedup.semantic",
    "similarity_groups": "curator_synth.dedup.semantic",
    "Benchmark": "curator_synth.dedup.benchmarks",
    "BenchmarkDecontamination": "curator_synth.dedup.decontamination",
    "DecontaminationResult": "curator_synth.dedup.decontamination",
    "Contamination": "curator_synth.dedup.ngram_index",
    "NgramIndex": "curator_synth.dedup.ngram_index",
    "SplitOptions": "curator_synth.dedup.ngram_index",
}


__getattr__ = _lazy_getattr(__name__, _LAZY)


__all__ = [
    "HASH_METHODS",
    "Benchmark",
    "BenchmarkDecontamination",
    "Contamination",
    "DecontaminationResult",
    "ExactDuplicates",
    "FuzzyDuplicates",
    "FuzzyDuplicatesConfig",
    "NgramIndex",
    "NoveltyDuplicates",
    "RougeLIndex",
    "SemanticDuplicates",
    "SplitOptions",
    "cluster_embeddings",
    "normalize_text",
    "remove_duplicates",
    "rouge_l",
    "rouge_tokens",
    "similarity_groups",
]
