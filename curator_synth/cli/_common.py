"""What the command modules share: printing an error and leaving with the documented exit code."""

from __future__ import annotations

from typing import NoReturn

import typer

#: Exit codes: a run (or a step) failed / bad recipe, arguments or input file.
RUN_FAILED = 1
BAD_INPUT = 2


def fail(message: object, code: int = RUN_FAILED) -> NoReturn:
    """Print ``error: message`` in red on stderr and exit with ``code``."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=code)
