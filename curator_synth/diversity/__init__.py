"""Diversity: :class:`DiversitySampler` (random, cluster-balanced, topic-stratified, plugins) and diversity metrics
(:func:`compute_diversity_score`: topic entropy, distinct-1/2, embedding dispersion, Vendi score; ROUGE-L to the
nearest seed)."""

from curator_synth.diversity.metrics import (
    Histogram,
    compute_diversity_score,
    distinct_n,
    embedding_dispersion,
    histogram,
    rouge_l_to_nearest_seed,
    topic_entropy,
    vendi_score,
)
from curator_synth.diversity.sampling import (
    ALLOCATIONS,
    MAX_DEFAULT_CLUSTERS,
    SAMPLING_STRATEGIES,
    ClusterBalancedStrategy,
    DiversitySampler,
    RandomStrategy,
    SamplingStrategy,
    TopicStratifiedStrategy,
    balanced_allocation,
    proportional_allocation,
)

__all__ = [
    "ALLOCATIONS",
    "MAX_DEFAULT_CLUSTERS",
    "SAMPLING_STRATEGIES",
    "ClusterBalancedStrategy",
    "DiversitySampler",
    "Histogram",
    "RandomStrategy",
    "SamplingStrategy",
    "TopicStratifiedStrategy",
    "balanced_allocation",
    "compute_diversity_score",
    "distinct_n",
    "embedding_dispersion",
    "histogram",
    "proportional_allocation",
    "rouge_l_to_nearest_seed",
    "topic_entropy",
    "vendi_score",
]
