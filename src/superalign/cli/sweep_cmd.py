"""`superalign sweep FILE`: run what a sweep's grid lacks in the store, locally, in a process pool or on Ray."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from superalign.cli.console import err
from superalign.progress import progress_ticks
from superalign.engine.store import RunStore
from superalign.runs.sweep import load_sweep, run_sweep


def sweep(
    file: Annotated[Path, typer.Argument(help="sweep YAML (tasks, ladder, methods, seeds, include, exclude, ...)")],
    jobs: Annotated[int, typer.Option(help="parallel workers")] = 1,
    executor: Annotated[str, typer.Option(help="local, process or ray")] = "process",
    address: Annotated[Optional[str], typer.Option(help="Ray cluster address (default: start a local one)")] = None,
    retry_failed: Annotated[bool, typer.Option(help="run again the runs recorded as failed")] = False,
) -> None:
    """Run every run of the sweep that the store does not have yet (resumable: kill it and run it again)."""
    start = time.perf_counter()
    from superalign.engine.executors import check_executor

    check_executor(executor, jobs)  # before any work
    name, configs = load_sweep(file)
    store = RunStore()
    with progress_ticks(f"sweep {name}") as progress:
        summary = run_sweep(configs, store, executor=executor, jobs=jobs, address=address, retry_failed=retry_failed,
                            progress=progress)
    err.print(f"sweep {name}: {summary.total} runs, {summary.stored} already in the store; {summary.done} done now, "
              f"{summary.failed} failed (see `superalign results --failed`; --retry-failed runs them again) "
              f"in {time.perf_counter() - start:.1f}s")
