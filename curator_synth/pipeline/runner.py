"""``SyntheticDataPipeline``: run a recipe's stages in order, persisting each stage so a re-run resumes.

Layout of a run (``output_dir``)::

    stages/00-load/data/*.parquet + manifest.json     one directory per stage; manifest written last
    stages/01-responses/parts/part-00000.parquet     per-partition outputs of an LLM stage (+ journals)
    journal/                                          the driver's request journal (Self-Instruct ...)
    final/*.parquet, exports..., report/report.html   the curated dataset, its exports, the report

A stage whose ``manifest.json`` carries the same fingerprint (hash of its options, of what else it depends on —
the files a ``load`` reads, the model and endpoint of an LLM stage, the seeds and ``seed`` — and of every
stage before it) is loaded instead of run, so a killed run restarts at the first unfinished stage; inside an LLM stage,
finished partitions are kept and paid requests come back from the journals. Changing a stage's options
re-runs it and everything after it.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from curator_synth._files import atomic_dir, atomic_write
from curator_synth.clients.defaults import request_defaults
from curator_synth.clients.stats import UsageMeter
from curator_synth.dataset import DocumentDataset
from curator_synth.distributed.cluster import run_cluster
from curator_synth.errors import ConfigError, IncompleteStageError
from curator_synth.pipeline import checks
from curator_synth.pipeline.config import PipelineConfig, StageSpec, load_config
from curator_synth.pipeline.context import RunContext
from curator_synth.pipeline.lock import run_lock
from curator_synth.pipeline.progress import RunStatus
from curator_synth.pipeline.result import PipelineResult, require_records
from curator_synth.pipeline.run_dir import MANIFEST, claim_stage_dir, read_manifest, save_recipe, stage_fingerprints
from curator_synth.pipeline.stages import STAGES, StageOutput
from curator_synth.pipeline.stages.base import Stage
from curator_synth.pipeline.stages.generation import stage_request_defaults
from curator_synth.pipeline.summary import StageSummary, add_stage_summary

__all__ = ["PipelineResult", "SyntheticDataPipeline"]

USAGE_KEYS = (
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "from_journal",
    "batch_prompt_tokens",
    "batch_completion_tokens",
)


class SyntheticDataPipeline:
    """Run a recipe: ``SyntheticDataPipeline(client, config).run(seed_file=...)``.

    ``client``: an LLM client object (used in this process), a Hugging Face model with its ``tokenizer=`` (run in
    this process, see :func:`~curator_synth.clients.accept.resolve_client`), or None to build clients from the
    recipe's ``client:`` section (shipped to Dask workers as a spec). ``config``: a :class:`PipelineConfig`, a
    path to a YAML recipe, or a mapping. A recipe without ``model:`` takes the model's (or the client's) own
    name. ``progress(stage, done, total)`` is called as work finishes.
    """

    def __init__(
        self,
        client: Any = None,
        config: PipelineConfig | str | os.PathLike[str] | dict[str, Any] | None = None,
        *,
        tokenizer: Any = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> None:
        if config is None:
            raise ConfigError("SyntheticDataPipeline needs a config: a PipelineConfig, a recipe path or a mapping")
        if not isinstance(config, (PipelineConfig, str, os.PathLike, dict)):
            raise ConfigError(
                f"SyntheticDataPipeline: config must be a PipelineConfig, a recipe path or a mapping, got "
                f"{type(config).__name__} (a tokenizer goes in tokenizer=)"
            )
        if isinstance(config, PipelineConfig):
            self.config = config
        elif isinstance(config, dict):
            self.config = PipelineConfig.from_dict(config)
        else:
            self.config = load_config(config)
        if client is not None:
            from curator_synth.clients.accept import resolve_client

            client, name = resolve_client(client, tokenizer)
            if self.config.model is None and name is not None:
                self.config = self.config.model_copy(update={"model": name})
        elif tokenizer is not None:
            raise ConfigError("SyntheticDataPipeline: a tokenizer was given without a model")
        self.client = client
        self.progress = progress
        #: What the run in progress has done so far, stage by stage (for a display polling it; None before a run).
        self.status: RunStatus | None = None
        self.specs: list[StageSpec] = self.config.stage_specs()
        #: The stages, built once from their validated options (a stage holds no state of its own).
        self.stages: list[Stage[Any]] = [STAGES.get(spec.name)(spec.options) for spec in self.specs]

    def plan(self) -> list[dict[str, Any]]:
        """The stages in order with their options (what ``--dry-run`` and ``inspect`` print)."""
        from curator_synth.pipeline.stages.generation import GenerationOptions

        plans = []
        for spec in self.specs:
            options = spec.options.model_dump()
            shared = [name for name in GenerationOptions.model_fields if name in options]  # after the stage's own
            plans.append({"stage": spec.name, **{k: v for k, v in options.items() if k not in shared},
                          **{name: options[name] for name in shared}})  # fmt: skip
        return plans

    def run(
        self, seed_file: str | os.PathLike[str] | None = None, *, output_dir: str | os.PathLike[str] | None = None
    ) -> PipelineResult:
        """Run (or resume) every stage, then write ``final/``, the exports and the report.

        Everything that can be checked is checked first (:meth:`validate`), before a cluster starts or a request
        is sent. One run at a time per output directory (a second one raises :class:`ConfigError` naming the
        first one's process). A stage whose requests failed transiently raises
        :class:`~curator_synth.errors.IncompleteStageError` (a re-run resumes there and asks them again); a run
        whose records are all dropped raises :class:`~curator_synth.errors.StageError` and exports nothing.
        """
        config = self._with_seeds(seed_file)
        out = Path(output_dir) if output_dir is not None else config.output_path
        self.validate(output_dir=out, config=config, create=True)
        from curator_synth.clients.sync import run_sync
        from curator_synth.report import ReportData

        report = ReportData(title=config.report.title or config.name, info={"recipe": config.name})
        self.status = RunStatus.of([(stage.name, stage.needs_client()) for stage in self.stages], config.pricing)
        with run_lock(out), run_cluster(config.dask, self._needs_cluster()) as dask_client:
            save_recipe(config, out)
            ctx = self._context(config, out, dask_client)
            try:
                data, stages = self._run_stages(ctx, report)
                require_records(data, stages)
                final = out / "final"
                atomic_dir(final, lambda tmp: data.to_parquet(tmp))
                exports = self._export(data, out)
                report_path = self._report(report, data, ctx, out) if config.report.enabled else None
            finally:
                run_sync(ctx.aclose())
        return PipelineResult(DocumentDataset.read_parquet(final), out, report_path, stages, exports)

    def validate(
        self,
        seed_file: str | os.PathLike[str] | None = None,
        *,
        output_dir: str | os.PathLike[str] | None = None,
        config: PipelineConfig | None = None,
        create: bool = False,
    ) -> None:
        """Check, without sending a request, what the run needs: every stage's own checks (registry names,
        options, input files; :meth:`Stage.check`), the seeds file, the client section, model and API key
        variable of LLM stages, the export formats, and that the output directory can be written (``create``:
        make it and write a probe file; else only look). Raises :class:`ConfigError` naming what is wrong."""
        config = config if config is not None else self._with_seeds(seed_file)
        out = Path(output_dir) if output_dir is not None else config.output_path
        checks.check_output_dir(out, create=create)
        ctx = self._context(config, out, None)
        checks.check_seeds(config)
        if any(stage.needs_client() for stage in self.stages):
            checks.check_client(config, given=self.client is not None)
        checks.check_exports(config)
        for number, stage in enumerate(self.stages):
            try:
                stage.check(ctx)
            except ConfigError as error:
                raise ConfigError(f"{config.locate(('stages', number))}stages[{number}].{error}") from error

    def _with_seeds(self, seed_file: str | os.PathLike[str] | None) -> PipelineConfig:
        if seed_file is None:
            return self.config
        return self.config.model_copy(update={"seeds": str(Path(seed_file).resolve())})

    def _context(self, config: PipelineConfig, out: Path, dask_client: Any) -> RunContext:
        return RunContext(
            config=config,
            output_dir=out,
            client_spec=_client_spec(config) if self.client is None else None,
            client=_async_view(self.client),
            dask_client=dask_client,
            partitions=max(2, 2 * config.dask.n_workers),
            progress=self.progress,
            status=self.status,
        )

    # ------------------------------------------------------------------------------------------ stages
    def _run_stages(self, ctx: RunContext, report: Any) -> tuple[DocumentDataset, list[StageSummary]]:
        data: DocumentDataset | None = None
        fingerprints = stage_fingerprints(self.specs, self.stages, ctx)
        summaries: list[StageSummary] = []
        number = 0
        while number < len(self.stages):
            spec, stage = self.specs[number], self.stages[number]
            ctx.stage_dir = self._stage_dir(ctx, number)
            ctx.stage_number = number
            manifest = read_manifest(ctx.stage_dir)
            if number == 0 and not stage.first:
                raise ConfigError(f"stage {spec.name!r} cannot start a pipeline: begin with load or a generator")
            if manifest is not None and manifest.get("fingerprint") == fingerprints[number]:
                data = DocumentDataset.read_parquet(ctx.stage_dir / "data")
                done = [cast(StageSummary, {**manifest["summary"], "resumed": True})]  # written by _save_stage
                if self.status is not None:
                    self.status.finish(number, done[0], resumed=True)
            elif data is not None and self._streamed(ctx, stage) and (records := len(data)) > 0:
                from curator_synth.pipeline.chain import streams

                chain = [number]
                while chain[-1] + 1 < len(self.stages) and streams(self.stages[chain[-1] + 1], ctx.config):
                    chain.append(chain[-1] + 1)
                done, data = self._run_chain(chain, data, records, ctx, fingerprints)
            else:
                summary, data = self._run_stage(stage, data, ctx, fingerprints[number])
                done = [summary]
            for summary in done:
                add_stage_summary(report, summary)
                tokens = {key: int(summary["usage"][key]) for key in USAGE_KEYS if key in summary["usage"]}
                if tokens:
                    ctx.usage[f"{number:02d}-{self.specs[number].name}"] = tokens
                summaries.append(summary)
                number += 1
                if self.progress is not None:
                    self.progress("stages", number, len(self.specs))
        assert data is not None
        return data, summaries

    @staticmethod
    def _streamed(ctx: RunContext, stage: Stage[Any]) -> bool:
        """Whether ``stage`` starts a streamed chain (given records to stream): it can
        (:func:`~curator_synth.pipeline.chain.streams`) and ``streaming`` says so (default: in this process; stage
        by stage on a Dask cluster)."""
        from curator_synth.pipeline.chain import streams

        wanted = ctx.config.streaming if ctx.config.streaming is not None else ctx.dask_client is None
        return wanted and streams(stage, ctx.config)

    def _stage_dir(self, ctx: RunContext, number: int) -> Path:
        return ctx.output_dir / "stages" / f"{number:02d}-{self.specs[number].name}"

    def _run_chain(
        self, chain: list[int], data: DocumentDataset, records_in: int, ctx: RunContext, fingerprints: list[str]
    ) -> tuple[list[StageSummary], DocumentDataset]:
        """Consecutive per-record LLM stages streamed record by record (:mod:`curator_synth.pipeline.stream`);
        each stage that finished is saved as if it had run alone, then the first unfinished one's error raised."""
        from curator_synth.pipeline.chain import chain_links, run_chain

        stages = []
        for number in chain:
            stage_dir = self._stage_dir(ctx, number)
            _open_stage_dir(stage_dir, fingerprints[number])
            stages.append((number, self.stages[number], stage_dir))
        checks.check_endpoint(ctx, self.config)  # once per run, before its first request (and the client)
        budget = getattr(ctx.llm_client(), "error_budget", None)
        if budget is not None:
            budget.reset()  # the error budget is per stage, here per chain
        links = chain_links(stages, ctx)
        if self.status is not None:
            for link in links:  # each stage's requests, live (they are counted in its own stats)
                self.status.start(link.number, records_in, UsageMeter([link.stats]))
        result = run_chain(links, self.stages[chain[0]], data, records_in, ctx)
        summaries = []
        written = data
        for link, output, records, seconds in result.finished:
            ctx.stage_dir, ctx.stage_number = link.stage_dir, link.number
            summary, written = self._save_stage(self.stages[link.number], output, ctx, fingerprints[link.number],
                                                records, seconds)  # fmt: skip
            if self.status is not None:
                self.status.finish(link.number, summary)
            summaries.append(summary)
        if result.error is not None:
            if self.status is not None:
                for number in chain[len(summaries) :]:
                    self.status.fail(number)
            raise result.error
        return summaries, written

    def _run_stage(
        self, stage: Stage[Any], data: DocumentDataset | None, ctx: RunContext, fingerprint: str
    ) -> tuple[StageSummary, DocumentDataset]:
        records_in = len(data) if data is not None else 0
        driver = ctx.driver_client()
        with UsageMeter([driver.stats] if driver is not None and driver.stats is not None else []) as meter:
            if self.status is not None:
                self.status.start(ctx.stage_number, records_in, meter)
            try:
                summary, written = self._measured_stage(stage, data, ctx, fingerprint, records_in)
            except BaseException:
                if self.status is not None:
                    self.status.fail(ctx.stage_number)
                raise
        if self.status is not None:
            self.status.finish(ctx.stage_number, summary)
        return summary, written

    def _measured_stage(
        self, stage: Stage[Any], data: DocumentDataset | None, ctx: RunContext, fingerprint: str, records_in: int
    ) -> tuple[StageSummary, DocumentDataset]:
        _open_stage_dir(ctx.stage_dir, fingerprint)
        started = time.perf_counter()
        budget = getattr(ctx.driver_client(), "error_budget", None)
        if budget is not None:
            budget.reset()  # the error budget is per stage
        before = ctx.driver_usage()
        transient_before = _transient(ctx)
        if stage.needs_client():
            checks.check_endpoint(ctx, self.config)  # once per run, before its first request
        ctx.request_defaults = stage_request_defaults(stage.options, ctx.config) if stage.needs_client() else None
        with request_defaults(ctx.request_defaults):  # this process's requests (partitions carry their own)
            output: StageOutput = stage.run(data, ctx)
        failed = _transient(ctx) - transient_before
        if failed:  # driver-side requests failed transiently: the stage is not finished (its answers are journaled)
            raise IncompleteStageError(stage.name, dict(failed), where=str(ctx.journal_dir))
        after = ctx.driver_usage()  # requests sent from this process (generators on the driver, client objects)
        driver = {key: value - before.get(key, 0) for key, value in after.items()}
        if any(driver.values()):
            output.usage = {key: output.usage.get(key, 0) + driver.get(key, 0) for key in {*output.usage, *driver}}
        return self._save_stage(stage, output, ctx, fingerprint, records_in, time.perf_counter() - started)

    def _save_stage(
        self, stage: Stage[Any], output: StageOutput, ctx: RunContext, fingerprint: str, records_in: int, seconds: float
    ) -> tuple[StageSummary, DocumentDataset]:
        """Write a stage's records (``data/``) and, last, its manifest: from now on a re-run loads it."""
        atomic_dir(ctx.stage_dir / "data", lambda tmp: output.data.to_parquet(tmp))
        written = DocumentDataset.read_parquet(ctx.stage_dir / "data")
        summary = StageSummary(
            stage=stage.name,
            records_in=records_in,
            records_out=len(written),
            seconds=round(seconds, 3),
            rejections=output.rejections,
            usage=output.usage,
            resumed=False,
        )
        kept = {key: value for key, value in summary.items() if key != "resumed"}  # a manifest is of a run
        manifest = json.dumps({"fingerprint": fingerprint, "summary": kept}, indent=2, default=str)
        atomic_write(ctx.stage_dir / MANIFEST, lambda temp: temp.write_text(manifest))
        return summary, written

    def _needs_cluster(self) -> bool:
        uses_llm = any(stage.needs_client() for stage in self.stages)
        return uses_llm or self.config.dask.scheduler_address is not None

    # ---------------------------------------------------------------------------------- exports, report
    def _export(self, data: DocumentDataset, out: Path) -> dict[str, Path]:
        from curator_synth.exports import export

        written = {}
        for item in self.config.exports:
            target = out / item.path
            export(data, target, item.format, metadata=item.metadata or None, trace=item.trace, **item.fields)
            written[item.format] = target
        return written

    def _report(self, report: Any, data: DocumentDataset, ctx: RunContext, out: Path) -> Path:
        from curator_synth.pipeline.summary import fill_report
        from curator_synth.report import write_report

        embed = self.config.report.embeddings
        embed = any(stage.uses_embeddings() for stage in self.stages) if embed == "auto" else embed
        fill_report(report, data.to_pandas(), ctx, self.config, embed=bool(embed))
        return write_report(report, out / "report", plots=self.config.report.plots)


# ------------------------------------------------------------------------------------------- helpers
def _async_view(client: Any) -> Any:
    if client is None:
        return None
    from curator_synth.clients.accept import as_async_client

    return as_async_client(client)


def _client_spec(config: PipelineConfig) -> Any:
    return config.client.spec() if config.client is not None else None


def _open_stage_dir(stage_dir: Path, fingerprint: str) -> None:
    """A stage about to run: its directory, no manifest (it is not finished), its earlier parts kept only if they
    are of this same stage (:func:`claim_stage_dir`)."""
    stage_dir.mkdir(parents=True, exist_ok=True)
    (stage_dir / MANIFEST).unlink(missing_ok=True)
    claim_stage_dir(stage_dir, fingerprint)


def _transient(ctx: RunContext) -> Counter[str]:
    """Transient failures so far of the client used in this process (see ``ClientStats.transient_failures``)."""
    client = ctx.driver_client()
    stats = client.stats if client is not None else None
    return Counter(stats.transient_failures if stats is not None else {})
