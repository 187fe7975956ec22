"""Weak-to-strong runs against the store: run what is missing, read what is there."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from superalign.models.cache import ActivationCache
from superalign.runs.get_or_run import Outcome, get_or_run
from superalign.runs.store import RunStore
from superalign.w2s.grid import validate_names
from superalign.w2s.pipeline import ExperimentConfig, run_experiment
from superalign.w2s.summary import flatten


def run_all(configs: list[ExperimentConfig], store: RunStore | None = None, cache: ActivationCache | None = None,
            refresh: bool = False, retry_failed: bool = False,
            on_done: Callable[[ExperimentConfig, Outcome], None] | None = None) -> list[Outcome]:
    """Runs, one after another, what the store lacks (all of it with `refresh`); returns every outcome in order.
    A run that raises is recorded as failed and the others go on."""
    store = store or RunStore()
    cache = cache or ActivationCache()
    validate_names(configs)
    outcomes = []
    for config in configs:
        outcome = get_or_run(store, "w2s", config.model_dump(mode="json"), config.config_hash(),
                             lambda: run_experiment(config, cache), refresh=refresh, retry_failed=retry_failed)
        outcomes.append(outcome)
        if on_done:
            on_done(config, outcome)
    return outcomes


def load_results(path: Path | None = None):
    """Every successful weak-to-strong run of the store as a pandas DataFrame (one row per run)."""
    return flatten(RunStore(path).records(kind="w2s"))
