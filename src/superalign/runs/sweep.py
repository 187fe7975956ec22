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

Featurizing is shared: every (task, encoder) is computed once before any run is dispatched.
Records flow back to one writer (this process); a run that fails is recorded with its error and
retried only on request; a killed sweep resumes with exactly the missing runs.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from superalign.errors import SuperalignError
from superalign.io import read_yaml
from superalign.runs.get_or_run import needs_run
from superalign.runs.record import make_record
from superalign.runs.store import RunStore
from superalign.w2s.grid import grid, make_config, parse_seeds, validate_names
from superalign.w2s.pipeline import ExperimentConfig, prepare_task

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


def prefeaturize(configs: list[ExperimentConfig], progress: Callable[[], None] = lambda: None) -> int:
    """Computes every (task, encoder) once, in this process, so workers only read the cache."""
    from superalign.models.cache import ActivationCache
    from superalign.models.encoder import get_encoder

    cache = ActivationCache()
    pairs = featurize_pairs(configs)
    for (task_name, max_examples, encoder_name) in pairs:
        config = ExperimentConfig(task=task_name, max_examples=max_examples)
        cache.featurize(prepare_task(config), get_encoder(encoder_name))
        progress()
    return len(pairs)


def featurize_pairs(configs: list[ExperimentConfig]) -> list[tuple[str, int, str]]:
    """The distinct (task, subset size, encoder) triples that the configs need."""
    return sorted({(c.task, c.max_examples, enc) for c in configs for enc in [c.weak, c.strong, *c.intermediate]})


def execute_one(config_json: dict[str, Any]) -> dict[str, Any]:
    """Runs one config in whatever process the executor chose; never raises: errors come back as data."""
    from superalign.w2s.pipeline import run_experiment

    config = ExperimentConfig(**config_json)
    start = time.time()
    try:
        return {"ok": True, "result": run_experiment(config)}
    except Exception as exc:  # a failed run is recorded, not lost
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(),
                "seconds": time.time() - start}


def record_outcome(store: RunStore, config: ExperimentConfig, outcome: dict[str, Any]) -> bool:
    key = config.config_hash()
    config_json = config.model_dump(mode="json")
    if outcome.get("ok"):
        store.put(make_record("w2s", config_json, key, outcome["result"]))
        return True
    store.put(make_record("w2s", config_json, key, {"error": outcome["error"], "traceback": outcome.get("traceback")},
                          status="failed"))
    return False


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
    """Validates the names, featurizes every (task, encoder) once here, runs what the store lacks with the
    executor, and records every outcome from this process. `progress(label, total)` returns a tick function."""
    from superalign.runs.executors import run_with

    validate_names(configs)
    todo = pending(configs, store, retry_failed)
    summary = SweepSummary(len(configs), len(configs) - len(todo), 0, 0)
    if not todo:
        return summary
    tick = progress("featurizing", len(featurize_pairs(todo))) if progress else (lambda: None)
    prefeaturize(todo, progress=tick)
    tick = progress("runs", len(todo)) if progress else (lambda: None)

    def on_outcome(config: ExperimentConfig, outcome: dict[str, Any]) -> None:
        if record_outcome(store, config, outcome):
            summary.done += 1
        else:
            summary.failed += 1
        tick()

    run_with(executor, todo, on_outcome, jobs=jobs, address=address)
    return summary

