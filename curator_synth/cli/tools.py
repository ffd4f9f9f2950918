"""Endpoint helpers: ``query`` (one prompt to an endpoint), ``check`` (what an endpoint supports) and
``fake-server`` (the loopback simulator)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from curator_synth.cli import app
from curator_synth.cli._common import BAD_INPUT, fail
from curator_synth.cli._options import ApiKeyEnv, BaseUrl, Model, RecipeSets, recipe_config


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

    with OpenAIClient(base_url=base_url, api_key=api_key, max_retries=2) as client:  # errors: one line (Group)
        answers = client.query_model(
            messages=[{"role": "user", "content": prompt}],
            model=model,
            max_tokens=max_tokens,
            temperature=temperature,
            n=n,
            conversation_formatter=formatter,
        )
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
        typer.Option(help="Answer every request with this text instead."),
    ] = None,
    echo: Annotated[bool, typer.Option("--echo", help="Answer with the prompt itself instead.")] = False,
    reward: Annotated[bool, typer.Option(help="Answer like a Nemotron reward model (logprob scores).")] = False,
) -> None:
    """Run the loopback OpenAI-compatible simulator until Ctrl-C, to try recipes offline: by default it answers in
    the shape each prompt asks for (lists, YAML, yes/no, judge scores, instances), so every shipped recipe runs
    end to end against it (``curator-synth run RECIPE --base-url http://127.0.0.1:8000/v1 --model any``)."""
    from curator_synth.testing import Echo, FakeLLMServer, Fixed, Plausible, Reward

    chosen = [name for name, on in (("--reply", reply is not None), ("--echo", echo), ("--reward", reward)) if on]
    if len(chosen) > 1:
        fail(f"give one of --reply, --echo and --reward, not {' and '.join(chosen)}", BAD_INPUT)
    responder = Reward() if reward else Fixed(reply) if reply is not None else Echo() if echo else Plausible()
    with FakeLLMServer(responder=responder, latency=latency, port=port) as server:
        typer.echo(f"FakeLLMServer listening at {server.base_url} (Ctrl-C to stop)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            typer.echo("stopped")


@app.command()
def check(
    recipe: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Argument(help="A recipe whose endpoint and model to check (or give --base-url and --model)."),
    ] = None,
    base_url: BaseUrl = None,
    model: Model = None,
    api_key_env: ApiKeyEnv = None,
    sets: RecipeSets = None,
) -> None:
    """Check an endpoint in seconds: its models (a warning if the model is not listed), one tiny request, and
    whether it honours n > 1, response_format (json_schema, json_object + schema) and logprobs; with a recipe,
    the table is also kept in its run directory (capabilities.json)."""
    from curator_synth.clients.capabilities import examine, probe
    from curator_synth.clients.factory import ClientSpec
    from curator_synth.errors import CuratorSynthError
    from curator_synth.pipeline.failures import explained

    out = None
    if recipe is not None:
        config = recipe_config(recipe, model=model, base_url=base_url, api_key_env=api_key_env, sets=sets)
        if config.client is None or not config.model:
            fail(f"{recipe}: the recipe has no client: section or no model: to check", BAD_INPUT)
        spec, chosen, out = config.client.spec(), config.model, config.output_path
    else:
        if not base_url or not model:
            fail("give a RECIPE, or --base-url and --model", BAD_INPUT)
        spec, chosen = ClientSpec(base_url=base_url, api_key_env=api_key_env), model
    try:
        found = examine(spec, chosen, probe)
    except CuratorSynthError as error:
        raise explained(error, f"the check of {spec.endpoint}", spec.key_env_vars) from None
    if found is None:
        fail(f"client kind {spec.kind!r} is not an OpenAI-compatible endpoint: nothing to check", BAD_INPUT)
    typer.echo(found.table())
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        typer.echo(f"kept in {found.save(out)}")
