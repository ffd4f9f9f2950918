"""The progress display of a pipeline run, shared by ``run`` and the single-step commands.

It reads the pipeline's :class:`~curator_synth.pipeline.progress.RunStatus` from its own thread. On a terminal:
a live table with one row per stage — its name and state, records done of total, requests sent / ok / retried /
failed, tokens in and out, tokens per second, spend so far (with ``pricing:``), time and ETA. Elsewhere (a log
file, CI): a plain line for the running stage every ``PLAIN_INTERVAL`` seconds and one when a stage ends. The dry
run keeps its simple bars (:func:`progress_bars`).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from curator_synth.pipeline import SyntheticDataPipeline
    from curator_synth.pipeline.progress import RunStatus, StageStatus

__all__ = ["PLAIN_INTERVAL", "plain_line", "progress_bars", "show_progress", "status_table"]

#: Seconds between the plain progress lines written when the output is not a terminal.
PLAIN_INTERVAL = 10.0
_MARKS = {"waiting": " ", "running": "▶", "done": "✓", "resumed": "↺", "failed": "✗"}


@contextlib.contextmanager
def progress_bars() -> Iterator[Callable[[str, int, int], None]]:
    """Rich bars for the block; yields the ``progress(name, done, total)`` callback that feeds them."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=False) as progress:
        tasks: dict[str, Any] = {}

        def report(name: str, done: int, total: int) -> None:
            label = "stages" if name == "stages" else f"  {name} partitions"
            if name not in tasks:
                tasks[name] = progress.add_task(label, total=total)
            progress.update(tasks[name], completed=done, total=total)

        yield report


@contextlib.contextmanager
def show_progress(pipeline: SyntheticDataPipeline, stream: TextIO | None = None) -> Iterator[None]:
    """Show the run's progress while the block runs ``pipeline`` (a live table on a terminal, plain lines
    elsewhere); the display stops on the way out, also when the block raises, so an error printed afterwards is
    not mixed with it."""
    out = stream if stream is not None else sys.stdout
    if out.isatty():
        from rich.console import Console
        from rich.live import Live

        def table() -> Any:
            status = pipeline.status
            return status_table(status) if status is not None else ""

        with Live(get_renderable=table, console=Console(file=out), refresh_per_second=4, transient=False):
            yield
        return
    stop = threading.Event()
    thread = threading.Thread(target=_plain, args=(pipeline, out, stop), name="curator-synth-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _plain(pipeline: SyntheticDataPipeline, out: TextIO, stop: threading.Event) -> None:
    """A line per finished stage as it ends, and one for the running stage every ``PLAIN_INTERVAL`` seconds."""
    reported: set[int] = set()
    last = time.monotonic()
    while True:
        stopping = stop.wait(0.5)
        status = pipeline.status
        if status is not None:
            for stage in status.stages:
                if stage.state in ("done", "failed") and stage.number not in reported:
                    reported.add(stage.number)
                    print(plain_line(stage, status), file=out, flush=True)
            current = status.current
            if current is not None and time.monotonic() - last >= PLAIN_INTERVAL:
                last = time.monotonic()
                print(plain_line(current, status), file=out, flush=True)
        if stopping:
            return


def plain_line(stage: StageStatus, status: RunStatus) -> str:
    """``[  12 s] 01-responses: 320/1000 records, requests 340 (312 ok, 4 retried, 0 failed), tokens 51.2k in /
    12.0k out, 5.1k tok/s, spend 0.01 USD, ETA 25 s`` (the parts that apply)."""
    parts = [_records(stage) + " records"]
    usage = stage.usage
    if stage.uses_llm or usage["requests"]:
        parts.append(
            f"requests {usage['requests']} ({usage['ok']} ok, {usage['retries']} retried, {usage['failed']} failed"
            + (f", {usage['from_journal']} from the journal" if usage["from_journal"] else "")
            + ")"
        )
        parts.append(f"tokens {_count(usage['prompt_tokens'])} in / {_count(usage['completion_tokens'])} out")
        rate = stage.tokens_per_second()
        if rate is not None:
            parts.append(f"{_count(rate)} tok/s")
        spend = status.spend(usage)
        if spend is not None:
            parts.append(f"spend {spend:.4g} {status.currency}")
    eta = stage.eta()
    if eta is not None:
        parts.append(f"ETA {_seconds(eta)}")
    return f"[{_seconds(stage.elapsed):>6}] {stage.number:02d}-{stage.name} {stage.state}: " + ", ".join(parts)


def status_table(status: RunStatus) -> Any:
    """The live table: one row per stage."""
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("", "stage", "records", "requests sent/ok/retried/failed", "tokens in/out", "tok/s", "spend",
                   "time", "ETA"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("", "stage") else "right")
    for stage in status.stages:
        usage = stage.usage
        calls = stage.uses_llm or usage["requests"]
        spend = status.spend(usage) if calls else None
        rate = stage.tokens_per_second()
        eta = stage.eta()
        table.add_row(
            _MARKS[stage.state],
            f"{stage.number:02d} {stage.name}" + (" (resumed)" if stage.state == "resumed" else ""),
            _records(stage),
            f"{usage['requests']}/{usage['ok']}/{usage['retries']}/{usage['failed']}" if calls else "",
            f"{_count(usage['prompt_tokens'])}/{_count(usage['completion_tokens'])}" if calls else "",
            _count(rate) if rate is not None else "",
            f"{spend:.4g} {status.currency}" if spend is not None else "",
            _seconds(stage.elapsed) if stage.state != "waiting" else "",
            _seconds(eta) if eta is not None else "",
        )
    return table


def _records(stage: StageStatus) -> str:
    """``done/total`` while running (``…/total`` when not known), ``in -> out`` once ended."""
    if stage.state in ("done", "resumed", "failed") and stage.records_out is not None:
        return f"{stage.records_in} -> {stage.records_out}"
    if stage.state == "waiting" or stage.records_in is None:
        return ""
    done = stage.records_done
    return f"{'…' if done is None else done}/{stage.records_in}"


def _count(value: float) -> str:
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:.0f}"


def _seconds(value: float) -> str:
    whole = round(value)
    return f"{whole // 60}:{whole % 60:02d}" if whole >= 60 else f"{whole} s"
