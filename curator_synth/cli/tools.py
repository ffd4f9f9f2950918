"""Endpoint helpers: ``query`` (one prompt to an endpoint) and ``fake-server`` (the loopback simulator)."""

from __future__ import annotations

import time
from typing import Annotated, Optional

import typer

from curator_synth.cli import app


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
