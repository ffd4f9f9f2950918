"""Fill the run report from the final records: scores, lengths, ROUGE-L to the nearest seed, diversity metrics
and cluster sizes (embeddings from the packaged MiniLM when the ``embeddings`` extra is installed), the bias and
representation summary (``report: {bias: ...}`` in the recipe), token usage."""

from __future__ import annotations

import logging
from typing import Any, TypedDict

import pandas as pd

from curator_synth.errors import MissingDependencyError
from curator_synth.pipeline.config import PipelineConfig
from curator_synth.pipeline.context import RunContext

__all__ = ["add_stage_summary", "fill_report"]

logger = logging.getLogger(__name__)

#: Cluster sizes in the report: k-means with this many clusters at most (fewer for small datasets).
REPORT_CLUSTERS = 12


class StageSummary(TypedDict):
    """What one stage of a run did (an item of ``PipelineResult.stages``, kept in the stage's manifest)."""

    stage: str
    records_in: int
    records_out: int
    seconds: float
    rejections: dict[str, dict[str, int]]  # {filter: {reason: count}}
    usage: dict[str, Any]  # requests, tokens, and what a stage counts (e.g. pii_redactions)
    resumed: bool  # loaded from an earlier run instead of run


def add_stage_summary(report: Any, summary: StageSummary) -> None:
    """One stage's counts, time and rejections (a summary of ``PipelineResult.stages``) into the report, its
    drops under the kind its stage declares (``Stage.drops``: filter, dedup, sample or other)."""
    from curator_synth.pipeline.stages import STAGES

    kind = STAGES.get(summary["stage"]).drops if summary["stage"] in STAGES else "other"
    report.add_stage(summary["stage"], summary["records_in"], summary["records_out"], summary["seconds"],
                     resumed=bool(summary.get("resumed")))  # fmt: skip
    for name, reasons in summary["rejections"].items():
        report.add_rejections(name, reasons, kind)


def fill_report(
    report: Any, frame: pd.DataFrame, ctx: RunContext, config: PipelineConfig, *, embed: bool = True
) -> None:
    """The report's figures from the final records; ``embed``: with the embedding metrics (semantic diversity,
    labelled clusters), else the lexical ones only."""
    from curator_synth.diversity import compute_diversity_score, rouge_l_to_nearest_seed

    if any(column.startswith("reward_") for column in frame.columns):
        report.set_scores(frame)
    report.set_lengths(frame, fields=("instruction", "response"))
    instructions = frame["instruction"].fillna("").astype(str).tolist() if "instruction" in frame else []
    if ctx.config.seeds and instructions:
        report.rouge_l_to_seed = rouge_l_to_nearest_seed(instructions, ctx.seeds())
    topics = frame["source"].tolist() if "source" in frame and frame["source"].nunique() > 1 else None
    embeddings = _embeddings(instructions, ctx) if embed else None
    report.diversity = compute_diversity_score(
        instructions, embeddings=embeddings, topics=topics, embed=embeddings is not None
    )
    if embeddings is not None and len(instructions) > 1:
        from curator_synth.dedup.semantic import cluster_embeddings
        from curator_synth.report.clusters import describe_clusters

        labels = cluster_embeddings(embeddings, min(REPORT_CLUSTERS, len(instructions)), ctx.config.seed)
        report.set_cluster_sizes(pd.Series(labels).value_counts().sort_index().tolist())
        report.clusters = describe_clusters(instructions, labels.tolist())
    if "chosen_score" in frame.columns:
        report.set_preference(frame)
    _stage_records(report, frame, ctx)
    if config.report.bias.enabled:
        _bias(report, frame, ctx, config)
    _usage(report, ctx, config)
    report.info.update({"records": str(len(frame)), "output": str(ctx.output_dir)})


#: The fields an example record shows in the report (texts cut at EXAMPLE_CHARS characters).
EXAMPLE_FIELDS = ("id", "instruction", "input", "response", "prompt", "chosen", "rejected", "text", "source")
EXAMPLE_CHARS = 1000


def _examples(frame: pd.DataFrame, shown: int) -> list[dict[str, Any]]:
    rows = frame.head(shown)[[column for column in EXAMPLE_FIELDS if column in frame.columns]]
    return [{key: value[:EXAMPLE_CHARS] if isinstance(value, str) else value for key, value in row.items()}
            for row in rows.to_dict("records")]  # fmt: skip


def _stage_records(report: Any, final: pd.DataFrame, ctx: RunContext, shown: int = 2) -> None:
    """From the stages' saved records (``stages/NN-name/data``): records by source, first stage vs kept, and a
    few records each stage kept and dropped (a filter's by reason, from its ``rejected.jsonl``; another stage's
    are the records of the stage before that it did not pass on)."""
    stage_dirs = sorted(path for path in (ctx.output_dir / "stages").glob("[0-9][0-9]-*") if (path / "data").is_dir())
    if not stage_dirs:
        return
    frames = [pd.read_parquet(path / "data") for path in stage_dirs]
    if "source" in frames[0].columns and "source" in final.columns:
        first, kept = frames[0]["source"].value_counts(), final["source"].value_counts()
        report.sources = {str(name): {"in": int(n), "out": int(kept.get(name, 0))} for name, n in first.items()}
    previous: pd.DataFrame | None = None
    for path, frame in zip(stage_dirs, frames, strict=True):
        dropped: dict[str, list[dict[str, Any]]] = {}
        rejected = path / "rejected.jsonl"
        if rejected.exists():
            rows = pd.read_json(rejected, lines=True, dtype=False)
            for reason, group in rows.groupby("filter_reason", sort=False) if len(rows) else ():
                dropped[str(reason)] = _examples(group, shown)
        elif previous is not None and "id" in frame.columns and "id" in previous.columns:
            gone = previous[~previous["id"].isin(frame["id"])]
            if len(gone):
                dropped["dropped"] = _examples(gone, shown)
        report.add_examples(path.name.split("-", 1)[1], _examples(frame, shown), dropped)
        previous = frame


def _bias(report: Any, frame: pd.DataFrame, ctx: RunContext, config: PipelineConfig) -> None:
    """The bias and representation section, with the recipe's term lists and categories (``report.bias``)."""
    from curator_synth.report.bias import bias_summary
    from curator_synth.report.terms import default_terms, load_terms, normalise_terms

    settings = config.report.bias
    terms = load_terms(ctx.config.resolve(settings.terms_file)) if settings.terms_file else default_terms()
    terms.update(normalise_terms(settings.terms, "report.bias.terms"))
    column = settings.category_field or next((c for c in ("category", "topic") if c in frame.columns), None)
    seeds = ctx.seeds() if ctx.config.seeds else None
    summary = bias_summary(
        frame,
        seeds,
        terms=terms,
        fields=settings.fields,
        category_field=column,
        seed_categories=_seed_column(ctx, column),
        cluster_sizes=report.cluster_sizes or None,
    )
    report.set_bias(summary, settings.top_n)


def _seed_column(ctx: RunContext, column: str | None) -> list[Any] | None:
    """The seeds' values of ``column`` (a JSON Lines seed file that has it), to compare categories with."""
    path = ctx.config.resolve(ctx.config.seeds) if ctx.config.seeds else None
    if column is None or path is None or path.suffix != ".jsonl":
        return None
    seeds = pd.read_json(path, lines=True)
    return seeds[column].tolist() if column in seeds.columns else None


def _embeddings(texts: list[str], ctx: RunContext) -> Any:
    if not texts:
        return None
    try:
        return ctx.config.embedder().embed(texts)
    except MissingDependencyError as error:  # the report still has the lexical metrics
        logger.warning("report: no embedding metrics (%s)", error)
        return None


def _usage(report: Any, ctx: RunContext, config: PipelineConfig) -> None:
    from curator_synth.report import TokenUsage

    pricing = config.pricing.pricing() if config.pricing is not None else None
    for name, usage in ctx.usage.items():
        report.add_usage(name, TokenUsage(**usage), pricing)  # type: ignore[arg-type]
