"""Sweeps: a YAML grid expanded into run configs keyed by config hash, run by an executor, resumable.

    name: demo
    tasks: [bbc-news, digits]
    ladder: [minilm-l3, minilm-l6, mpnet]   # every weak < strong pair by ladder order
    ladders: {digits: [pca:4, pca:16, raw]}  # optional per-task ladder overriding `ladder`
    methods: [naive, aux-conf]
    seeds: 5                                # or a list
    include: [{task: bbc-news, weak: tfidf, strong: mpnet, method: naive}]   # extra runs (seeds apply)
    exclude: [{method: aux-conf, task: digits}]                              # drop runs matching all fields
    head: logistic                          # any other ExperimentConfig field applies to every run

A sweep is a spec dialect of `kind: w2s` (ladders expand into weak < strong pairs); its runs go through the
engine's grid runner: featurizing shared, one writer, failures recorded and retried only on request, a killed
sweep resumed with exactly the missing runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from superalign.errors import SuperalignError
from superalign.io import read_yaml
from superalign.engine.get_or_run import needs_run
from superalign.engine.store import RunStore
from superalign.engine.spec import parse_seeds
from superalign.w2s.grid import grid, make_config
from superalign.w2s.pipeline import ExperimentConfig

_SWEEP_KEYS = {"name", "tasks", "ladder", "ladders", "methods", "seeds", "include", "exclude"}


def load_sweep(path: Path) -> tuple[str, list[ExperimentConfig]]:
    path = Path(path)
    spec = read_yaml(path, "sweep") or {}
    if not isinstance(spec, dict):
        raise SuperalignError(f"{path}: a sweep is a mapping (tasks, ladder, methods, seeds, ...)")
    return str(spec.get("name", path.stem)), expand(spec, where=str(path))


def expand(spec: dict[str, Any], where: str = "sweep") -> list[ExperimentConfig]:
    common = {k: v for k, v in spec.items() if k not in _SWEEP_KEYS}
    seeds = parse_seeds(spec.get("seeds", 3), where=where)
    for key in ("include", "exclude"):
        rules = spec.get(key) or []
        if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
            raise SuperalignError(f"{where}: {key}: {rules!r} is not a list of mappings; write e.g. "
                                  f"{key}: [{{task: digits, method: naive}}]")
    for key in ("tasks", "methods", "ladder"):
        if key in spec and not isinstance(spec[key], list):
            raise SuperalignError(f"{where}: {key}: {spec[key]!r} is not a list; write e.g. {key}: [a, b]")
    ladders = spec.get("ladders", {}) or {}
    if not isinstance(ladders, dict):
        raise SuperalignError(f"{where}: ladders: a mapping of task to its ladder, e.g. ladders: {{digits: [pca:4, raw]}}")
    tasks = list(spec.get("tasks", []))
    methods = list(spec.get("methods", ["naive"]))
    configs: list[ExperimentConfig] = []
    for task in tasks:
        ladder = ladders.get(task, spec.get("ladder"))
        if not ladder or len(ladder) < 2:
            raise SuperalignError(f"{where}: task {task!r} needs a ladder of at least two encoders")
        configs += grid([task], list(ladder), methods, seeds, **common)
    for extra in spec.get("include", []) or []:
        for seed in seeds:
            configs.append(make_config(**{**common, "seed": seed, **extra}))
    excludes = spec.get("exclude", []) or []
    for rule in excludes:
        unknown = set(rule) - set(ExperimentConfig.model_fields)
        if unknown:
            raise SuperalignError(f"{where}: exclude rule {rule} names unknown field(s) {sorted(unknown)}")
    configs = [c for c in configs if not any(all(getattr(c, k) == v for k, v in rule.items()) for rule in excludes)]
    unique = {c.config_hash(): c for c in configs}  # an include may repeat a grid run
    if not unique:
        raise SuperalignError(f"{where}: the sweep expands to no runs; check tasks, ladder, methods and excludes")
    return list(unique.values())


def pending(configs: list[ExperimentConfig], store: RunStore, retry_failed: bool) -> list[ExperimentConfig]:
    statuses = store.statuses()
    return [c for c in configs if needs_run(statuses.get(c.config_hash()), retry_failed=retry_failed)]


@dataclass
class SweepSummary:
    total: int  # runs in the sweep
    stored: int  # already in the store (ok, or failed and not retried)
    done: int  # run now and ok
    failed: int  # run now and failed


def run_sweep(configs: list[ExperimentConfig], store: RunStore, executor: str = "local", jobs: int = 1,
              address: str | None = None, retry_failed: bool = False,
              progress: Callable[[str, int], Callable[[], None]] | None = None) -> SweepSummary:
    """The sweep's runs through the engine's grid runner (`kind: w2s`)."""
    from superalign.engine import run_grid
    from superalign.w2s.kind import KIND

    result = run_grid(KIND, configs, store=store, executor=executor, jobs=jobs, address=address,
                      retry_failed=retry_failed, progress=progress)
    return SweepSummary(result.total, result.stored, result.done, result.failed)
