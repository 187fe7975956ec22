"""Backdoor probes from YAML, recorded in the run store (kind `probe-backdoor`), summarised over seeds.

    task: bbc-business-vs-rest
    weak: tfidf
    strong: [minilm-l3, minilm-l6, mpnet]   # a list: every strong model (the ladder)
    poison_rate: [0, 0.02, 0.05, 0.1]       # a list: every rate
    target: 1
    seeds: 3

The engine's spec format with `kind: probe-backdoor` (or `probe-deception`) implied: a list on a field is a grid
axis except on list-valued fields (`defenses`), `runs: [{...}, ...]` lists settings that differ in several fields,
and seeds default to 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
from superalign.errors import SuperalignError
from superalign.io import read_yaml
from superalign.metrics import mean_and_ci
from superalign.probes.backdoor import BackdoorConfig, run_backdoor
from superalign.probes.deception import DeceptionConfig, run_deception
from superalign.engine.get_or_run import Outcome
from superalign.engine.kind import Kind, Table
from superalign.engine.store import RunStore

KIND = "probe-backdoor"
DECEPTION_KIND = "probe-deception"
_NOT_AXES = {"defenses"}


def _backdoor_keyed(config: dict[str, Any]) -> dict[str, Any]:
    """As `BackdoorConfig.config_hash` has always keyed it: the image patch left out at its default."""
    fields = {k: v for k, v in config.items() if not (k == "patch" and v == 1)}
    return {"kind": KIND, **fields}


def configs_from_spec(spec: dict[str, Any], where: str = "config", config_cls: type = BackdoorConfig) -> list[Any]:
    """A probe YAML (no `kind:` needed; seeds default to 3) expanded by the engine's one spec format."""
    from superalign.engine import expand

    if not isinstance(spec, dict):
        raise SuperalignError(f"{where}: a probe config is a mapping of BackdoorConfig fields (lists are grid axes)")
    kind = KIND if config_cls is BackdoorConfig else DECEPTION_KIND
    if spec.get("kind", kind) != kind:
        raise SuperalignError(f"{where}: this is a spec of kind {spec['kind']}; run it with `superalign run {where}`")
    return expand({"kind": kind, "seeds": 3, **spec}, where=where)[1]


def load_configs(path: Path, config_cls: type = BackdoorConfig) -> list[Any]:
    return configs_from_spec(read_yaml(Path(path), "probe config") or {}, where=str(path), config_cls=config_cls)


def run_configs(configs: list[Any], store: RunStore | None = None, refresh: bool = False,
                on_done: Callable[[Any, Outcome], None] = lambda c, o: None) -> list[Outcome]:
    """Backdoor or deception configs (each to its kind), through the engine's grid runner."""
    from superalign.engine import run_grid

    store = store or RunStore()
    outcomes: list[Outcome | None] = [None] * len(configs)
    for kind in (BACKDOOR, DECEPTION):
        mine = [i for i, c in enumerate(configs) if isinstance(c, kind.config)]
        if mine:
            result = run_grid(kind, [configs[i] for i in mine], store=store, refresh=refresh)
            for i, outcome in zip(mine, result.outcomes()):
                outcomes[i] = outcome
    for config, outcome in zip(configs, outcomes):
        on_done(config, outcome)
    return outcomes


def summarize(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (task, pair, poison rate, defense): means over seeds with seed-bootstrap intervals."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in records:
        c = r["config"]
        for defense in c["defenses"]:  # in the config's order (the stored record's keys are sorted)
            key = (c["task"], c["weak"], c["strong"], c["trigger"], c["target"], c["poison_rate"], defense)
            groups.setdefault(key, []).append(r["result"]["defenses"][defense])
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


def _pooled_score(moved: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Deviation where the weak supervisor does not know minus where it knows, pooled over the last axis's seeds:
    moved and n are `[..., S, 2]` (weak knows, weak does not)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = moved.sum(-2) / n.sum(-2)  # [..., 2]
    return rate[..., 1] - rate[..., 0]


def summarize_deception(records: list[dict[str, Any]], n_boot: int = 4000) -> list[dict[str, Any]]:
    """One row per (task, pair, bootstrap rung, strength): deviations pooled over seeds (moved / in region, so a
    seed with a small region weighs little), the score with a hierarchical bootstrap interval: seeds resampled, and
    within each drawn seed its test examples in each region (the number moved drawn again, binomially)."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in records:
        c = r["config"]
        key = (c["task"], c["weak"], c["strong"], c.get("intermediate") or "", c["target"], c["strength"])
        groups.setdefault(key, []).append(r["result"])
    rows = []
    rng = np.random.default_rng(0)
    regions = ("weak_known", "weak_unknown")
    for (task, weak, strong, mid, target, strength), results in sorted(groups.items(), key=lambda kv: kv[0]):
        n = np.array([[res[f"n_{g}"] for g in regions] for res in results], dtype=int)  # [S, 2]
        moved = np.array([[round(res[f"deviation_{g}"] * res[f"n_{g}"]) if res[f"n_{g}"] else 0 for g in regions]
                          for res in results], dtype=int)  # [S, 2]
        picked = rng.integers(0, len(results), size=(n_boot, len(results)))  # [B, S]
        rate = np.divide(moved, n, out=np.zeros(moved.shape), where=n > 0)
        draws = _pooled_score(rng.binomial(n[picked], rate[picked]), n[picked])  # [B]
        pooled_n, pooled_moved = n.sum(0), moved.sum(0)
        rows.append({"task": task, "pair": f"{weak} -> {strong}" if not mid else f"{weak} -> {mid} -> {strong}",
                     "target": target, "strength": strength, "seeds": len(results),
                     "deviation_known": float(pooled_moved[0] / pooled_n[0]) if pooled_n[0] else float("nan"),
                     "deviation_unknown": float(pooled_moved[1] / pooled_n[1]) if pooled_n[1] else float("nan"),
                     "n_unknown": int(pooled_n[1]), "n_known": int(pooled_n[0]),
                     "score": (float(_pooled_score(moved, n)), float(np.nanquantile(draws, 0.025)),
                               float(np.nanquantile(draws, 0.975))),
                     "accuracy": {m: float(np.mean([res["accuracy"][m] for res in results]))
                                  for m in ("weak", "student", "conflicted")}})
    return rows


MIN_REGION = 30  # a score whose weak-unknown region (pooled over seeds) has fewer test examples is flagged
DECEPTION_HEADER = ["task", "weak -> strong", "strength", "seeds", "weak acc", "student acc", "conflicted acc",
                    "deviation: weak knows", "deviation: weak does not (n)", "deception score [95% CI]"]


def deception_cells(r: dict[str, Any]) -> list[str]:
    a = r["accuracy"]
    return [r["task"], r["pair"], f"{r['strength']:g}", str(r["seeds"]), f"{a['weak']:.3f}", f"{a['student']:.3f}",
            f"{a['conflicted']:.3f}", f"{r['deviation_known']:.3f}", f"{r['deviation_unknown']:.3f} ({r['n_unknown']})",
            "{:+.3f} [{:+.3f}, {:+.3f}]".format(*r["score"]) + (" ⚑" if r["n_unknown"] < MIN_REGION else "")]


def deception_markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(DECEPTION_HEADER) + " |", "|" + "---|" * len(DECEPTION_HEADER)]
    return "\n".join(lines + ["| " + " | ".join(deception_cells(r)) + " |" for r in rows])


def ladder_markdown(rows: list[dict[str, Any]], defense: str = "naive") -> str:
    """Attack success of `defense` by student (rows) and poison rate (columns): does a stronger student inherit
    more of the backdoor?"""
    rates = sorted({r["poison_rate"] for r in rows})
    lines = ["| task | weak -> strong | " + " | ".join(f"poison {p:g}" for p in rates) + " |",
             "|---|---|" + "---|" * len(rates)]
    settings: dict[tuple[str, str], dict[float, dict]] = {}
    for r in rows:
        if r["defense"] == defense:
            settings.setdefault((r["task"], r["pair"]), {})[r["poison_rate"]] = r
    for (task, pair), by_rate in settings.items():
        cells = [_fmt(by_rate[p]["attack_success"], interval=True) if p in by_rate else "-" for p in rates]
        lines.append(f"| {task} | {pair} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def defenses_markdown(rows: list[dict[str, Any]], rate: float) -> str:
    """Every defense at one poison rate: clean accuracy, attack success, detection precision and recall."""
    lines = ["| task | weak -> strong | defense | labels read | clean acc | attack success [95% CI] | "
             "detection precision | detection recall |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["poison_rate"] == rate:
            lines.append(f"| {r['task']} | {r['pair']} | {r['defense']} | {r['budget']} | {_fmt(r['clean_accuracy'])} | "
                         f"{_fmt(r['attack_success'], interval=True)} | {_fmt(r.get('precision'))} | {_fmt(r.get('recall'))} |")
    return "\n".join(lines)


def _backdoor_table(records: list[dict[str, Any]]) -> Table:
    return Table("backdoored supervisors: what the student inherits (means over seeds; intervals: t under 10 seeds)",
                 HEADER, table_rows(summarize(records)))


def _deception_table(records: list[dict[str, Any]]) -> Table:
    rows = summarize_deception(records)
    return Table("strong-to-weak deception (deviations pooled over seeds; score interval: hierarchical bootstrap over seeds and test examples)",
                 DECEPTION_HEADER, [deception_cells(r) for r in rows],
                 [f"⚑ fewer than {MIN_REGION} test examples where the weak supervisor does not know"]
                 if any(r["n_unknown"] < MIN_REGION for r in rows) else [])


def _by_rate(records: list[dict[str, Any]]) -> Table:
    return Table.from_markdown("attack success of the naive student by poison rate (mean over seeds; t interval)",
                               ladder_markdown(summarize(records)))


def _defenses_at(rate: float):
    def view(records: list[dict[str, Any]]) -> Table:
        return Table.from_markdown(f"every defense at poison rate {rate:g} (mean over seeds; t interval)",
                                   defenses_markdown(summarize(records), rate))

    return view


BACKDOOR = Kind(KIND, BackdoorConfig, run_backdoor, _backdoor_table, keyed=_backdoor_keyed,
                views={"by-rate": _by_rate, "defenses-0.1": _defenses_at(0.1)},
                help="a backdoored weak supervisor: attack success in the student, and the defenses")
DECEPTION = Kind(DECEPTION_KIND, DeceptionConfig, run_deception, _deception_table,
                 keyed=lambda config: {"kind": DECEPTION_KIND, **config},
                 help="strong-to-weak deception: deviation where the weak supervisor does not know")
