"""Single-step commands: ``generate``, ``score``, ``filter``, ``dedup``, ``sample``, ``export`` and ``report``.

Each is a thin layer over the pipeline: it builds an in-memory recipe — a ``load`` stage for INPUT (none for
``generate``) plus the command's stage, whose options are the command's flags and ``--set key=value`` — and runs
it with :class:`~curator_synth.pipeline.SyntheticDataPipeline` in a working directory beside the output
(``.<output>.work/``, or ``--work-dir``). Resume, the stage registry, the persisted stage outputs and error
reporting are therefore those of recipes: a re-run with the same arguments loads the finished stages. The output
file is written only once the run finished, atomically.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from curator_synth.cli import app
from curator_synth.cli._common import BAD_INPUT, RUN_FAILED, fail
from curator_synth.errors import ConfigError, CuratorSynthError, DataFormatError

if TYPE_CHECKING:
    import pandas as pd

    from curator_synth.pipeline import PipelineConfig, PipelineResult, Stage
    from curator_synth.registry import Registry

#: Library errors that mean bad arguments or a bad input file (exit 2); any other one is a failed run (exit 1).
BAD_INPUT_ERRORS = (ConfigError, DataFormatError)
#: A directory given as INPUT is read as its Parquet files, else as its JSON Lines files.
INPUT_SUFFIXES = ((".parquet",), (".jsonl", ".json"))
#: Written in the working directory: what the stage fingerprints do not cover (input files, endpoint, seed).
STAMP = "cli-inputs.json"


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

# ------------------------------------------------------------------------------------------ shared options
Source = Annotated[
    Path, typer.Argument(metavar="INPUT", help="Records: a .jsonl/.json (JSON lines) or .parquet file, folder or glob.")
]
Output = Annotated[Path, typer.Option("-o", "--output", help="Where the records go: .jsonl or .parquet (by suffix).")]
Sets = Annotated[
    Optional[list[str]],  # noqa: UP045 - typer needs Optional on 3.10
    typer.Option("--set", metavar="KEY=VALUE", help="A stage option, VALUE parsed as YAML (a.b=1 nests). Repeatable."),
]
Renames = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--rename", metavar="OLD=NEW", help="Rename an input column, e.g. output=response. Repeatable."),
]
Limit = Annotated[Optional[int], typer.Option(min=1, help="Read only the first N input records.")]  # noqa: UP045
WorkDir = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(help="The stage data, kept for resume (default: .<output>.work beside the output)."),
]
Seeds = Annotated[Optional[Path], typer.Option(help="Seed file: JSON Lines (field --seed-field) or .txt.")]  # noqa: UP045
SeedField = Annotated[str, typer.Option(help="The field of the seed records.")]
RandomSeed = Annotated[int, typer.Option("--seed", help="Random seed of the run (generation, sampling).")]
Model = Annotated[Optional[str], typer.Option(help="Model name as the endpoint knows it.")]  # noqa: UP045
BaseUrl = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(help="OpenAI-compatible base URL, e.g. http://localhost:8000/v1 (default: the client's)."),
]
ApiKeyEnv = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(help="NAME of the environment variable holding the API key (default: the client's own)."),
]
MaxConcurrency = Annotated[int, typer.Option(min=1, help="Requests in flight at most.")]
ClientKind = Annotated[str, typer.Option(help="Client kind: openai, or nemotron (NVIDIA NIM defaults).")]
Scheduler = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(help="Run the partitions on this Dask scheduler (default: in this process)."),
]


@dataclass(frozen=True)
class Endpoint:
    """The model endpoint of a step that calls one; the API key stays in its environment variable."""

    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    max_concurrency: int = 64
    kind: str = "openai"

    def recipe(self, stage: str) -> dict[str, Any]:
        """The recipe's ``model:`` and ``client:`` sections."""
        if self.model is None:
            fail(f"stage {stage!r} calls a model: give --model (and --base-url)", BAD_INPUT)
        if self.api_key_env is not None and self.api_key_env not in os.environ:  # never echo it: may be the key
            fail("the environment variable named by --api-key-env is not set (give its name, not the key)", BAD_INPUT)
        client = {"kind": self.kind, "base_url": self.base_url, "api_key_env": self.api_key_env}
        return {"model": self.model, "client": {**client, "max_concurrency": self.max_concurrency}}


@dataclass
class Step:
    """One single-step run: the command's ``stage`` and its options, where the records come from and go.

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


# ------------------------------------------------------------------------------------------------ commands
@app.command()
def generate(
    stage: Annotated[str, typer.Argument(help="A stage that generates with a model, e.g. self_instruct.")],
    output: Output,
    seeds: Seeds = None,
    seed_field: SeedField = "instruction",
    model: Model = None,
    base_url: BaseUrl = None,
    api_key_env: ApiKeyEnv = None,
    max_concurrency: MaxConcurrency = 64,
    client_kind: ClientKind = "openai",
    sets: Sets = None,
    seed: RandomSeed = 0,
    work_dir: WorkDir = None,
    scheduler_address: Scheduler = None,
) -> None:
    """Generate records with a generating stage; its options with --set (e.g. --set num_instructions=20)."""
    _require_generator(stage)
    endpoint = Endpoint(model, base_url, api_key_env, max_concurrency, client_kind)
    step = Step(stage, output, sets=sets or [], endpoint=endpoint, seeds=seeds, seed_field=seed_field, seed=seed,
                work_dir=work_dir, scheduler_address=scheduler_address)  # fmt: skip
    _run_to_file(step)


@app.command()
def score(
    source: Source,
    output: Output,
    mode: Annotated[str, typer.Option(help="heuristic (offline), llm_judge or nemotron.")] = "heuristic",
    model: Model = None,
    base_url: BaseUrl = None,
    api_key_env: ApiKeyEnv = None,
    max_concurrency: MaxConcurrency = 64,
    client_kind: ClientKind = "openai",
    sets: Sets = None,
    renames: Renames = None,
    limit: Limit = None,
    work_dir: WorkDir = None,
    scheduler_address: Scheduler = None,
) -> None:
    """Add reward_* scores to every record (a reward model, an LLM judge, or the offline heuristic)."""
    from curator_synth.reward.modes import REWARD_MODES

    _check_names(REWARD_MODES, [mode])
    endpoint = Endpoint(model, base_url, api_key_env, max_concurrency, client_kind)
    step = Step("score", output, {"mode": mode}, sets or [], source, renames or [], limit, work_dir,
                endpoint=endpoint, scheduler_address=scheduler_address)  # fmt: skip
    _run_to_file(step)


@app.command("filter")
def filter_(
    source: Source,
    output: Output,
    filters: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--filter", metavar="NAME[:FIELD]", help="A filter over FIELD (default response; a,b for pairs)."),
    ] = None,
    filters_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--filters", help="A YAML/JSON list of filters as in a recipe; applied before --filter ones."),
    ] = None,
    sets: Sets = None,
    renames: Renames = None,
    limit: Limit = None,
    work_dir: WorkDir = None,
) -> None:
    """Apply registered filters in order; rejected rows are kept, with reasons, in the working directory."""
    specs = _filter_specs(filters or [], filters_file)
    options = {"filters": specs} if specs else {}
    _run_to_file(Step("filter", output, options, sets or [], source, renames or [], limit, work_dir))


@app.command()
def dedup(
    source: Source,
    output: Output,
    method: Annotated[str, typer.Option(help="exact, fuzzy (MinHash-LSH), semantic or novelty (ROUGE-L).")] = "fuzzy",
    field: Annotated[str, typer.Option(help="The text column compared.")] = "instruction",
    seeds: Seeds = None,
    seed_field: SeedField = "instruction",
    sets: Sets = None,
    renames: Renames = None,
    limit: Limit = None,
    work_dir: WorkDir = None,
) -> None:
    """Remove duplicates, keeping one record per group (novelty with --seeds: also records too close to a seed)."""
    options: dict[str, Any] = {"method": method, "field": field, **({"against_seeds": True} if seeds else {})}
    step = Step("dedup", output, options, sets or [], source, renames or [], limit, work_dir, seeds=seeds,
                seed_field=seed_field)  # fmt: skip
    _run_to_file(step)


@app.command()
def sample(
    source: Source,
    output: Output,
    strategy: Annotated[str, typer.Option(help="cluster_balanced, random, topic_stratified...")] = "cluster_balanced",
    n: Annotated[int, typer.Option("-n", "--n", min=1, help="How many records to draw.")] = 1000,
    field: Annotated[str, typer.Option(help="The text column the diversity is measured on.")] = "instruction",
    seed: RandomSeed = 0,
    sets: Sets = None,
    renames: Renames = None,
    limit: Limit = None,
    work_dir: WorkDir = None,
) -> None:
    """Draw a diverse sample of N records."""
    from curator_synth.diversity import SAMPLING_STRATEGIES

    _check_names(SAMPLING_STRATEGIES, [strategy])
    options = {"strategy": strategy, "n": n, "field": field}
    _run_to_file(Step("sample", output, options, sets or [], source, renames or [], limit, work_dir, seed=seed))


@app.command("export")
def export_(
    source: Source,
    format: Annotated[str, typer.Option("--format", "-f", help="messages, sharegpt, alpaca, dpo or parquet.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The export file (.jsonl, or .parquet).")],
    field_map: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--field-map", metavar="NAME=COLUMN", help="The column of a field, e.g. response=output."),
    ] = None,
    metadata: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--metadata", help="A column copied into every record, e.g. provenance. Repeatable."),
    ] = None,
    sets: Sets = None,
    renames: Renames = None,
    limit: Limit = None,
    work_dir: WorkDir = None,
) -> None:
    """Write the records as one fine-tuning file (OpenAI messages, ShareGPT, Alpaca, DPO, Parquet); --set: load."""
    from curator_synth.exports import EXPORT_FORMATS

    exporter = _check_names(EXPORT_FORMATS, [format])[0]
    suffixes = EXPORT_SUFFIXES[exporter.file_format]
    if output.suffix.lower() not in suffixes:
        fail(f"format {format!r} writes {exporter.file_format}: name the output *{' or *'.join(suffixes)}", BAD_INPUT)
    target = {"format": format, "path": os.path.abspath(output), "fields": _pairs(field_map or [], "--field-map")}
    step = Step("load", output, {}, sets or [], source, renames or [], limit, work_dir,
                exports=[{**target, "metadata": metadata or []}])  # fmt: skip
    result, _ = _run(step)
    typer.echo(f"{len(result)} records exported as {format} to {output}")


@app.command("report")
def report_(
    source: Source,
    output: Annotated[Path, typer.Option("-o", "--output", help="The report directory (report.html, stats.json).")],
    seeds: Seeds = None,
    seed_field: SeedField = "instruction",
    title: Annotated[Optional[str], typer.Option(help="The report's title.")] = None,  # noqa: UP045
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="PNG plots (else tables).")] = True,
    sets: Sets = None,
    renames: Renames = None,
    limit: Limit = None,
    work_dir: WorkDir = None,
) -> None:
    """Report on a dataset: counts, reward_* scores, lengths, ROUGE-L to --seeds, diversity; --set: load."""
    step = Step("load", output, {}, sets or [], source, renames or [], limit, work_dir, seeds=seeds,
                seed_field=seed_field)  # fmt: skip
    result, config = _run(step)
    try:
        path = _write_report(result, config, output, title or f"Report: {source.name}", plots)
    except CuratorSynthError as error:
        fail(error, _exit_code(error))
    typer.echo(f"report: {path}")


# ------------------------------------------------------------------------------------------------- running
def _run_to_file(step: Step) -> None:
    """Run ``step`` and write its records to ``step.output`` (suffix checked first), atomically."""
    from curator_synth._files import atomic_write

    writer = OUTPUT_WRITERS.get(step.output.suffix.lower())
    if writer is None:
        fail(f"the output must end in {', '.join(OUTPUT_WRITERS)}; got {str(step.output)!r}", BAD_INPUT)
    result, _ = _run(step)
    frame = result.dataset.to_pandas()
    step.output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(step.output, functools.partial(writer, frame))
    typer.echo(f"{len(frame)} records written to {step.output}")


def _run(step: Step) -> tuple[PipelineResult, PipelineConfig]:
    """Run (or resume) the step's recipe in its working directory; print one summary line per stage."""
    from curator_synth.cli._progress import show_progress
    from curator_synth.pipeline import SyntheticDataPipeline

    config = _config(step)
    _forget_stale_stages(step.work, config)
    before = _manifests(step.work)
    try:
        pipeline = SyntheticDataPipeline(None, config)
        with show_progress(pipeline):
            result = pipeline.run(output_dir=step.work)
    except CuratorSynthError as error:
        fail(error, _exit_code(error))
    after = _manifests(step.work)
    for number, summary in enumerate(result.stages):
        name = f"{number:02d}-{summary['stage']}"
        typer.echo(_stage_line(summary, resumed=name in before and before[name] == after.get(name)))
    last = result.stages[-1]
    if _stage(config.stages[-1]).needs_client() and _nothing_answered(last):  # not kept: a re-run asks again
        shutil.rmtree(step.work / "stages" / f"{len(result.stages) - 1:02d}-{last['stage']}", ignore_errors=True)
        fail(f"{last['stage']}: no usable answer from the model ({', '.join(_reasons(last))}); "
             "check --base-url, --model and the API key", RUN_FAILED)  # fmt: skip
    return result, config


def _config(step: Step) -> PipelineConfig:
    from curator_synth.pipeline import PipelineConfig

    stages = _stages(step)
    dask = {"scheduler_address": step.scheduler_address} if step.scheduler_address else {"local_cluster": False}
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


def _stages(step: Step) -> list[dict[str, Any]]:
    """The recipe's ``stages:``: ``load`` for the input (unless generating), then the command's stage."""
    options = _with_sets(step.options, step.sets)
    if step.source is None:
        return [{"stage": step.stage, **options}]
    load: dict[str, Any] = {"stage": "load", "path": _input_files(step.source), "limit": step.limit}
    load.update(rename=_pairs(step.renames, "--rename"))
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


def _exit_code(error: CuratorSynthError) -> int:
    return BAD_INPUT if isinstance(error, BAD_INPUT_ERRORS) else RUN_FAILED


def _stage_line(summary: dict[str, Any], *, resumed: bool) -> str:
    """``filter: 252 -> 231 records; dropped or flagged: refusal/refusal 18, ...`` (a first stage has 0 in)."""
    line = f"{summary['stage']}: {summary['records_in']} -> {summary['records_out']} records"
    if summary["rejections"]:
        line += f"; dropped or flagged: {', '.join(_reasons(summary))}"
    return line + (" (resumed)" if resumed else f" ({summary['seconds']:.1f} s)")


def _reasons(summary: dict[str, Any]) -> list[str]:
    return [f"{name}/{reason} {n}" for name, counts in summary["rejections"].items() for reason, n in counts.items()]


def _nothing_answered(summary: dict[str, Any]) -> bool:
    """A model stage in which every record failed: nothing out, or as many failures as records in."""
    failed = sum(sum(counts.values()) for counts in summary["rejections"].values())
    return failed > 0 and (summary["records_out"] == 0 or failed >= summary["records_in"] > 0)


# --------------------------------------------------------------------------------------------- resume
def _manifests(work: Path) -> dict[str, int]:
    return {path.parent.name: path.stat().st_mtime_ns for path in work.glob("stages/*/manifest.json")}


def _forget_stale_stages(work: Path, config: PipelineConfig) -> None:
    """A stage's fingerprint covers its options, not the input files' contents, the endpoint or the seed: when
    one of those changed since the last run in ``work``, its stages are dropped, so nothing stale is resumed."""
    from curator_synth._files import atomic_write

    files = config.stages[0]["path"] if config.stages[0]["stage"] == "load" else []
    client = config.client.model_dump(include={"kind", "base_url"}) if config.client else None
    inputs = [[path, os.stat(path).st_size, os.stat(path).st_mtime_ns] for path in files]
    stamp = json.dumps({"inputs": inputs, "model": config.model, "client": client, "seed": config.seed}, indent=1)
    previous = work / STAMP
    if previous.is_file() and previous.read_text() != stamp:
        shutil.rmtree(work / "stages", ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    atomic_write(previous, lambda temp: temp.write_text(stamp))


# ------------------------------------------------------------------------------------------ arguments
def _require_generator(name: str) -> None:
    from curator_synth.pipeline import STAGES

    generators = [stage for stage in STAGES.names() if STAGES.get(stage).first and STAGES.get(stage).uses_llm]
    if name.lower() not in generators:
        fail(f"unknown generating stage {name!r}; known: {', '.join(generators)}", BAD_INPUT)


def _check_names(registry: Registry[Any], names: Iterable[str]) -> list[Any]:
    """The registered objects of ``names``; an unknown name exits with 2, listing the known ones."""
    try:
        return [registry.get(name) for name in names]
    except ConfigError as error:
        fail(error, BAD_INPUT)


def _input_files(source: Path) -> list[str]:
    """INPUT as absolute file paths: a file, a glob, or a directory's Parquet (else JSON Lines) files."""
    from curator_synth.dataset.io import resolve_input_files

    problems = []
    for suffixes in INPUT_SUFFIXES:
        try:
            return resolve_input_files(os.path.abspath(source), suffixes)
        except ConfigError as error:
            problems.append(error)
    fail(problems[-1], BAD_INPUT)


def _pairs(items: Iterable[str], flag: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            fail(f"{flag} expects KEY=VALUE, got {item!r}", BAD_INPUT)
        pairs[key.strip()] = value
    return pairs


def _with_sets(options: dict[str, Any], sets: list[str]) -> dict[str, Any]:
    """``options`` with each ``--set key=value`` applied (value parsed as YAML; ``a.b=`` sets a nested key)."""
    import yaml

    merged = copy.deepcopy(options)
    for key, text in _pairs(sets, "--set").items():
        *parents, last = key.split(".")
        target = merged
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                fail(f"--set {key}: {part!r} is not a mapping", BAD_INPUT)
        try:
            target[last] = yaml.safe_load(text)
        except yaml.YAMLError as error:
            fail(f"--set {key}: not a YAML value: {error}", BAD_INPUT)
    return merged


def _filter_specs(flags: list[str], file: Path | None) -> list[dict[str, Any]]:
    """The filters of ``--filters FILE`` then of each ``--filter NAME[:FIELD]``; unknown names exit with 2."""
    from curator_synth.filters import FILTERS

    specs = _read_filters(file) if file is not None else []
    for flag in flags:
        name, _, fields = flag.partition(":")
        specs.append({"name": name, **({"field": fields.split(",") if "," in fields else fields} if fields else {})})
    _check_names(FILTERS, [str(spec.get("name")) for spec in specs])
    return specs


def _read_filters(file: Path) -> list[dict[str, Any]]:
    """A YAML or JSON list of filter mappings (or a mapping with a ``filters:`` list, as in a recipe)."""
    import yaml

    try:
        loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as error:
        fail(f"cannot read {str(file)!r}: {error.strerror or error}", BAD_INPUT)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark is not None else str(file)
        fail(f"{where}: not valid YAML/JSON: {getattr(error, 'problem', None) or error}", BAD_INPUT)
    specs = loaded.get("filters") if isinstance(loaded, dict) else loaded
    if not isinstance(specs, list) or not all(isinstance(spec, dict) for spec in specs):
        fail(f"{file}: expected a list of filters such as [{{name: refusal, field: response}}]", BAD_INPUT)
    return specs


# ------------------------------------------------------------------------------------------------ report
def _write_report(result: PipelineResult, config: PipelineConfig, out: Path, title: str, plots: bool) -> Path:
    """The run report of the loaded records, written to ``out`` the way a recipe's report is."""
    from curator_synth.pipeline.context import RunContext
    from curator_synth.pipeline.summary import fill_report
    from curator_synth.report import ReportData, write_report

    report = ReportData(title=title, info={"input": ", ".join(config.stages[0]["path"])})
    for summary in result.stages:
        report.add_stage(summary["stage"], summary["records_in"], summary["records_out"], summary["seconds"])
        for name, reasons in summary["rejections"].items():
            report.add_rejections(name, reasons)
    fill_report(report, result.dataset.to_pandas(), RunContext(config=config, output_dir=out))
    return write_report(report, out, plots=plots)
