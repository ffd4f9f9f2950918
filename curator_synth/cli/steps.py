"""How the single-step commands run: an in-memory recipe for one stage (:class:`StageCommand`), run in a working
directory beside the output with the pipeline (resume and errors as for recipes), its records written atomically.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from curator_synth.cli._common import BAD_INPUT, fail, running_in
from curator_synth.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from curator_synth.pipeline import PipelineConfig, PipelineResult, Stage
    from curator_synth.pipeline.summary import StageSummary
    from curator_synth.registry import Registry


def _write_jsonl(frame: pd.DataFrame, path: Path) -> None:
    frame.to_json(path, orient="records", lines=True, force_ascii=False)


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, index=False)


#: Record writers by output suffix (``-o``).
OUTPUT_WRITERS: dict[str, Callable[[pd.DataFrame, Path], None]] = {
    ".jsonl": _write_jsonl,
    ".json": _write_jsonl,
    ".parquet": _write_parquet,
}
#: Suffixes an export file may have, by the export format's file format.
EXPORT_SUFFIXES = {"jsonl": (".jsonl", ".json"), "parquet": (".parquet",)}


@dataclass(frozen=True)
class Endpoint:
    """The model of a step that calls one, and the client flags given (``kind``, ``base_url``, ``api_key_env``,
    ``max_concurrency``): they become the recipe's ``client:`` section, validated there as any recipe's
    (:class:`~curator_synth.clients.settings.ClientSettings`); a flag not given keeps the client's default. The
    API key stays in its environment variable."""

    model: str | None = None
    client: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, model: str | None, **flags: Any) -> Endpoint:
        """The flags that were given (None: not given)."""
        return cls(model, {name: value for name, value in flags.items() if value is not None})

    def recipe(self, stage: str) -> dict[str, Any]:
        """The recipe's ``model:`` and ``client:`` sections."""
        if self.model is None:
            fail(f"stage {stage!r} calls a model: give --model (and --base-url)", BAD_INPUT)
        name = self.client.get("api_key_env")
        if name is not None and name not in os.environ:  # never echo it: may be the key
            fail("the environment variable named by --api-key-env is not set (give its name, not the key)", BAD_INPUT)
        return {"model": self.model, "client": dict(self.client)}


@dataclass
class StageCommand:
    """One single-stage command: the command's ``stage`` and its options, where the records come from and go.

    ``source`` None: the stage generates (no ``load``). ``stage == "load"``: the load stage is the only one
    (``export``, ``report``) and ``--set`` applies to it.
    """

    stage: str
    output: Path
    options: dict[str, Any] = field(default_factory=dict)
    sets: list[str] = field(default_factory=list)
    source: Path | None = None
    renames: list[str] = field(default_factory=list)
    limit: int | None = None
    work_dir: Path | None = None
    endpoint: Endpoint = field(default_factory=Endpoint)
    seeds: Path | None = None
    seed_field: str = "instruction"
    seed: int = 0
    scheduler_address: str | None = None
    exports: list[dict[str, Any]] = field(default_factory=list)

    @property
    def work(self) -> Path:
        return self.work_dir or self.output.with_name(f".{self.output.name}.work")


# ------------------------------------------------------------------------------------------------- running
def run_to_file(step: StageCommand) -> None:
    """Run ``step`` and write its records to ``step.output`` (suffix checked first), atomically."""
    from curator_synth._files import atomic_write

    writer = OUTPUT_WRITERS.get(step.output.suffix.lower())
    if writer is None:
        fail(f"the output must end in {', '.join(OUTPUT_WRITERS)}; got {str(step.output)!r}", BAD_INPUT)
    check_output_file(step.output)
    result, _ = run_step(step)
    frame = result.dataset.to_pandas()
    atomic_write(step.output, functools.partial(writer, frame))
    typer.echo(f"{len(frame)} records written to {step.output}")


def run_step(step: StageCommand) -> tuple[PipelineResult, PipelineConfig]:
    """Run (or resume) the step's recipe in its working directory; print one summary line per stage."""
    from curator_synth.cli._progress import show_progress
    from curator_synth.pipeline import SyntheticDataPipeline

    config = _config(step)
    pipeline = SyntheticDataPipeline(None, config)
    with running_in(step.work), show_progress(pipeline):
        result = pipeline.run(output_dir=step.work)
    for summary in result.stages:
        typer.echo(_stage_line(summary))
    return result, config


def _config(step: StageCommand) -> PipelineConfig:
    from curator_synth.pipeline import PipelineConfig

    stages = _stages(step)
    dask = {"scheduler_address": step.scheduler_address} if step.scheduler_address else {}
    recipe: dict[str, Any] = {"name": f"cli-{step.stage}", "stages": stages, "dask": dask, "seed": step.seed,
                              "report": {"enabled": False}, "exports": step.exports}  # fmt: skip
    if _stage(stages[-1]).needs_client():
        recipe.update(step.endpoint.recipe(step.stage))
    if step.seeds is not None:
        if not step.seeds.is_file():
            fail(f"seed file not found: {str(step.seeds)!r}", BAD_INPUT)
        recipe.update(seeds=os.path.abspath(step.seeds), seed_field=step.seed_field)
    try:
        return PipelineConfig.from_dict(recipe)
    except ConfigError as error:
        fail(error, BAD_INPUT)


def _stages(step: StageCommand) -> list[dict[str, Any]]:
    """The recipe's ``stages:``: ``load`` for the input (unless generating), then the command's stage."""
    options = _with_sets(step.options, step.sets)
    if step.source is None:
        return [{"stage": step.stage, **options}]
    load: dict[str, Any] = {"stage": "load", "path": _input_files(step.source), "limit": step.limit}
    load.update(rename=pairs(step.renames, "--rename"))
    return [{**load, **options}] if step.stage == "load" else [load, {"stage": step.stage, **options}]


def _stage(spec: dict[str, Any]) -> Stage:
    """The stage of a recipe entry, its options validated: an unknown option is named, with the valid ones."""
    from pydantic import ValidationError

    from curator_synth.pipeline import STAGES

    cls = STAGES.get(spec["stage"])
    try:
        return cls(cls.Options.model_validate({key: value for key, value in spec.items() if key != "stage"}))
    except ValidationError as error:
        fail("; ".join(_option_problem(cls.name, sorted(cls.Options.model_fields), e) for e in error.errors()),
             BAD_INPUT)  # fmt: skip


def _option_problem(stage: str, valid: list[str], problem: Any) -> str:
    key = ".".join(str(part) for part in problem["loc"]) or "(options)"
    if problem["type"] == "extra_forbidden":
        return f"unknown option {key!r} of stage {stage!r} (its options: {', '.join(valid)})"
    return f"option {key!r} of stage {stage!r}: {problem['msg']}"


def check_output_file(path: Path) -> None:
    """Before any work: ``-o`` can be written — its directory exists or can be made, and neither it nor a
    parent is in the way (a file where a directory must be, a directory where the file goes, no permission)."""
    from curator_synth.pipeline.checks import check_output_dir

    if path.is_dir():
        fail(f"-o {path} is a directory; give a file name", BAD_INPUT)
    try:
        check_output_dir(path.parent, create=True)
    except ConfigError as error:
        fail(f"-o {path}: {error}", BAD_INPUT)
    if path.exists() and not os.access(path, os.W_OK):
        fail(f"-o {path} is not writable", BAD_INPUT)


def _stage_line(summary: StageSummary) -> str:
    """``filter: 252 -> 231 records; dropped or flagged: refusal/refusal 18, ...`` (a first stage has 0 in)."""
    line = f"{summary['stage']}: {summary['records_in']} -> {summary['records_out']} records"
    if summary["rejections"]:
        line += f"; dropped or flagged: {', '.join(_reasons(summary))}"
    return line + (" (resumed)" if summary["resumed"] else f" ({summary['seconds']:.1f} s)")


def _reasons(summary: StageSummary) -> list[str]:
    return [f"{name}/{reason} {n}" for name, counts in summary["rejections"].items() for reason, n in counts.items()]


# ------------------------------------------------------------------------------------------ arguments
def require_stage(name: str, source: Path | None, *, llm: bool) -> None:
    """``name`` is a registered stage (``llm``: one that calls a model) that takes ``source`` as it is given: a
    stage that starts a pipeline from seeds takes no INPUT, any other needs one."""
    from curator_synth.pipeline import STAGES

    known = [stage for stage in STAGES.names() if STAGES.get(stage).uses_llm or not llm]
    if name.lower() not in known:
        known.sort(key=lambda stage: not STAGES.get(stage).first)  # those that start from seeds first
        fail(f"unknown {'generating stage' if llm else 'stage'} {name!r}; known: {', '.join(known)}", BAD_INPUT)
    cls = STAGES.get(name)
    if source is None and not cls.first:
        fail(f"stage {cls.name!r} works on records: give INPUT (a .jsonl or .parquet file, folder or glob)", BAD_INPUT)
    if source is not None and cls.first and cls.name != "load" and cls.uses_llm:
        fail(f"stage {cls.name!r} generates from --seeds (or from nothing), not from INPUT", BAD_INPUT)


def check_names(registry: Registry[Any], names: Iterable[str]) -> list[Any]:
    """The registered objects of ``names``; an unknown name exits with 2, listing the known ones."""
    try:
        return [registry.get(name) for name in names]
    except ConfigError as error:
        fail(error, BAD_INPUT)


def _input_files(source: Path) -> list[str]:
    """INPUT as absolute file paths: a file, a glob, or every JSON Lines and Parquet file of a directory."""
    from curator_synth.dataset.io import SUPPORTED_SUFFIXES, resolve_input_files

    try:
        return resolve_input_files(os.path.abspath(source), SUPPORTED_SUFFIXES)
    except ConfigError as error:
        fail(error, BAD_INPUT)


def pairs(items: Iterable[str], flag: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            fail(f"{flag} expects KEY=VALUE, got {item!r}", BAD_INPUT)
        pairs[key.strip()] = value
    return pairs


def _with_sets(options: dict[str, Any], sets: list[str]) -> dict[str, Any]:
    """``options`` with each ``--set key=value`` applied (value parsed as YAML; ``a.b=`` sets a nested key)."""
    from curator_synth.pipeline.recipe_keys import apply_overrides, parse_overrides

    return apply_overrides(options, parse_overrides(sets))  # a ConfigError: exit 2


def filter_specs(flags: list[str], file: Path | None) -> list[dict[str, Any]]:
    """The filters of ``--filters FILE`` then of each ``--filter NAME[:FIELD]``; unknown names exit with 2."""
    from curator_synth.filters import FILTERS

    specs = _read_filters(file) if file is not None else []
    for flag in flags:
        name, _, fields = flag.partition(":")
        specs.append({"name": name, **({"field": fields.split(",") if "," in fields else fields} if fields else {})})
    check_names(FILTERS, [str(spec.get("name")) for spec in specs])
    return specs


def _read_filters(file: Path) -> list[dict[str, Any]]:
    """A YAML or JSON list of filter mappings (or a mapping with a ``filters:`` list, as in a recipe)."""
    from curator_synth._yaml import load_yaml

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        fail(f"cannot read {str(file)!r}: {error.strerror or error}", BAD_INPUT)
    loaded = load_yaml(text, str(file))  # a ConfigError naming file:line (exit 2)
    specs = loaded.get("filters") if isinstance(loaded, dict) else loaded
    if not isinstance(specs, list) or not all(isinstance(spec, dict) for spec in specs):
        fail(f"{file}: expected a list of filters such as [{{name: refusal, field: response}}]", BAD_INPUT)
    return specs


# ------------------------------------------------------------------------------------------------ report
def write_step_report(result: PipelineResult, config: PipelineConfig, out: Path, title: str, plots: bool) -> Path:
    """The run report of the loaded records, written to ``out`` the way a recipe's report is."""
    from curator_synth.pipeline.context import RunContext
    from curator_synth.pipeline.summary import add_stage_summary, fill_report
    from curator_synth.report import ReportData, write_report

    report = ReportData(title=title, info={"input": ", ".join(config.stages[0]["path"])})
    for summary in result.stages:
        add_stage_summary(report, summary)
    fill_report(report, result.dataset.to_pandas(), RunContext(config=config, output_dir=out), config)
    return write_report(report, out, plots=plots)
