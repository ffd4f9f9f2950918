"""Stages that need no endpoint: load records, filter, redact PII, deduplicate, sample.

Every record carries ``id`` (content-addressed when the source has none, so a re-run gives the same ids),
``instruction``, ``input``, ``response``, ``source`` and ``provenance`` (a JSON string: Parquet-safe).
"""

from __future__ import annotations

import inspect
import json
import os
import re
from typing import Any, Literal

import pandas as pd
from pydantic import Field, field_validator

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError, CuratorSynthError
from curator_synth.pipeline.context import RunContext
from curator_synth.pipeline.stages.base import Stage, StageOptions, StageOutput, register_stage

__all__ = ["DedupStage", "FilterStage", "LoadStage", "RedactPiiStage", "SampleStage", "normalise_records"]

RECORD_COLUMNS = ("id", "instruction", "input", "response", "source", "provenance")


def _record_id(row: dict[str, Any]) -> str:
    from curator_synth.generators.base import record_id

    return record_id("record", row.get("source"), row.get("instruction"), row.get("input"), row.get("response"))


def normalise_records(frame: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """The pipeline's record columns (missing text fields empty, ``provenance`` a JSON string, ids filled in)."""
    frame = frame.copy()
    for column in ("instruction", "input", "response"):
        if column not in frame.columns:
            frame[column] = ""
        frame[column] = frame[column].fillna("").astype(str)
    if "source" not in frame.columns:
        frame["source"] = source or ""
    if "provenance" not in frame.columns:
        frame["provenance"] = "{}"
    frame["provenance"] = [p if isinstance(p, str) else json.dumps(p, default=str) for p in frame["provenance"]]
    if "id" not in frame.columns:
        frame["id"] = [
            _record_id(row) for row in frame[["source", "instruction", "input", "response"]].to_dict("records")
        ]
    frame["id"] = frame["id"].astype(str)
    rest = [column for column in frame.columns if column not in RECORD_COLUMNS]
    return frame[list(RECORD_COLUMNS) + rest]


# ------------------------------------------------------------------------------------------------- load
class LoadOptions(StageOptions):
    path: str | list[str]
    rename: dict[str, str] = Field(default_factory=dict)
    columns: list[str] | None = None
    source: str | None = None
    source_from_filename: str | None = None
    limit: int | None = Field(None, ge=1)
    on_bad_lines: Literal["error", "skip"] = "error"
    files_per_partition: int | None = Field(None, ge=1)

    @field_validator("source_from_filename")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                if re.compile(value).groups != 1:
                    raise ValueError("needs exactly one (group) capturing the source name")
            except re.error as error:
                raise ValueError(f"not a regular expression: {error}") from None
        return value


@register_stage
class LoadStage(Stage):
    """Read records from JSON Lines or Parquet (paths relative to the recipe); ``rename`` maps source columns to
    the record columns; ``source_from_filename`` (a regex with one group) names each record's source."""

    name = "load"
    Options = LoadOptions
    first = True

    def fingerprint(self, ctx: RunContext) -> dict[str, Any]:
        """The files read (name, size, modification time): an edited input is loaded again."""
        from curator_synth.dataset.io import resolve_input_files

        try:
            files = resolve_input_files(self._paths(ctx), (".parquet", ".jsonl", ".json", ".gz"))
        except CuratorSynthError:
            return {}  # reported by run()
        return {"files": [(path, os.stat(path).st_size, os.stat(path).st_mtime_ns) for path in files]}

    def _paths(self, ctx: RunContext) -> list[str]:
        options: LoadOptions = self.options  # type: ignore[assignment]
        paths = [options.path] if isinstance(options.path, str) else options.path
        return [str(ctx.config.resolve(path)) for path in paths]

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        options: LoadOptions = self.options  # type: ignore[assignment]
        files = self._paths(ctx)
        parquet = all(path.endswith(".parquet") for path in files)
        if parquet:
            loaded = DocumentDataset.read_parquet(files, add_filename=True, columns=options.columns)
        else:
            loaded = DocumentDataset.read_json(
                files,
                add_filename=True,
                columns=options.columns,
                on_bad_lines=options.on_bad_lines,
                files_per_partition=options.files_per_partition or 1,
            )
        frame = loaded.to_pandas().rename(columns=options.rename)
        if options.source_from_filename:
            pattern = re.compile(options.source_from_filename)
            frame["source"] = [_group(pattern, name) for name in frame["file_name"]]
        frame = frame.drop(columns=["file_name"])
        if options.limit:
            frame = frame.head(options.limit)
        frame = normalise_records(frame.reset_index(drop=True), options.source)
        duplicated = int(frame["id"].duplicated().sum())
        frame = frame.drop_duplicates("id", ignore_index=True)
        partitions = max(1, min(ctx.partitions, len(frame)))
        rejections = {"load": {"duplicate_id": duplicated}} if duplicated else {}
        return StageOutput(DocumentDataset.from_pandas(frame, npartitions=partitions), rejections)


def _group(pattern: re.Pattern[str], name: str) -> str:
    match = pattern.search(name)
    return match.group(1) if match else name


# ----------------------------------------------------------------------------------------------- filter
class FilterSpec(StageOptions):
    """One filter: ``name`` in ``FILTERS``; ``field`` (or ``fields`` for pair filters such as ``quality``);
    ``score_field`` keeps the score as a column; other keys are the filter's own arguments."""

    model_config = StageOptions.model_config | {"extra": "allow"}

    name: str
    field: str | list[str] = "response"
    score_field: str | None = None
    invert: bool = False


class FilterOptions(StageOptions):
    filters: list[FilterSpec] = Field(min_length=1)
    write_rejected: bool = True


@register_stage
class FilterStage(Stage):
    """Apply registered filters in order; counts drops per filter and reason; keeps the rejected rows with
    their reasons under the stage directory (``rejected/``)."""

    name = "filter"
    Options = FilterOptions

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        from curator_synth.filters import FILTERS, ScoreFilter

        options: FilterOptions = self.options  # type: ignore[assignment]
        dataset = self.require(data)
        steps = []
        for spec in options.filters:
            arguments = dict(spec.model_extra or {})
            cls = FILTERS.get(spec.name)
            if "field" in inspect.signature(cls.__init__).parameters and isinstance(spec.field, str):
                arguments.setdefault("field", spec.field)  # filters of a column (score_threshold) name it too
            try:
                filter_obj = cls(**arguments)
            except TypeError as error:
                raise ConfigError(f"filter {spec.name!r}: {error}") from None
            field = spec.field if isinstance(spec.field, str) else tuple(spec.field)
            steps.append(ScoreFilter(filter_obj, text_field=field, score_field=spec.score_field, invert=spec.invert))
        result: Any = dataset
        for step in steps:
            result = step(result)
        result = result.persist()
        kept, report = result.compute_with_report()
        if options.write_rejected:
            rejected = result.rejected().to_pandas()
            if len(rejected):
                rejected.to_json(ctx.stage_dir / "rejected.jsonl", orient="records", lines=True, force_ascii=False)
        rejections = {
            step.name: {reason.partition(":")[2] or "dropped": count for reason, count in step.reasons.items()}
            for step in report.steps
            if step.dropped
        }
        return StageOutput(ctx.dataset(kept), rejections)


# -------------------------------------------------------------------------------------------------- pii
class RedactOptions(StageOptions):
    fields: list[str] = Field(default_factory=lambda: ["instruction", "input", "response"])
    replacement: str = "[{kind}]"
    kinds: list[str] | None = None


@register_stage
class RedactPiiStage(Stage):
    """Replace PII (emails, phones, cards with Luhn, SSNs, IPs, keys) in place in the given fields."""

    name = "redact_pii"
    Options = RedactOptions

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        from curator_synth.filters.pii import detect_pii, redact_matches

        options: RedactOptions = self.options  # type: ignore[assignment]
        frame = self.require(data).to_pandas()
        counts: dict[str, int] = {}
        for field in options.fields:
            if field not in frame.columns:
                continue
            redacted = []
            for text in frame[field].fillna("").astype(str):
                matches = detect_pii(text, options.kinds)
                for match in matches:
                    counts[match.kind] = counts.get(match.kind, 0) + 1
                redacted.append(redact_matches(text, matches, options.replacement))
            frame[field] = redacted
        return StageOutput(ctx.dataset(frame), usage={"pii_redactions": counts})


# ------------------------------------------------------------------------------------------------ dedup
class DedupOptions(StageOptions):
    method: Literal["exact", "fuzzy", "semantic", "novelty"] = "fuzzy"
    field: str = "instruction"
    options: dict[str, Any] = Field(default_factory=dict)
    against_seeds: bool = False


def _dedup_step(method: str, field: str, options: dict[str, Any], ctx: RunContext, against_seeds: bool) -> Any:
    from curator_synth.dedup import ExactDuplicates, FuzzyDuplicates, NoveltyDuplicates, SemanticDuplicates

    methods: dict[str, Any] = {
        "exact": lambda: ExactDuplicates(text_field=field, **options),
        "fuzzy": lambda: FuzzyDuplicates(text_field=field, **options),
        "semantic": lambda: SemanticDuplicates(text_field=field, **options),
        "novelty": lambda: NoveltyDuplicates(text_field=field, pool=ctx.seeds() if against_seeds else (), **options),
    }
    try:
        return methods[method]()
    except TypeError as error:
        raise ConfigError(f"dedup method {method!r}: {error}") from None


@register_stage
class DedupStage(Stage):
    """Remove duplicates by ``method`` over ``field``, keeping one representative per group."""

    name = "dedup"
    Options = DedupOptions

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        options: DedupOptions = self.options  # type: ignore[assignment]
        dataset = self.require(data)
        self.require_columns(dataset, "id", options.field)
        step = _dedup_step(options.method, options.field, dict(options.options), ctx, options.against_seeds)
        before = len(dataset)
        kept = step.remove(dataset).to_pandas()
        dropped = before - len(kept)
        return StageOutput(ctx.dataset(kept), {f"dedup_{options.method}": {"duplicate": dropped}} if dropped else {})


# ----------------------------------------------------------------------------------------------- sample
class SampleOptions(StageOptions):
    strategy: str = "cluster_balanced"
    n: int = Field(1000, ge=1)
    field: str = "instruction"
    topic_field: str | None = None
    n_clusters: int | None = Field(None, ge=1)
    allocation: Literal["proportional", "equal"] = "proportional"


@register_stage
class SampleStage(Stage):
    """Draw ``n`` diverse records with :class:`~curator_synth.diversity.DiversitySampler`."""

    name = "sample"
    Options = SampleOptions

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        from curator_synth.diversity import DiversitySampler

        options: SampleOptions = self.options  # type: ignore[assignment]
        dataset = self.require(data)
        sampler = DiversitySampler(
            options.strategy,
            n=options.n,
            seed=ctx.config.seed,
            n_clusters=options.n_clusters,
            topic_field=options.topic_field,
            text_field=options.field,
            allocation=options.allocation,
        )
        frame = dataset.to_pandas()
        sample = sampler.sample(frame)
        dropped = len(frame) - len(sample)
        return StageOutput(ctx.dataset(sample), {"sample": {"not_sampled": dropped}} if dropped else {})
