"""Single-step commands: ``generate``, ``score``, ``filter``, ``dedup``, ``sample``, ``export`` and ``report``.

Each is a thin layer over the pipeline: it builds an in-memory recipe — a ``load`` stage for INPUT (none for
``generate``) plus the command's stage, whose options are the command's flags and ``--set key=value`` — and runs
it with :class:`~curator_synth.pipeline.SyntheticDataPipeline` in a working directory beside the output
(``.<output>.work/``, or ``--work-dir``). Resume, the stage registry, the persisted stage outputs and error
reporting are therefore those of recipes: a re-run with the same arguments and inputs loads the finished
stages (see :mod:`curator_synth.cli.steps`). The output
file is written only once the run finished, atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from curator_synth.cli import app
from curator_synth.cli._common import BAD_INPUT, fail
from curator_synth.cli._options import (
    ApiKeyEnv,
    BaseUrl,
    ClientKind,
    MaxConcurrency,
    Model,
    Scheduler,
)
from curator_synth.cli._options import StageSets as Sets
from curator_synth.cli.steps import (
    EXPORT_SUFFIXES,
    Endpoint,
    StageCommand,
    check_names,
    filter_specs,
    pairs,
    require_stage,
    run_step,
    run_to_file,
    write_step_report,
)

# ------------------------------------------------------------------------------------------ shared options
Source = Annotated[
    Path, typer.Argument(metavar="INPUT", help="Records: a .jsonl/.json (JSON lines) or .parquet file, folder or glob.")
]
OptionalSource = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Argument(
        metavar="[INPUT]", help="Records, for a stage that works on records: .jsonl, .parquet, folder or glob."
    ),
]
Output = Annotated[Path, typer.Option("-o", "--output", help="Where the records go: .jsonl or .parquet (by suffix).")]
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


# ------------------------------------------------------------------------------------------------ commands
@app.command()
def generate(
    stage: Annotated[
        str,
        typer.Argument(
            help="A stage that calls a model: self_instruct or topic_prompts (from --seeds or nothing); responses,"
            " evol_instruct, dialogue, rephrase, preference (over INPUT)."
        ),
    ],
    output: Output,
    source: OptionalSource = None,
    seeds: Seeds = None,
    seed_field: SeedField = "instruction",
    model: Model = None,
    base_url: BaseUrl = None,
    api_key_env: ApiKeyEnv = None,
    max_concurrency: MaxConcurrency = None,
    client_kind: ClientKind = "openai",
    sets: Sets = None,
    renames: Renames = None,
    limit: Limit = None,
    seed: RandomSeed = 0,
    work_dir: WorkDir = None,
    scheduler_address: Scheduler = None,
) -> None:
    """Run a stage that calls a model: generate records from seeds (self_instruct, topic_prompts) or from the
    records of INPUT (responses, preference, ...); its options with --set (e.g. --set num_instructions=20)."""
    require_stage(stage, source, llm=True)
    endpoint = Endpoint.of(
        model, kind=client_kind, base_url=base_url, api_key_env=api_key_env, max_concurrency=max_concurrency
    )
    step = StageCommand(stage, output, {}, sets or [], source, renames or [], limit, work_dir, endpoint=endpoint,
                        seeds=seeds, seed_field=seed_field, seed=seed, scheduler_address=scheduler_address)  # fmt: skip
    run_to_file(step)


@app.command("stage")
def stage_(
    stage: Annotated[
        str, typer.Argument(help="Any registered stage, e.g. redact_pii or blend (an unknown name lists them all).")
    ],
    output: Output,
    source: OptionalSource = None,
    seeds: Seeds = None,
    seed_field: SeedField = "instruction",
    model: Model = None,
    base_url: BaseUrl = None,
    api_key_env: ApiKeyEnv = None,
    max_concurrency: MaxConcurrency = None,
    client_kind: ClientKind = "openai",
    sets: Sets = None,
    renames: Renames = None,
    limit: Limit = None,
    seed: RandomSeed = 0,
    work_dir: WorkDir = None,
    scheduler_address: Scheduler = None,
) -> None:
    """Run any one stage as a step (redact_pii, blend, a plugin's...), over INPUT unless it starts a pipeline;
    its options with --set. The other commands are this one with their stage's options as flags."""
    require_stage(stage, source, llm=False)
    endpoint = Endpoint.of(
        model, kind=client_kind, base_url=base_url, api_key_env=api_key_env, max_concurrency=max_concurrency
    )
    step = StageCommand(stage, output, {}, sets or [], source, renames or [], limit, work_dir, endpoint=endpoint,
                        seeds=seeds, seed_field=seed_field, seed=seed, scheduler_address=scheduler_address)  # fmt: skip
    run_to_file(step)


@app.command()
def score(
    source: Source,
    output: Output,
    mode: Annotated[str, typer.Option(help="heuristic (offline), llm_judge or nemotron.")] = "heuristic",
    model: Model = None,
    base_url: BaseUrl = None,
    api_key_env: ApiKeyEnv = None,
    max_concurrency: MaxConcurrency = None,
    client_kind: ClientKind = "openai",
    sets: Sets = None,
    renames: Renames = None,
    limit: Limit = None,
    work_dir: WorkDir = None,
    scheduler_address: Scheduler = None,
) -> None:
    """Add reward_* scores to every record (a reward model, an LLM judge, or the offline heuristic)."""
    from curator_synth.reward.modes import REWARD_MODES

    check_names(REWARD_MODES, [mode])
    endpoint = Endpoint.of(
        model, kind=client_kind, base_url=base_url, api_key_env=api_key_env, max_concurrency=max_concurrency
    )
    step = StageCommand("score", output, {"mode": mode}, sets or [], source, renames or [], limit, work_dir,
                        endpoint=endpoint, scheduler_address=scheduler_address)  # fmt: skip
    run_to_file(step)


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
    specs = filter_specs(filters or [], filters_file)
    options = {"filters": specs} if specs else {}
    run_to_file(StageCommand("filter", output, options, sets or [], source, renames or [], limit, work_dir))


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
    step = StageCommand("dedup", output, options, sets or [], source, renames or [], limit, work_dir, seeds=seeds,
                        seed_field=seed_field)  # fmt: skip
    run_to_file(step)


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

    check_names(SAMPLING_STRATEGIES, [strategy])
    options = {"strategy": strategy, "n": n, "field": field}
    run_to_file(StageCommand("sample", output, options, sets or [], source, renames or [], limit, work_dir, seed=seed))


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
    trace: Annotated[
        bool, typer.Option("--trace", help="Write a reasoning model's reasoning before each response (<think>).")
    ] = False,
    to_hub: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--to-hub", metavar="REPO", help="Also publish it as a Hugging Face dataset, e.g. me/my-data."),
    ] = None,
    private: Annotated[bool, typer.Option("--private", help="With --to-hub: a private repository.")] = False,
    license: Annotated[str, typer.Option(help="With --to-hub: the card's licence (an SPDX id).")] = "other",
    token_env: Annotated[str, typer.Option(help="With --to-hub: NAME of the variable holding the token.")] = "HF_TOKEN",
    sets: Sets = None,
    renames: Renames = None,
    limit: Limit = None,
    work_dir: WorkDir = None,
) -> None:
    """Write the records as one fine-tuning file (OpenAI messages, ShareGPT, Alpaca, DPO, Parquet); --set: load.
    With --to-hub, publish it on the Hugging Face Hub with a dataset card (the run's recipe, counts, drops and
    provenance when INPUT is a run's final/ directory)."""
    from curator_synth.exports import EXPORT_FORMATS

    exporter = check_names(EXPORT_FORMATS, [format])[0]
    suffixes = EXPORT_SUFFIXES[exporter.file_format]
    if output.suffix.lower() not in suffixes:
        fail(f"format {format!r} writes {exporter.file_format}: name the output *{' or *'.join(suffixes)}", BAD_INPUT)
    target = {"format": format, "path": os.path.abspath(output), "fields": pairs(field_map or [], "--field-map")}
    step = StageCommand("load", output, {}, sets or [], source, renames or [], limit, work_dir,
                        exports=[{**target, "metadata": metadata or [], "trace": trace}])  # fmt: skip
    if to_hub is not None:  # before any work: exit 2, nothing written
        from curator_synth.exports.hub import card_for, check_hub_access, push_to_hub

        check_hub_access(to_hub, token_env)
    result, _ = run_step(step)
    typer.echo(f"{len(result)} records exported as {format} to {output}")
    if to_hub is not None:
        files = {f"data/{output.name}": str(output)}
        runs = [path for path in (source, source.parent) if (path / "stages").is_dir()]
        card = card_for(to_hub.split("/")[-1], result.dataset.to_pandas(), {name: format for name in files},
                        license=license, run_dir=runs[0] if runs else None)  # fmt: skip
        url = push_to_hub(to_hub, files, card, private=private, token_env=token_env)
        typer.echo(f"published on the Hub: {url}")


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
    step = StageCommand("load", output, {}, sets or [], source, renames or [], limit, work_dir, seeds=seeds,
                        seed_field=seed_field)  # fmt: skip
    result, config = run_step(step)
    path = write_step_report(result, config, output, title or f"Report: {source.name}", plots)
    typer.echo(f"report: {path}")
