"""What the command modules share: the documented exit codes, one-line errors (secrets redacted), and the
command group that turns every failure — a library error, a file system error, Ctrl-C, a bug — into one line
and its exit code instead of a traceback (``-v`` shows the traceback)."""

from __future__ import annotations

import contextlib
import sqlite3
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from curator_synth.errors import ConfigError, CuratorSynthError, DataFormatError
from curator_synth.redact import redact

try:  # typer >= 0.2x carries its own click; older ones use click itself
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - older typer
    from click.exceptions import ClickException  # type: ignore[assignment]

#: Exceptions click and typer handle themselves (usage errors, ``typer.Exit``): passed through unchanged.
_CLICK_OWN: tuple[type[BaseException], ...] = (typer.Exit, typer.Abort, ClickException)

__all__ = [
    "BAD_INPUT",
    "INTERRUPTED",
    "RUN_FAILED",
    "UNFINISHED",
    "Group",
    "exit_code",
    "fail",
    "quiet_third_party",
    "running_in",
]

#: Exit codes (docs/cli.md): a run or step failed / bad recipe, arguments or input file / unfinished because
#: requests failed transiently (re-run to resume; the answers so far are kept) / interrupted (Ctrl-C).
RUN_FAILED = 1
BAD_INPUT = 2
UNFINISHED = 75  # EX_TEMPFAIL: a temporary failure, the user is invited to retry
INTERRUPTED = 130

#: Set by ``curator-synth -v``: failures print their traceback too.
verbose = False


def quiet_third_party() -> None:
    """Keep other libraries' chatter off the user's screen (``curator-synth -v`` shows it): Hugging Face and tqdm
    progress bars, scikit-learn's and Dask's warnings, ``distributed``'s log lines (a busy dashboard port, shuffle
    notes). Errors still surface: they reach the user as curator_synth's one-line errors."""
    import logging
    import os
    import warnings

    for name, value in (
        ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
        ("TRANSFORMERS_VERBOSITY", "error"),
        ("TQDM_DISABLE", "1"),
    ):
        os.environ.setdefault(name, value)
    for module in ("sklearn", "dask", "distributed", "transformers", "sentence_transformers", "torch"):
        warnings.filterwarnings("ignore", module=module)
    for name in ("distributed", "transformers", "sentence_transformers"):
        logging.getLogger(name).setLevel(logging.ERROR)


def exit_code(error: BaseException) -> int:
    """The exit code a failure leaves with: bad input 2, transient (re-run) 75, any other failure 1."""
    if isinstance(error, (ConfigError, DataFormatError)):
        return BAD_INPUT
    if isinstance(error, CuratorSynthError) and error.transient:
        return UNFINISHED
    return RUN_FAILED


def fail(message: object, code: int = RUN_FAILED) -> NoReturn:
    """Print ``error: message`` (redacted, one line per line of it) in red on stderr and exit with ``code``."""
    typer.secho(f"error: {redact(str(message))}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=code)


@contextlib.contextmanager
def running_in(run_dir: Path) -> Iterator[None]:
    """The block runs a pipeline in ``run_dir``: Ctrl-C there says how many answers are kept in it (exit 130)."""
    try:
        yield
    except KeyboardInterrupt:
        _interrupted(run_dir)


def answers_kept(run_dir: Path) -> int:
    """Answers in the journals under ``run_dir`` (read-only; 0 where a journal cannot be read)."""
    total = 0
    for path in run_dir.rglob("journal.sqlite3"):
        with contextlib.suppress(sqlite3.Error):
            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                total += int(connection.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
            finally:
                connection.close()
    return total


def _interrupted(run_dir: Path | None = None) -> NoReturn:
    if run_dir is not None and run_dir.exists():
        kept = answers_kept(run_dir)
        message = f"interrupted: {kept} answer{'s' if kept != 1 else ''} kept in {run_dir}; re-run to resume"
    else:
        message = "interrupted"
    typer.secho(message, fg=typer.colors.YELLOW, err=True)
    raise typer.Exit(code=INTERRUPTED)


class Group(TyperGroup):
    """The ``curator-synth`` group: every command's failures end here as one line and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _CLICK_OWN:
            raise
        except KeyboardInterrupt:
            _interrupted()
        except CuratorSynthError as error:
            self._show(error)
            fail(error, exit_code(error))
        except OSError as error:  # a file the run had to read or write (permissions, full disk, ...)
            self._show(error)
            where = f": {error.filename}" if getattr(error, "filename", None) else ""
            fail(f"{error.strerror or error}{where}", RUN_FAILED)
        except Exception as error:
            self._show(error)
            hint = "" if verbose else " (run with -v for the traceback)"
            fail(f"internal error: {type(error).__name__}: {error}{hint}", RUN_FAILED)

    @staticmethod
    def _show(error: BaseException) -> None:
        if verbose:
            typer.echo(redact("".join(traceback.format_exception(error))), err=True)
