"""Stages that call a model: Self-Instruct generation (on the driver: its pool grows step by step), and the kind
of the per-record stages run over partitions on Dask (:class:`RecordLLMStage`: responses, Evol-Instruct,
reward/judge scoring here; dialogue, rephrase and preference in :mod:`~curator_synth.pipeline.stages.records`)."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from pydantic import Field

from curator_synth.dataset import DocumentDataset
from curator_synth.errors import StageError
from curator_synth.pipeline.context import RunContext
from curator_synth.pipeline.failures import error_counts, hint_for, rejection_counts
from curator_synth.pipeline.stages.base import OptionsT, Stage, StageOutput, register_stage, require_some_output
from curator_synth.pipeline.stages.generation import GenerationOptions, model_params
from curator_synth.pipeline.stages.load import normalise_records
from curator_synth.pipeline.tasks import ERROR_COLUMN, EvolTask, ResponseTask, ScoreTask

__all__ = ["EvolStage", "RecordLLMStage", "ResponsesStage", "ScoreStage", "SelfInstructStage", "llm_output"]


# ------------------------------------------------------------------------------------------ self-instruct
class SelfInstructOptions(GenerationOptions):
    num_instructions: int = Field(100, ge=1)
    batch_size: int = Field(5, ge=1)
    num_human: int = Field(6, ge=1)
    num_machine: int = Field(2, ge=0)
    num_new: int = Field(7, ge=1)
    similarity_threshold: float = Field(0.7, gt=0, le=1)
    classify: bool = True
    instances: bool = True
    temperature: float | None = 0.7
    max_tokens: int | None = 1024
    include_seeds: bool = False


@register_stage
class SelfInstructStage(Stage[SelfInstructOptions]):
    """Grow instructions from the recipe's ``seeds`` (Self-Instruct, ROUGE-L novelty), with their instances:
    one record per (instruction, instance) pair; instructions without instances get an empty response.
    ``include_seeds`` also keeps the seed instructions as records (``source: seed``, empty response), for a
    following ``responses`` stage to answer with the new ones."""

    name = "self_instruct"
    Options = SelfInstructOptions
    uses_llm = True
    first = True

    def preview(self, n: int) -> dict[str, Any]:
        return {"num_instructions": n, "batch_size": min(self.options.batch_size, n), "include_seeds": False}

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        from curator_synth.clients.sync import run_sync
        from curator_synth.generators.self_instruct import AsyncSelfInstruct

        options = self.options
        generator = AsyncSelfInstruct(ctx.llm_client(), ctx.model, params=model_params(options))
        result = run_sync(
            generator.generate(
                ctx.seeds(),
                options.num_instructions,
                classify=options.classify,
                instances=options.instances,
                batch_size=options.batch_size,
                num_human=options.num_human,
                num_machine=options.num_machine,
                num_new=options.num_new,
                similarity_threshold=options.similarity_threshold,
                seed=ctx.config.seed,
            )
        )
        rows = []
        for record in result.instructions:
            provenance = json.dumps({**record.provenance, "avg_similarity": record.avg_similarity}, default=str)
            pairs = [(i.input, i.output) for i in record.instances] or [("", "")]
            for number, (text_input, output) in enumerate(pairs):
                rows.append({
                    "id": f"{record.id}-{number}", "instruction": record.instruction, "input": text_input,
                    "response": output, "source": "self_instruct", "provenance": provenance,
                    "is_classification": bool(record.is_classification),
                })  # fmt: skip
        import pandas as pd

        discarded = result.discard_counts()
        failed = [d.detail for d in result.discarded if d.reason == "request_failed"]
        require_some_output(self.name, len(rows), len(failed), errors=failed, keys=ctx.key_variables())
        if options.include_seeds:
            rows = _seed_rows(ctx) + rows
        frame = normalise_records(pd.DataFrame(rows, columns=None if rows else ["id", "instruction"]))
        return StageOutput(ctx.dataset(frame), {"self_instruct": discarded} if discarded else {})


def _seed_rows(ctx: RunContext) -> list[dict[str, Any]]:
    from curator_synth.records import record_id

    rows = []
    for number, text in enumerate(ctx.seeds()):
        instruction = " ".join(text.split())
        rows.append({
            "id": record_id("self_instruct.seed", instruction), "instruction": instruction, "input": "",
            "response": "", "source": "seed", "is_classification": False,
            "provenance": json.dumps({"seed": {"file": ctx.config.seeds, "index": number}}),
        })  # fmt: skip
    return rows


# ------------------------------------------------------------------------------------ per-record LLM stages
class RecordLLMStage(Stage[OptionsT]):
    """The kind of LLM stage that runs one :class:`~curator_synth.distributed.PartitionTask` over every record,
    partition by partition (on Dask, or in this process with a client object): a subclass names the columns it
    needs (:meth:`needs_columns`) and builds its task (:meth:`task`); the base runs it with :func:`llm_output`,
    which counts the rows that failed by error type and drops them (``error_column``)."""

    uses_llm = True

    def needs_columns(self) -> tuple[str, ...]:
        """The columns the records must have."""
        return ()

    def task(self, ctx: RunContext) -> Any:
        """The partition task (picklable: it travels to the workers)."""
        raise NotImplementedError

    def error_column(self) -> str:
        """The column where the task writes a row's error (rows failing there are dropped when it is the default
        ``llm_error``; kept with their error otherwise)."""
        return ERROR_COLUMN

    def set_aside_column(self) -> str | None:
        """A column whose filled rows are dropped without being failures, counted under its name (None: none)."""
        return None

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        dataset = self.require(data)
        self.require_columns(dataset, *self.needs_columns())
        return llm_output(ctx, dataset, self.task(ctx), self.error_column())


# ----------------------------------------------------------------------------------------------- responses
class ResponsesOptions(GenerationOptions):
    system_prompt: str | None = None
    overwrite: bool = False
    temperature: float | None = None
    max_tokens: int | None = None


@register_stage
class ResponsesStage(RecordLLMStage[ResponsesOptions]):
    """Answer every record's instruction (with its input) over partitions; ``overwrite`` replaces existing
    responses, otherwise only empty ones are asked for."""

    name = "responses"
    Options = ResponsesOptions

    def task(self, ctx: RunContext) -> ResponseTask:
        options = self.options
        return ResponseTask(ctx.model, model_params(options), options.system_prompt, options.overwrite)


# -------------------------------------------------------------------------------------------------- evol
class EvolOptions(GenerationOptions):
    rounds: int = Field(1, ge=1, le=5)
    keep_original: bool = True
    temperature: float | None = 0.7
    max_tokens: int | None = None


@register_stage
class EvolStage(RecordLLMStage[EvolOptions]):
    """Evol-Instruct: evolve each instruction ``rounds`` times (depth/breadth mutations, elimination rules);
    evolved instructions get empty responses for a following ``responses`` stage."""

    name = "evol_instruct"
    Options = EvolOptions

    def task(self, ctx: RunContext) -> EvolTask:
        options = self.options
        return EvolTask(ctx.model, model_params(options), options.rounds, options.keep_original, ctx.config.seed)


# ------------------------------------------------------------------------------------------------- score
class ScoreOptions(GenerationOptions):
    """``mode`` (nemotron, llm_judge, heuristic); the generation options apply to the judge's requests
    (``max_tokens`` bounds a judge's answer: 512 by default)."""

    max_tokens: int | None = Field(512, ge=1)
    mode: str = "heuristic"
    weights: dict[str, float] | None = None
    rationale: bool = False
    prefix: str = "reward_"
    judge_model: str | None = None


@register_stage
class ScoreStage(RecordLLMStage[ScoreOptions]):
    """Score every record with :class:`~curator_synth.reward.RewardModel` (``mode``: nemotron, llm_judge,
    heuristic — one line of YAML switches); adds ``reward_*`` columns. Rows the model could not score keep NaN
    scores and a ``reward_error``; they are counted, never silently zero."""

    name = "score"
    Options = ScoreOptions

    def needs_client(self) -> bool:
        return self.options.mode != "heuristic"

    def task(self, ctx: RunContext) -> ScoreTask:
        options = self.options
        model = options.judge_model or (ctx.config.model if self.needs_client() else None)
        return ScoreTask(model, options.mode, options.weights, options.rationale, options.prefix, model_params(options))

    def error_column(self) -> str:
        return f"{self.options.prefix}error"

    def run(self, data: DocumentDataset | None, ctx: RunContext) -> StageOutput:
        if self.needs_client():
            return super().run(data, ctx)
        scored = self.task(ctx).score_offline(self.require(data).to_pandas())  # mode: heuristic, in this process
        errors = scored[self.error_column()].dropna()
        rejections = {"score": dict(rejection_counts(errors))} if len(errors) else {}
        return StageOutput(ctx.dataset(scored), rejections)


def llm_output(ctx: RunContext, dataset: DocumentDataset, task: Any, error_column: str = ERROR_COLUMN) -> StageOutput:
    """Run ``task`` over the partitions; rows that failed (``error_column``) are counted by error type and, for
    ``llm_error``, dropped. If every row failed, the stage raises :class:`StageError` (see :func:`_all_failed`)."""
    result, usage = ctx.map_llm(dataset, task)
    frame = result.to_pandas()
    rejections: dict[str, dict[str, int]] = {}
    if error_column in frame.columns:
        errors = frame[error_column].dropna()
        if len(errors):
            rejections[task.name] = dict(rejection_counts(errors))
            if len(errors) == len(frame):
                _all_failed(ctx, task.name, errors)
        if error_column == ERROR_COLUMN:
            frame = frame[frame[ERROR_COLUMN].isna()].drop(columns=[ERROR_COLUMN])
    return StageOutput(ctx.dataset(frame), rejections, usage)


def _all_failed(ctx: RunContext, name: str, errors: Any) -> NoReturn:
    """Every request of the stage failed (a wrong URL, key or model, an endpoint down): keep nothing of it — the
    partitions are removed (their journals stay), so a re-run asks again — and say what went wrong."""
    for path in (ctx.stage_dir / "parts").glob("part-*"):
        path.unlink(missing_ok=True)
    counts = error_counts(errors)
    raise StageError(
        f"{name}: all {len(errors)} records failed ({', '.join(f'{k} {v}' for k, v in counts.most_common())});"
        f" the first: {errors.iloc[0]}. {hint_for(counts.elements(), ctx.key_variables())}"
    )
