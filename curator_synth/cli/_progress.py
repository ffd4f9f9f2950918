"""The progress display of a pipeline run, shared by ``run`` and the single-step commands: rich bars fed by
the pipeline's ``progress(name, done, total)`` callback (one bar for the stages, one per partitioned stage)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from curator_synth.pipeline import SyntheticDataPipeline

__all__ = ["progress_bars", "show_progress"]


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
def show_progress(pipeline: SyntheticDataPipeline) -> Iterator[None]:
    """Show bars while the block runs ``pipeline``; they are stopped (and the callback removed) on the way
    out, also when the block raises, so an error message printed afterwards is not mixed with the bars."""
    with progress_bars() as report:
        pipeline.progress = report
        try:
            yield
        finally:
            pipeline.progress = None
