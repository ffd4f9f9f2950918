"""``run`` and ``inspect``: a YAML recipe end to end, and its validation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from curator_synth.cli import app
from curator_synth.cli._common import running_in
from curator_synth.cli._options import ApiKeyEnv, BaseUrl, Model, RecipeSets, recipe_config
from curator_synth.redact import redact_url


@app.command()
def run(
    recipe: Annotated[
        Path, typer.Argument(help="A YAML recipe, e.g. prompt_templates/recipes/curate_self_instruct.yaml")
    ],
    output_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Where the run goes (default: the recipe's output_dir, else runs/<name>)."),
    ] = None,
    seeds: Annotated[Optional[Path], typer.Option(help="Seed file overriding the recipe's seeds:.")] = None,  # noqa: UP045
    scheduler_address: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Run the LLM stages on this Dask scheduler (tcp://host:8786) instead of in this process."),
    ] = None,
    cluster: Annotated[
        bool,
        typer.Option("--cluster", help="Start a LocalCluster of worker processes for the LLM stages (dask.n_workers)."),
    ] = False,
    model: Model = None,
    base_url: BaseUrl = None,
    api_key_env: ApiKeyEnv = None,
    sets: RecipeSets = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Run against the loopback simulator (no endpoint, no key) and print the planned requests, tokens"
            " and cost; with --output-dir the simulated run is kept there.",
        ),
    ] = False,
) -> None:
    """Run a recipe end to end; a re-run resumes after the last finished stage (and finished partitions).

    Exit codes: 0 done, 1 failed, 2 bad recipe or input (nothing was sent), 75 unfinished (requests failed
    transiently: re-run to resume), 130 interrupted."""
    from curator_synth.cli._progress import show_progress

    pipeline = _pipeline(recipe, model=model, base_url=base_url, api_key_env=api_key_env, sets=sets)
    if scheduler_address is not None or cluster:
        where = {"scheduler_address": scheduler_address} if scheduler_address is not None else {"cluster": "local"}
        pipeline.config = pipeline.config.model_copy(update={"dask": pipeline.config.dask.model_copy(update=where)})
    if dry_run:
        _dry_run(pipeline.config, seeds, output_dir)
        return
    with running_in(output_dir or pipeline.config.output_path), show_progress(pipeline):
        result = pipeline.run(seed_file=seeds, output_dir=output_dir)
    for stage in result.stages:
        dropped = sum(sum(reasons.values()) for reasons in stage["rejections"].values())
        typer.echo(f"{stage['stage']:>14}: {stage['records_in']:>6} -> {stage['records_out']:>6}"
                   f"  ({dropped} dropped, {stage['seconds']:.1f} s)")  # fmt: skip
    typer.echo(f"{len(result)} records in {result.output_dir / 'final'}")
    for name, path in result.exports.items():
        typer.echo(f"export {name}: {path}")
    if result.report_path is not None:
        typer.echo(f"report: {result.report_path}")


def _dry_run(config: Any, seeds: Path | None, output_dir: Path | None) -> None:
    from curator_synth.cli._progress import progress_bars
    from curator_synth.pipeline.dryrun import dry_run

    with progress_bars() as report:
        plan = dry_run(config, seed_file=seeds, output_dir=output_dir, progress=report)
    typer.echo(plan.format())
    if plan.output_dir is not None:
        typer.echo(f"simulated run kept in {plan.output_dir}")


@app.command()
def inspect(
    recipe: Annotated[Path, typer.Argument(help="A YAML recipe to validate.")],
    model: Model = None,
    base_url: BaseUrl = None,
    api_key_env: ApiKeyEnv = None,
    sets: RecipeSets = None,
) -> None:
    """Validate a recipe as ``run`` does before its first request (stage options and registry names, input
    files, seeds, client, API key variable, exports, output directory) and print its stages with every option
    (defaults filled in). Exit 2 names every problem of the recipe's keys, else the first one found."""
    pipeline = _pipeline(recipe, model=model, base_url=base_url, api_key_env=api_key_env, sets=sets)
    pipeline.validate()
    config = pipeline.config
    typer.echo(f"recipe {config.name}: {len(pipeline.specs)} stages; output in {config.output_path}")
    if config.model or config.client:
        endpoint = redact_url(config.client.base_url or "(the client's default)") if config.client else "(in code)"
        typer.echo(f"model {config.model} at {endpoint}")
    for number, step in enumerate(pipeline.plan()):
        name = step.pop("stage")
        options = ", ".join(f"{key}={value!r}" for key, value in step.items())
        typer.echo(f"  {number:02d} {name}: {options}")


@app.command()
def preview(
    recipe: Annotated[Path, typer.Argument(help="A YAML recipe to try on a few records.")],
    n: Annotated[int, typer.Option("-n", min=1, help="About how many records to make.")] = 5,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Against the loopback simulator (no endpoint, no key), as run --dry-run.")
    ] = False,
    output_dir: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Keep the preview's run there (default: a temporary directory, removed afterwards)."),
    ] = None,
    model: Model = None,
    base_url: BaseUrl = None,
    api_key_env: ApiKeyEnv = None,
    sets: RecipeSets = None,
) -> None:
    """Run the recipe end to end on about N records and print them: instruction, response, scores, and the rows
    each filter rejected with the reason (no exports, no report; the recipe's own output is not touched)."""
    from rich.console import Console

    from curator_synth.pipeline.preview import preview as run_preview

    pipeline = _pipeline(recipe, model=model, base_url=base_url, api_key_env=api_key_env, sets=sets)
    shown = run_preview(pipeline.config, n, simulate=dry_run, output_dir=output_dir)
    console = Console()
    for table in shown.tables():
        console.print(table)
    if output_dir is not None:
        typer.echo(f"preview run kept in {output_dir}")


def _pipeline(recipe: Path, **flags: Any) -> Any:
    """The recipe's pipeline, the endpoint flags and ``--set`` applied (a bad recipe raises ConfigError: exit 2)."""
    from curator_synth.pipeline import SyntheticDataPipeline

    return SyntheticDataPipeline(None, recipe_config(recipe, **flags))
