"""The ``curator-synth`` command line.

Commands: ``run`` (a YAML recipe, end to end, resumable), ``inspect`` (validate a recipe and show its
plan), ``query`` (send one prompt to an endpoint, handy for checking a URL/key/model) and ``fake-server``
(run the loopback :class:`~curator_synth.testing.FakeLLMServer` to try recipes offline).

Exit codes: 0 done, 1 a run failed (the message says why and where), 2 a bad recipe or bad arguments.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from curator_synth._version import __version__
from curator_synth.errors import CuratorSynthError

app = typer.Typer(
    name="curator-synth",
    help="Generate and curate synthetic instruction-tuning and preference data for LLM training.",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"curator-synth {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool],  # noqa: UP045 - typer needs Optional on 3.10
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """curator-synth: synthetic data generation and curation."""


@app.command()
def query(
    prompt: Annotated[str, typer.Argument(help="The user message.")],
    model: Annotated[str, typer.Option(help="Model name as the endpoint knows it.")],
    base_url: Annotated[str, typer.Option(help="OpenAI-compatible base URL, e.g. http://localhost:8000/v1.")] = (
        "https://integrate.api.nvidia.com/v1"
    ),
    api_key: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(envvar=["NVIDIA_API_KEY", "OPENAI_API_KEY"], show_envvar=True, help="API key."),
    ] = None,
    max_tokens: Annotated[int, typer.Option(help="Completion length limit.")] = 512,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 0.7,
    n: Annotated[int, typer.Option(help="Number of answers.")] = 1,
    formatter: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Send to /completions with this conversation template (nemotron, llama3, ...)."),
    ] = None,
) -> None:
    """Send one prompt to an endpoint and print the answer(s)."""
    from curator_synth.clients import OpenAIClient

    try:
        with OpenAIClient(base_url=base_url, api_key=api_key, max_retries=2) as client:
            answers = client.query_model(
                messages=[{"role": "user", "content": prompt}],
                model=model,
                max_tokens=max_tokens,
                temperature=temperature,
                n=n,
                conversation_formatter=formatter,
            )
    except CuratorSynthError as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None
    for index, answer in enumerate(answers):
        if n > 1:
            typer.secho(f"--- answer {index + 1}", bold=True)
        typer.echo(answer)


@app.command("fake-server")
def fake_server(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).")] = 8000,
    latency: Annotated[float, typer.Option(help="Seconds before each answer.")] = 0.0,
    reply: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Fixed reply text; default echoes the prompt."),
    ] = None,
    reward: Annotated[bool, typer.Option(help="Answer like a Nemotron reward model (logprob scores).")] = False,
) -> None:
    """Run the loopback OpenAI-compatible simulator until Ctrl-C (for offline tries of recipes)."""
    from curator_synth.testing import Echo, FakeLLMServer, Fixed, Reward

    responder = Reward() if reward else Fixed(reply) if reply is not None else Echo()
    with FakeLLMServer(responder=responder, latency=latency, port=port) as server:
        typer.echo(f"FakeLLMServer listening at {server.base_url} (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            typer.echo("stopped")


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
) -> None:
    """Run a recipe end to end; a re-run resumes after the last finished stage (and finished partitions)."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from curator_synth.pipeline import SyntheticDataPipeline

    pipeline = _pipeline_or_exit(recipe)
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=False) as progress:
        tasks: dict[str, Any] = {}

        def report(name: str, done: int, total: int) -> None:
            label = "stages" if name == "stages" else f"  {name} partitions"
            if name not in tasks:
                tasks[name] = progress.add_task(label, total=total)
            progress.update(tasks[name], completed=done, total=total)

        pipeline.progress = report
        try:
            result = SyntheticDataPipeline.run(pipeline, seed_file=seeds, output_dir=output_dir)
        except CuratorSynthError as error:
            progress.stop()
            typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=1) from None
    for stage in result.stages:
        dropped = sum(sum(reasons.values()) for reasons in stage["rejections"].values())
        typer.echo(f"{stage['stage']:>14}: {stage['records_in']:>6} -> {stage['records_out']:>6}"
                   f"  ({dropped} dropped, {stage['seconds']:.1f} s)")  # fmt: skip
    typer.echo(f"{len(result)} records in {result.output_dir / 'final'}")
    for name, path in result.exports.items():
        typer.echo(f"export {name}: {path}")
    if result.report_path is not None:
        typer.echo(f"report: {result.report_path}")


@app.command()
def inspect(
    recipe: Annotated[Path, typer.Argument(help="A YAML recipe to validate.")],
) -> None:
    """Validate a recipe and print its stages with every option (defaults filled in)."""
    pipeline = _pipeline_or_exit(recipe)
    config = pipeline.config
    typer.echo(f"recipe {config.name}: {len(pipeline.specs)} stages; output in {config.output_path}")
    if config.model or config.client:
        endpoint = config.client.base_url if config.client else "(client given in code)"
        typer.echo(f"model {config.model} at {endpoint}")
    for number, step in enumerate(pipeline.plan()):
        name = step.pop("stage")
        options = ", ".join(f"{key}={value!r}" for key, value in step.items())
        typer.echo(f"  {number:02d} {name}: {options}")


def _pipeline_or_exit(recipe: Path) -> Any:
    from curator_synth.pipeline import SyntheticDataPipeline

    try:
        return SyntheticDataPipeline(None, recipe)
    except CuratorSynthError as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None


def main() -> None:
    app()


if __name__ == "__main__":
    main()
