"""Progress bars (rich) for anything long: featurizing, training, sweeps."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


def enabled() -> bool:
    from superalign.settings import settings

    return settings().progress and sys.stderr.isatty()


@contextmanager
def progress_bar(description: str, total: int) -> Iterator["callable"]:
    """Yields `advance(n)`; draws a bar on an interactive terminal and nothing elsewhere."""
    if not enabled():
        yield lambda n=1: None
        return
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("eta"), TimeRemainingColumn()]
    with Progress(*columns, transient=True) as progress:
        task_id = progress.add_task(description, total=total)
        yield lambda n=1: progress.advance(task_id, n)


@contextmanager
def progress_ticks(prefix: str) -> Iterator["callable"]:
    """Yields `start(label, total) -> tick()`: one bar per phase of a longer job (featurizing, then runs)."""
    if not enabled():
        yield lambda label, total: (lambda: None)
        return
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("eta"), TimeRemainingColumn()]
    with Progress(*columns, transient=True) as progress:
        def start(label: str, total: int):
            task_id = progress.add_task(f"{prefix}: {label}", total=total)
            return lambda: progress.advance(task_id, 1)

        yield start
