"""Deduplication: exact, fuzzy (MinHash-LSH), semantic, and ROUGE-L novelty against a pool."""

from curator_synth.dedup.novelty import RougeLIndex, rouge_l, rouge_tokens

__all__ = ["RougeLIndex", "rouge_l", "rouge_tokens"]
