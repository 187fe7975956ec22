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

A sweep is a spec of `kind: w2s` in the kind's ladder shorthand (ladders expand into weak < strong pairs, the
rows of the one spec format); its runs go through the engine's grid runner: featurizing shared, one writer, failures recorded and retried only on request, a killed
sweep resumed with exactly the missing runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from superalign.engine.runner import GridResult
from superalign.engine.store import RunStore
from superalign.errors import SuperalignError
from superalign.io import read_yaml
from superalign.w2s.pipeline import ExperimentConfig


def load_sweep(path: Path) -> tuple[str, list[ExperimentConfig]]:
    path = Path(path)
    spec = read_yaml(path, "sweep") or {}
    if not isinstance(spec, dict):
        raise SuperalignError(f"{path}: a sweep is a mapping (tasks, ladder, methods, seeds, ...)")
    return str(spec.get("name", path.stem)), expand(spec, where=str(path))


def expand(spec: dict, where: str = "sweep") -> list[ExperimentConfig]:
    """A sweep is a spec of kind w2s in its ladder shorthand (seeds default to 3)."""
    from superalign.engine import expand as expand_spec

    if spec.get("kind", "w2s") != "w2s":
        raise SuperalignError(f"{where}: a sweep runs kind w2s; this spec is kind {spec['kind']}: "
                              "run it with `superalign run`")
    if not any(key in spec for key in ("tasks", "task", "include", "runs")):  # not the config defaults
        raise SuperalignError(f"{where}: the sweep expands to no runs; give tasks: and a ladder: (or runs:)")
    return expand_spec({"seeds": 3, **spec, "kind": "w2s"}, where=where)[1]


def run_sweep(configs: list[ExperimentConfig], store: RunStore, executor: str = "local", jobs: int = 1,
              address: str | None = None, retry_failed: bool = False,
              progress: Callable[[str, int], Callable[[], None]] | None = None) -> GridResult:
    """The sweep's runs through the engine's grid runner (`kind: w2s`)."""
    from superalign.engine import run_grid
    from superalign.w2s.kind import KIND

    return run_grid(KIND, configs, store=store, executor=executor, jobs=jobs, address=address,
                    retry_failed=retry_failed, progress=progress)
