"""`superalign sweep FILE`: run what a sweep's grid lacks in the store, locally, in a process pool or on Ray."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from superalign.cli.console import err
from superalign.progress import progress_bar
from superalign.runs.executors import run_with
from superalign.runs.store import RunStore
from superalign.runs.sweep import load_sweep, pending, prefeaturize, record_outcome
from superalign.w2s.runner import validate_names


def sweep(
    file: Annotated[Path, typer.Argument(help="sweep YAML (tasks, ladder, methods, seeds, include, exclude, ...)")],
    jobs: Annotated[int, typer.Option(help="parallel workers")] = 1,
    executor: Annotated[str, typer.Option(help="local, process or ray")] = "process",
    address: Annotated[Optional[str], typer.Option(help="Ray cluster address (default: start a local one)")] = None,
    retry_failed: Annotated[bool, typer.Option(help="run again the runs recorded as failed")] = False,
) -> None:
    """Run every run of the sweep that the store does not have yet (resumable: kill it and run it again)."""
    start = time.perf_counter()
    name, configs = load_sweep(file)
    validate_names(configs)
    store = RunStore()
    todo = pending(configs, store, retry_failed)
    err.print(f"sweep {name}: {len(configs)} runs, {len(configs) - len(todo)} already in the store, {len(todo)} to run")
    if not todo:
        return
    with progress_bar("featurizing", len({(c.task, e) for c in todo for e in (c.weak, c.strong, *c.intermediate)})) as advance:
        prefeaturize(todo, progress=advance)
    failed = 0
    with progress_bar(f"sweep {name}", len(todo)) as advance:
        def on_outcome(config, outcome):
            nonlocal failed
            failed += not record_outcome(store, config, outcome)
            advance(1)

        run_with(executor, todo, on_outcome, jobs=jobs, address=address)
    err.print(f"{len(todo) - failed} runs done, {failed} failed (see `superalign results --failed`; "
              f"--retry-failed runs them again) in {time.perf_counter() - start:.1f}s")
