"""The runner's side of a streamed chain (:mod:`curator_synth.pipeline.stream`): which stages form one, running it
with the run's client, and what each of its stages then hands the runner — its output as if it had run alone, or
the error that leaves it unfinished."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curator_synth.errors import IncompleteStageError, StageError
from curator_synth.pipeline.context import usage_of
from curator_synth.pipeline.failures import hint_for
from curator_synth.pipeline.stages.base import StageOutput
from curator_synth.pipeline.stages.generation import stage_request_defaults
from curator_synth.pipeline.stages.llm import RecordLLMStage
from curator_synth.pipeline.stream import Link, StreamedChain

if TYPE_CHECKING:
    from pathlib import Path

    from curator_synth.dataset import DocumentDataset
    from curator_synth.pipeline.context import RunContext
    from curator_synth.pipeline.stages.base import Stage

__all__ = ["ChainResult", "chain_links", "run_chain", "streams"]

#: Input records per part of a streamed stage.
CHUNK_SIZE = 1000


def streams(stage: Stage[Any], config: Any) -> bool:
    """Whether ``stage`` can be part of a streamed chain: a per-record stage that calls a model online (a stage
    sent through the batch API, by its ``batch:`` or the recipe's ``client: batch:``, runs stage by stage)."""
    if not (isinstance(stage, RecordLLMStage) and stage.needs_client()):
        return False
    batch = getattr(stage.options, "batch", None)
    return not (batch if batch is not None else config.client is not None and config.client.batch)


@dataclass
class ChainResult:
    """A chain's stages that finished, in order, with their outputs and seconds; and the error of the first
    that did not (None: all did)."""

    finished: list[tuple[Link, StageOutput, int, float]]  # (link, output, records in, seconds)
    error: BaseException | None = None


def chain_links(stages: list[tuple[int, Stage[Any], Path]], ctx: RunContext) -> list[Link]:
    """The links of ``stages`` (``(number, stage, stage_dir)``, consecutive stages of :func:`streams`)."""
    links = []
    for number, stage, stage_dir in stages:
        assert isinstance(stage, RecordLLMStage)
        defaults = stage_request_defaults(stage.options, ctx.config)
        task, column = stage.task(ctx), stage.error_column()
        links.append(Link(number, stage.name, task, stage_dir, column, defaults, stage.set_aside_column()))
    return links


def run_chain(
    links: list[Link], first: Stage[Any], data: DocumentDataset, records: int, ctx: RunContext
) -> ChainResult:
    """Stream ``records`` records of ``data`` through ``links`` with the run's client; the columns ``first`` (the
    first link's stage) needs are checked first."""
    from curator_synth.clients.sync import run_sync

    assert isinstance(first, RecordLLMStage)
    first.require_columns(data, *first.needs_columns())
    client = ctx.llm_client()
    concurrency = int(getattr(getattr(client, "settings", None), "max_concurrency", 0) or 64)

    def on_part(link: Link, done: int, total: int) -> None:
        if ctx.status is not None:
            ctx.status.partition_done(link.number, done, total)
            if done == total and link.finished is not None:  # shown done while the later stages go on
                before = links.index(link)
                records_in = links[before - 1].kept if before else records
                summary = {"records_in": records_in, "records_out": link.kept, "seconds": link.finished - link.started}
                ctx.status.finish(link.number, summary)
        if ctx.progress is not None:
            ctx.progress(link.stage_dir.name, done, total)

    chain = StreamedChain(links, client, window=max(256, 16 * concurrency), chunk_size=CHUNK_SIZE, on_part=on_part)
    error: BaseException | None = None
    try:
        run_sync(chain.run(data, records))
    except Exception as failure:  # the stages finished before it are kept, then it is raised
        error = failure
    result = ChainResult([])
    records_in = records
    for link in links:
        seconds = round(link.finished - link.started, 3) if link.finished is not None else 0.0
        complete = link.chunks_done == chain.chunks and not link.unwritten
        problem = _unfinished(link, links, ctx) if complete or error is None else error
        if problem is not None:
            result.error = _incomplete(link, problem)
            return result
        result.finished.append((link, _output(link, ctx), records_in, seconds))
        records_in = link.kept
    return result


def _unfinished(link: Link, links: list[Link], ctx: RunContext) -> BaseException | None:
    """Why ``link`` is not finished: chunks left unwritten by transient failures (here or before), or every
    row failed (its parts are removed, so a re-run asks again; the journal keeps the answers)."""
    if link.unwritten:
        failed = sum((later.transient for later in links[links.index(link) :]), start=type(link.transient)())
        return IncompleteStageError(link.name, dict(failed), where=str(link.parts))
    if link.rows and link.errors == link.rows:
        for part in link.parts.glob("part-*"):
            part.unlink()
        counts = ", ".join(f"{name} {n}" for name, n in link.error_types.most_common())
        return StageError(
            f"{link.name}: all {link.rows} records failed ({counts}); the first: {link.first_error}. "
            f"{hint_for(link.error_types.elements(), ctx.key_variables())}"
        )
    return None


def _incomplete(link: Link, error: BaseException) -> BaseException:
    """The error a stopped chain raises for its first unfinished stage (a fatal client error: the journal, the
    error budget, becomes the stage's IncompleteStageError, as when a stage runs alone)."""
    from curator_synth.errors import CuratorSynthError

    if isinstance(error, CuratorSynthError) and error.transient and not isinstance(error, IncompleteStageError):
        failed = dict(link.transient) or {type(error).__name__: 1}
        return IncompleteStageError(link.name, failed, detail=str(error), stopped=error.fatal, where=str(link.parts))
    return error


def _output(link: Link, ctx: RunContext) -> StageOutput:
    """A finished stage's records as the runner saves them: its parts, without the rows that failed in
    ``llm_error`` (counted in the rejections), read lazily."""
    import pandas as pd

    from curator_synth.dataset import DocumentDataset

    files = link.files()
    if not files:
        return StageOutput(ctx.dataset(pd.DataFrame(columns=["id"])), {}, usage_of(link.stats))
    dataset = DocumentDataset.read_parquet(files, files_per_partition=1)
    frame = dataset.df
    for column in link.dropped_columns():
        if column in frame.columns:
            frame = frame[frame[column].isna()].drop(columns=[column])
    rejections = {link.task.name: dict(link.rejections)} if link.rejections else {}
    dataset = DocumentDataset(frame)
    return StageOutput(dataset, rejections, usage_of(link.stats))
