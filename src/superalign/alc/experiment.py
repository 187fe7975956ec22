"""Attacker-learner-critic experiments from YAML, recorded in the run store (kind `alc`), and their summary.

    seeds: 5                  # or a list
    rounds: 3                 # any ALCConfig field applies to every run ...
    expert_budget: 0.02
    runs:                     # ... and each entry of `runs` overrides them for one setting
      - {task: digits, weak: "pca:4", strong: raw}
      - {task: bbc-news, weak: tfidf, strong: mpnet, critic: {name: lm, model: qwen-1.5b}, seeds: 3}

Each (setting, seed) is one record holding every strategy, so a killed run resumes with the missing seeds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from superalign.alc.loop import ALCConfig, STRATEGIES, run_alc
from superalign.alc.spec import spec_name
from superalign.errors import SuperalignError
from superalign.io import read_yaml
from superalign.metrics import correctness, paired_accuracy_difference
from superalign.engine.get_or_run import Outcome
from superalign.engine.kind import Kind, Table
from superalign.engine.store import RunStore

KIND = "alc"


def configs_from_spec(spec: dict[str, Any], where: str = "config") -> list[ALCConfig]:
    """An alc YAML (no `kind:` needed; seeds default to 3; a row of `runs` may have its own seeds) expanded by
    the engine's one spec format."""
    from superalign.engine import expand

    if not isinstance(spec, dict):
        raise SuperalignError(f"{where}: an alc config is a mapping (seeds, runs and ALCConfig fields)")
    if spec.get("kind", KIND) != KIND:
        raise SuperalignError(f"{where}: this is a spec of kind {spec['kind']}; run it with `superalign run {where}`")
    return expand({"kind": KIND, "seeds": 3, **spec}, where=where)[1]


def load_configs(path: Path) -> list[ALCConfig]:
    return configs_from_spec(read_yaml(Path(path), "alc config") or {}, where=str(path))


def run_configs(configs: list[ALCConfig], store: RunStore | None = None, refresh: bool = False,
                retry_failed: bool = False, on_done: Callable[[ALCConfig, Outcome], None] = lambda c, o: None) -> list[Outcome]:
    """Through the engine's grid runner (kind alc)."""
    from superalign.engine import run_grid

    outcomes = run_grid(ALC, configs, store=store or RunStore(), refresh=refresh, retry_failed=retry_failed).outcomes()
    for config, outcome in zip(configs, outcomes):
        on_done(config, outcome)
    return outcomes


def _spec_name(spec: str | dict[str, Any]) -> str:
    if isinstance(spec, str):
        return spec
    inner = spec.get("model") or "+".join(_spec_name(m) for m in spec.get("members", []))
    return spec_name(spec) + (f"({inner})" if inner else "")


def setting_of(config: dict[str, Any]) -> dict[str, str]:
    """The setting a record belongs to: everything that is not the seed or a strategy."""
    return {"task": config["task"], "pair": f"{config['weak']} -> {config['strong']}",
            "attacker": _spec_name(config["attacker"]), "critic": _spec_name(config["critic"])}


def summarize(records: list[dict[str, Any]], baseline: str = "loop") -> list[dict[str, Any]]:
    """One row per (setting, budget, strategy): mean test accuracy over seeds with its interval, the paired
    difference of `baseline` (the loop) minus the strategy, the fresh attacker's success, expert labels spent."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for record in records:
        key = tuple(setting_of(record["config"]).values()) + (record["result"]["budget"],)
        groups.setdefault(key, []).append(record)
    rows = []
    for key, group in groups.items():
        results = [r["result"] for r in group]
        strategies = [s for s in STRATEGIES if all(s in res["strategies"] for res in results)]
        for strategy in strategies:
            parts = [res["strategies"][strategy] for res in results]
            mine = [correctness(p["test_correct"]) for p in parts]
            row = {**setting_of(group[0]["config"]), "budget": key[-1], "strategy": strategy, "seeds": len(group),
                   "accuracy": paired_accuracy_difference([(c, np.zeros_like(c)) for c in mine]),
                   "weak": float(np.mean([res["weak"]["accuracy"] for res in results])),
                   "ceiling": float(np.mean([res["ceiling"]["accuracy"] for res in results])),
                   "expert_labels": float(np.mean([p["expert_labels"] for p in parts])),
                   "fresh_attack": float(np.mean([p["fresh_attack"]["success"] for p in parts])),
                   "fresh_attacker": parts[0]["fresh_attack"]["attacker"],
                   "test_examples": int(np.mean([len(c) for c in mine]))}
            if baseline in strategies and strategy != baseline:
                theirs = [correctness(res["strategies"][baseline]["test_correct"]) for res in results]
                row["loop_minus"] = paired_accuracy_difference(list(zip(theirs, mine)))
            rows.append(row)
    return rows


def _interval(value: tuple[float, float, float], signed: bool = False) -> str:
    fmt = "{:+.3f}" if signed else "{:.3f}"
    return f"{fmt.format(value[0])} [{fmt.format(value[1])}, {fmt.format(value[2])}]"


SETTING = ["task", "weak -> strong", "attacker", "critic", "budget", "seeds", "weak acc", "ceiling acc"]
COLUMNS = ["strategy", "expert labels", "test acc [95% CI]", "loop - strategy [95% CI]", "fresh-attack success"]
HEADER = SETTING + COLUMNS


def setting_cells(row: dict[str, Any]) -> list[str]:
    return [row["task"], row["pair"], row["attacker"], row["critic"], str(row["budget"]), str(row["seeds"]),
            f"{row['weak']:.3f}", f"{row['ceiling']:.3f}"]


def strategy_cells(row: dict[str, Any]) -> list[str]:
    return [row["strategy"], f"{row['expert_labels']:.0f}", _interval(row["accuracy"]),
            _interval(row["loop_minus"], signed=True) if "loop_minus" in row else "-",
            f"{row['fresh_attack']:.2f} ({row['fresh_attacker']})"]


def table_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    return [setting_cells(r) + strategy_cells(r) for r in rows]


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cells) + " |" for cells in table_rows(rows)]
    return "\n".join(lines)


def round_curves(records: list[dict[str, Any]]) -> dict[str, dict[str, list[dict[str, float]]]]:
    """setting -> strategy -> per round (mean over seeds): test accuracy, attack success, critic accuracy and
    expert labels spent; for the report's figures."""
    curves: dict[str, dict[str, list[dict[str, float]]]] = {}
    for record in records:
        setting = " | ".join([*setting_of(record["config"]).values(), f"budget {record['result']['budget']}"])
        for strategy, part in record["result"]["strategies"].items():
            curves.setdefault(setting, {}).setdefault(strategy, []).append(part["rounds"])
    out: dict[str, dict[str, list[dict[str, float]]]] = {}
    for setting, by_strategy in curves.items():
        for strategy, runs in by_strategy.items():
            n_rounds = min(len(r) for r in runs)
            means = []
            for i in range(n_rounds):
                keys = {k for r in runs for k, v in r[i].items() if isinstance(v, (int, float))}
                means.append({k: float(np.nanmean([r[i].get(k, np.nan) for r in runs])) for k in sorted(keys)})
            out.setdefault(setting, {})[strategy] = means
    return out


def rounds_markdown(records: list[dict[str, Any]], strategy: str = "loop") -> str:
    """Per round of `strategy` (mean over seeds): queries, attack success before the update, the critic's
    accuracy on the queries, expert labels spent, test accuracy after the update."""
    lines = ["| setting | round | queries | attack success | critic accuracy | expert labels spent | test acc | "
             "rewrites: valid / written (rejected by label) | rewrites fooling the learner |",
             "|---|---|---|---|---|---|---|---|---|"]
    for setting, by_strategy in round_curves(records).items():
        for point in by_strategy.get(strategy, []):
            cell = lambda key, fmt="{:.3f}": fmt.format(point[key]) if key in point and point[key] == point[key] else "-"
            lines.append(f"| {setting.replace(' | ', ', ')} | {point['round']:.0f} | {cell('queries', '{:.0f}')} | {cell('attack_success')} | "
                         f"{cell('critic_accuracy')} | {cell('expert_labels_spent', '{:.0f}')} | {cell('test_accuracy')} | "
                         + (f"{point['valid']:.1f} / {point['attempts']:.0f} ({point.get('rejected_computed', 0):.1f}) | "
                            f"{point['flipped_learner']:.1f} |" if "attempts" in point else "- | - |"))
    return "\n".join(lines)


def _table(records: list[dict[str, Any]]) -> Table:
    return Table("attacker-learner-critic against equal-budget baselines (test accuracy over seeds, paired)",
                 SETTING + COLUMNS, [setting_cells(r) + strategy_cells(r) for r in summarize(records)])


def _rounds(records: list[dict[str, Any]]) -> Table:
    return Table.from_markdown("the loop's rounds (mean over seeds; attack success: the learner's error on the round's "
                               "queries before its update)", rounds_markdown(records))


ALC = Kind(KIND, ALCConfig, run_alc, _table, keyed=lambda config: {"kind": KIND, **config}, views={"rounds": _rounds},
           help="attacker-learner-critic loop against equal-budget random and uncertainty-sampled experts")
