"""Backdoor probes from YAML, recorded in the run store (kind `probe-backdoor`), summarised over seeds.

    task: bbc-business-vs-rest
    weak: tfidf
    strong: [minilm-l3, minilm-l6, mpnet]   # a list: every strong model (the ladder)
    poison_rate: [0, 0.02, 0.05, 0.1]       # a list: every rate
    target: 1
    seeds: 3

Any list-valued field of `BackdoorConfig` except `defenses` is a grid axis.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Callable

import numpy as np
from pydantic import ValidationError

from superalign.errors import SuperalignError
from superalign.io import read_yaml
from superalign.metrics import mean_and_ci
from superalign.probes.backdoor import BackdoorConfig, run_backdoor
from superalign.runs.get_or_run import Outcome, get_or_run
from superalign.runs.store import RunStore

KIND = "probe-backdoor"
_NOT_AXES = {"defenses"}


def configs_from_spec(spec: dict[str, Any], where: str = "config") -> list[BackdoorConfig]:
    if not isinstance(spec, dict):
        raise SuperalignError(f"{where}: a probe config is a mapping of BackdoorConfig fields (lists are grid axes)")
    spec = dict(spec)
    seeds = spec.pop("seeds", 3)
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    axes = {k: v for k, v in spec.items() if isinstance(v, list) and k not in _NOT_AXES}
    fixed = {k: v for k, v in spec.items() if k not in axes}
    configs = []
    for values in itertools.product(*axes.values(), seeds):
        fields = {**fixed, **dict(zip(axes, values[:-1])), "seed": int(values[-1])}
        try:
            configs.append(BackdoorConfig(**fields))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise SuperalignError(f"{where}: {'.'.join(map(str, first['loc']))}: {first['msg']} "
                                  f"(fields: {', '.join(BackdoorConfig.model_fields)})") from exc
    return configs


def load_configs(path: Path) -> list[BackdoorConfig]:
    return configs_from_spec(read_yaml(Path(path), "probe config") or {}, where=str(path))


def run_configs(configs: list[BackdoorConfig], store: RunStore | None = None, refresh: bool = False,
                on_done: Callable[[BackdoorConfig, Outcome], None] = lambda c, o: None) -> list[Outcome]:
    store = store or RunStore()
    outcomes = []
    for config in configs:
        outcome = get_or_run(store, KIND, config.model_dump(mode="json"), config.config_hash(),
                             lambda: run_backdoor(config), refresh=refresh)
        on_done(config, outcome)
        outcomes.append(outcome)
    return outcomes


def summarize(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (task, pair, poison rate, defense): means over seeds with seed-bootstrap intervals."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in records:
        c = r["config"]
        for defense, part in r["result"]["defenses"].items():
            key = (c["task"], c["weak"], c["strong"], c["trigger"], c["target"], c["poison_rate"], defense)
            groups.setdefault(key, []).append(part)
    rows = []
    for (task, weak, strong, trigger, target, rate, defense), parts in sorted(groups.items(), key=lambda kv: kv[0][:6]):
        values = lambda name: [p[name] for p in parts]
        detection = [p["detection"] for p in parts]
        row = {"task": task, "pair": f"{weak} -> {strong}", "trigger": trigger, "target": target,
               "poison_rate": rate, "defense": defense, "budget": parts[0]["budget"], "seeds": len(parts),
               "clean_accuracy": mean_and_ci(values("clean_accuracy")),
               "attack_success": mean_and_ci(values("attack_success")),
               "clean_target_rate": float(np.mean(values("clean_target_rate")))}
        if detection[0]["flagged"] is not None:
            row["precision"] = mean_and_ci([d["precision"] for d in detection])
            row["recall"] = mean_and_ci([d["recall"] for d in detection])
        rows.append(row)
    return rows


SETTING = ["task", "weak -> strong"]
COLUMNS = ["poison rate", "defense", "labels read", "seeds", "clean acc", "attack success [95% CI]",
           "clean target rate", "detection precision", "detection recall"]
HEADER = SETTING + COLUMNS


def _fmt(value, interval: bool = False) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return "-" if value[0] != value[0] else (f"{value[0]:.3f} [{value[1]:.3f}, {value[2]:.3f}]" if interval
                                                  else f"{value[0]:.3f}")
    return f"{value:.3f}"


def setting_cells(r: dict[str, Any]) -> list[str]:
    return [r["task"], r["pair"]]


def probe_cells(r: dict[str, Any]) -> list[str]:
    return [f"{r['poison_rate']:g}", r["defense"], r["budget"], str(r["seeds"]), _fmt(r["clean_accuracy"]),
            _fmt(r["attack_success"], interval=True), _fmt(r["clean_target_rate"]), _fmt(r.get("precision")),
            _fmt(r.get("recall"))]


def table_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    return [setting_cells(r) + probe_cells(r) for r in rows]


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in table_rows(rows)])
