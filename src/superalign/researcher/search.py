"""The baselines an agent must beat at equal compute: random search and grid search over the same configuration
space, the same number of development experiments, the same selection rule (best dev PGR) and the same
held-out evaluation; the built-in default of each method, chosen on dev alike; and plain naive (no search)."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from superalign.io import write_json
from superalign.models.cache import ActivationCache
from superalign.engine.record import git_revision
from superalign.engine.store import RunStore
from superalign.researcher.config import ResearcherConfig
from superalign.researcher.evaluator import evaluate_final
from superalign.researcher.suites import score_suite

SEARCHERS = ("random-search", "grid-search", "defaults", "naive")


def grid_points(space: dict[str, dict[str, list[Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """Every (method, options) of the space; within a method, options vary from their first values outwards."""
    points = []
    for method, grid in space.items():
        names = list(grid)
        for values in itertools.product(*(grid[n] for n in names)):
            points.append((method, dict(zip(names, values))))
    return points


def grid_order(space: dict[str, dict[str, list[Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """Grid search with fewer experiments than points: take the methods in turn (round robin), so a small budget
    still covers every method before refining one."""
    per_method = [[p for p in grid_points(space) if p[0] == m] for m in space]
    ordered = []
    for layer in itertools.zip_longest(*per_method):
        ordered += [p for p in layer if p is not None]
    return ordered


def choose(config: ResearcherConfig, searcher: str, seed: int) -> list[tuple[str, dict[str, Any]]]:
    points = grid_points(config.space)
    if searcher == "random-search":
        rng = np.random.default_rng(seed)
        picks = rng.choice(len(points), size=min(config.budget, len(points)), replace=False)
        return [points[i] for i in picks]
    if searcher == "grid-search":
        return grid_order(config.space)[: config.budget]
    if searcher == "defaults":  # what superalign already has: each method as shipped
        return [(m, {}) for m in config.space][: config.budget]
    if searcher == "naive":  # no search at all: the reference every method is measured against
        return [("naive", {})]
    raise ValueError(f"unknown searcher {searcher!r}; one of {', '.join(SEARCHERS)}")


def run_search(config: ResearcherConfig, searcher: str, seed: int, run_dir: Path, store: RunStore | None = None,
               cache: ActivationCache | None = None) -> dict[str, Any]:
    """Runs the searcher's dev experiments (from the store when present), picks the best dev PGR, evaluates it
    held out; the result is written to `run_dir/evaluation.json` (and read back when there)."""
    path = Path(run_dir) / "evaluation.json"
    if path.exists():
        return json.loads(path.read_text())
    store, cache = store or RunStore(), cache or ActivationCache()
    tried = []
    for method, options in choose(config, searcher, seed):
        score = score_suite(config.dev, config.dev_seeds, method, options, store, cache)
        tried.append(score)
    ok = [s for s in tried if s.ok]
    best = max(ok, key=lambda s: s.pgr) if ok else None
    method, options = (best.method, best.options) if best else ("naive", {})
    result = {"kind": searcher, "policy": searcher, "seed": seed, "experiments": len(tried), "git_revision": git_revision(),
              "final": {"method": method, "options": options, "chosen_by": "best dev PGR"},
              "dev": best.as_dict() if best else None, "flags": [],
              "tried": [{"method": s.method, "options": s.options,
                         "dev_pgr": None if math.isnan(s.pgr) else s.pgr} for s in tried],
              "held_out": evaluate_final(config, method, options, store, cache).as_dict()}
    write_json(path, result)
    return result
