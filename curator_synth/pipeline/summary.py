"""Fill the run report from the final records: scores, lengths, ROUGE-L to the nearest seed, diversity metrics
and cluster sizes (embeddings from the packaged MiniLM when the ``embeddings`` extra is installed), token usage."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from curator_synth.errors import MissingDependencyError
from curator_synth.pipeline.context import RunContext

__all__ = ["fill_report"]

logger = logging.getLogger(__name__)

#: Cluster sizes in the report: k-means with this many clusters at most (fewer for small datasets).
REPORT_CLUSTERS = 12


def fill_report(report: Any, frame: pd.DataFrame, ctx: RunContext) -> None:
    from curator_synth.diversity import compute_diversity_score, rouge_l_to_nearest_seed

    if any(column.startswith("reward_") for column in frame.columns):
        report.set_scores(frame)
    report.set_lengths(frame, fields=("instruction", "response"))
    instructions = frame["instruction"].fillna("").astype(str).tolist() if "instruction" in frame else []
    if ctx.config.seeds and instructions:
        report.rouge_l_to_seed = rouge_l_to_nearest_seed(instructions, ctx.seeds())
    topics = frame["source"].tolist() if "source" in frame and frame["source"].nunique() > 1 else None
    embeddings = _embeddings(instructions)
    report.diversity = compute_diversity_score(
        instructions, embeddings=embeddings, topics=topics, embed=embeddings is not None
    )
    if embeddings is not None and len(instructions) > 1:
        from curator_synth.dedup.semantic import cluster_embeddings

        labels = cluster_embeddings(embeddings, min(REPORT_CLUSTERS, len(instructions)), ctx.config.seed)
        report.set_cluster_sizes(pd.Series(labels).value_counts().sort_index().tolist())
    _usage(report, ctx)
    report.info.update({"records": str(len(frame)), "output": str(ctx.output_dir)})


def _embeddings(texts: list[str]) -> Any:
    if not texts:
        return None
    try:
        from curator_synth.embeddings import Embedder

        return Embedder().embed(texts)
    except MissingDependencyError as error:  # the report still has the lexical metrics
        logger.warning("report: no embedding metrics (%s)", error)
        return None


def _usage(report: Any, ctx: RunContext) -> None:
    from curator_synth.report import Pricing, TokenUsage

    pricing = None
    if ctx.config.pricing is not None:
        p = ctx.config.pricing
        pricing = Pricing(p.prompt_per_1m, p.completion_per_1m, p.currency)
    client = ctx.client or ctx._driver_client
    stats = getattr(client, "stats", None)
    if stats is not None and getattr(stats, "requests_sent", None):
        report.add_usage("driver", stats, pricing)
    for name, usage in ctx.usage.items():
        report.add_usage(name, TokenUsage(**usage), pricing)  # type: ignore[arg-type]
