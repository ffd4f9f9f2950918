"""The ``blend`` stage: mix sources (files read like the ``load`` stage, and optionally the previous stage's
records) at configured ratios, with cross-source dedup and provenance (:func:`curator_synth.blending.blend`).

It can start a pipeline, or take the records of the stage before it as one of the sources (``input_source``,
e.g. the generated data as ``synthetic``). Rows left out are counted by reason (``cross_source_duplicate``,
``over_quota``, ``category_not_requested``) and the whole :class:`~curator_synth.blending.BlendReport` is
written to ``blend_report.json`` in the stage directory.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pandas as pd
from pydantic import Field, ValidationInfo, field_validator, model_validator

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import ConfigError
from curator_synth.pipeline.context import RunContext
from curator_synth.pipeline.stages.base import Stage, StageOptions, StageOutput, register_stage
from curator_synth.pipeline.stages.load import LoadOptions, LoadStage

__all__ = ["BlendOptions", "BlendStage"]

REPORT_FILE = "blend_report.json"


class BlendOptions(StageOptions):
    """``sources``: name -> what a ``load`` stage takes (``path``, ``rename``, ``columns``, ``limit``...), paths
    relative to the recipe; ``input_source``: the name given to the previous stage's records. The other
    options are :func:`~curator_synth.blending.blend`'s."""

    sources: dict[str, LoadOptions] = Field(default_factory=dict)
    input_source: str | None = None
    ratios: dict[str, float]
    category_field: str | None = None
    category_ratios: dict[str, float] | None = None
    total: int | None = Field(None, ge=1)
    dedup: Literal["exact", "fuzzy"] | None = "exact"
    field: str = "instruction"
    priority: list[str] | None = None
    on_shortfall: Literal["shrink", "error"] = "shrink"

    @field_validator("input_source")
    @classmethod
    def _input_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and value in info.data.get("sources", {}):
            raise ValueError(f"{value!r} is also the name of a file source; give the previous records another name")
        return value

    @field_validator("ratios")
    @classmethod
    def _ratios(cls, value: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        from curator_synth.blending import normalise_ratios

        names = _names(info.data)
        if names:
            normalise_ratios(value, names, key="ratios")  # ConfigError is a ValueError: reported at stages[i].ratios
        return value

    @field_validator("priority")
    @classmethod
    def _priority(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        names = _names(info.data)
        if value is not None and names and (set(value) - set(names) or len(set(value)) != len(value)):
            raise ValueError(f"list distinct sources among {names}, got {value}")
        return value

    @model_validator(mode="after")
    def _some_source(self) -> BlendOptions:
        if not self.sources and self.input_source is None:
            raise ValueError("give `sources:` (name -> {path: ...}) and/or `input_source:` (the previous records)")
        return self


def _names(data: dict[str, Any]) -> list[str]:
    names = list(data.get("sources", {}))
    return [*names, data["input_source"]] if data.get("input_source") else names


@register_stage
class BlendStage(Stage[BlendOptions]):
    """Blend sources at ``ratios`` (and ``category_ratios``), removing cross-source duplicates by ``priority``."""

    name = "blend"
    Options = BlendOptions
    first = True

    def _loads(self) -> dict[str, LoadStage]:
        options = self.options
        loads = {}
        for name, load in options.sources.items():
            named = load if load.source or load.source_from_filename else load.model_copy(update={"source": name})
            loads[name] = LoadStage(named)
        return loads

    def check(self, ctx: RunContext) -> None:
        """Every source passes the load stage's checks (files, formats, options)."""
        for name, load in self._loads().items():
            try:
                load.check(ctx)
            except ConfigError as error:
                raise ConfigError(f"sources.{name}.{error}") from None

    def fingerprint(self, ctx: RunContext) -> dict[str, Any]:
        """The files of every source (name, size, modification time): an edited source is blended again."""
        return {name: load.fingerprint(ctx) for name, load in self._loads().items()}

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        from curator_synth.blending import blend

        options = self.options
        frames, reasons = self._sources(data, ctx)
        result = blend(
            frames,
            ratios=options.ratios,
            category_field=options.category_field,
            category_ratios=options.category_ratios,
            total=options.total,
            dedup=options.dedup,
            field=options.field,
            seed=ctx.config.seed,
            priority=options.priority,
            on_shortfall=options.on_shortfall,
        )
        report = result.report.to_dict()
        (ctx.stage_dir / REPORT_FILE).write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
        for reason, count in result.report.rejections().items():
            reasons[reason] = reasons.get(reason, 0) + count
        frame = _unique_ids(result.frame)
        rejections = {"blend": reasons} if reasons else {}
        return StageOutput(ctx.dataset(frame), rejections, usage={"blend": report})

    def _sources(self, data: DocumentDataset | None, ctx: RunContext) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
        """Each source's records (loaded like the load stage), and rows dropped while loading (repeated ids)."""
        options = self.options
        frames, reasons = {}, {}
        for name, load in self._loads().items():
            output = load.run(None, ctx)
            frames[name] = output.data.to_pandas()
            for reason, count in output.rejections.get("load", {}).items():  # duplicate_id, bad_line
                reasons[f"{reason} ({name})"] = count
        if options.input_source is not None:
            if data is None:
                raise ConfigError(f"blend: input_source {options.input_source!r} needs a stage before blend")
            frames[options.input_source] = data.to_pandas()
        elif data is not None:
            raise ConfigError(
                "blend: the previous stage's records would be dropped; name them with `input_source:` (e.g. synthetic)"
            )
        return frames, reasons


def _unique_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """Ids repeated across sources (one file blended under two names...) become ``<source>:<id>``; the original
    id stays in ``provenance.blend.row_id``."""
    if "id" not in frame.columns or frame.empty:
        return frame
    repeated = frame.groupby("id", sort=False)["blend_source"].transform("nunique").to_numpy() > 1
    if repeated.any():
        frame = frame.copy()
        frame.loc[repeated, "id"] = frame.loc[repeated, "blend_source"] + ":" + frame.loc[repeated, "id"].astype(str)
    return frame
