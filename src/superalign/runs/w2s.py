"""Weak-to-strong runs against the store: run what is missing, read what is there."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from superalign.engine.get_or_run import Outcome
from superalign.engine.store import RunStore
from superalign.w2s.pipeline import ExperimentConfig
from superalign.w2s.summary import flatten


def run_all(configs: list[ExperimentConfig], store: RunStore | None = None, refresh: bool = False,
            retry_failed: bool = False, executor: str = "local", jobs: int = 1,
            progress: Callable[[str, int], Callable[[], None]] | None = None) -> list[Outcome]:
    """Runs what the store lacks (all of it with `refresh`) through the engine; returns every outcome in order.
    A run that raises is recorded as failed and the others go on."""
    from superalign.engine import run_grid
    from superalign.w2s.kind import KIND

    return run_grid(KIND, configs, store=store or RunStore(), executor=executor, jobs=jobs, refresh=refresh,
                    retry_failed=retry_failed, progress=progress).outcomes()


def load_results(path: Path | None = None):
    """Every successful weak-to-strong run of the store as a pandas DataFrame (one row per run)."""
    return flatten(RunStore(path).records(kind="w2s"))
