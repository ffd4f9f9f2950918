"""Endpoint helpers: ``query`` (one prompt to an endpoint), ``check`` (what an endpoint supports) and
``fake-server`` (the loopback simulator)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from curator_synth.cli import app
from curator_synth.cli._common import BAD_INPUT, fail


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
def check(
    recipe: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Argument(help="A recipe whose endpoint and model to check (or give --base-url and --model)."),
    ] = None,
    base_url: Annotated[Optional[str], typer.Option(help="OpenAI-compatible base URL.")] = None,  # noqa: UP045
    model: Annotated[Optional[str], typer.Option(help="Model name as the endpoint knows it.")] = None,  # noqa: UP045
    api_key_env: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="NAME of the environment variable holding the key (default: the client's own)."),
    ] = None,
) -> None:
    """Check an endpoint in seconds: its models (a warning if the model is not listed), one tiny request, and
    whether it honours n > 1, response_format (json_schema, json_object + schema) and logprobs; with a recipe,
    the table is also kept in its run directory (capabilities.json)."""
    from curator_synth.clients.capabilities import examine, probe
    from curator_synth.clients.factory import ClientSpec
    from curator_synth.errors import CuratorSynthError
    from curator_synth.pipeline import load_config
    from curator_synth.pipeline.failures import explained

    out = None
    if recipe is not None:
        config = load_config(recipe)
        if config.client is None or not config.model:
            fail(f"{recipe}: the recipe has no client: section or no model: to check", BAD_INPUT)
        fields = config.client.model_dump(exclude_none=True, include={"kind", "base_url", "api_key_env", "timeout"})
        given = {name: value for name, value in (("base_url", base_url), ("api_key_env", api_key_env)) if value}
        spec = ClientSpec(**{**fields, **given})
        chosen, out = model or config.model, config.output_path
    else:
        if not base_url or not model:
            fail("give a RECIPE, or --base-url and --model", BAD_INPUT)
        spec, chosen = ClientSpec(base_url=base_url, api_key_env=api_key_env), model
    try:
        found = examine(spec, chosen, probe)
    except CuratorSynthError as error:
        raise explained(error, f"the check of {spec.endpoint}") from None
    if found is None:
        fail(f"client kind {spec.kind!r} is not an OpenAI-compatible endpoint: nothing to check", BAD_INPUT)
    typer.echo(found.table())
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        typer.echo(f"kept in {found.save(out)}")
