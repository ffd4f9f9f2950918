"""The ``curator-synth`` command line.

Commands: ``run`` (a YAML recipe, end to end, resumable; ``--dry-run`` plans it against the simulator),
``inspect`` (validate a recipe and show its plan), the single-step commands ``generate``, ``score``,
``filter``, ``dedup``, ``sample``, ``export`` and ``report`` (one stage over a data file), ``query`` (send one
prompt to an endpoint, handy for checking a URL/key/model) and ``fake-server`` (run the loopback
:class:`~curator_synth.testing.FakeLLMServer` to try recipes offline).

Exit codes (docs/cli.md): 0 done; 1 a run failed (the message says why and where); 2 a bad recipe, bad
arguments or a bad input file (checked before any request is sent); 75 unfinished: requests failed transiently
(connection, 5xx, timeouts, a full disk), the answers so far are kept and a re-run resumes; 130 interrupted
(Ctrl-C; a re-run resumes). Every failure is one line on stderr; ``-v`` adds the traceback.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from curator_synth._version import __version__
from curator_synth.cli import _common

__all__ = ["app", "main"]

app = typer.Typer(
    cls=_common.Group,
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
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Show tracebacks of failures.")] = False,
) -> None:
    """curator-synth: synthetic data generation and curation."""
    _common.verbose = verbose
    if not verbose:
        _common.quiet_third_party()


def main() -> None:
    app()


# The command modules register their commands on ``app`` when imported.
from curator_synth.cli import data, run, tools  # noqa: E402, F401
