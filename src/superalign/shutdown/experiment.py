"""DReST versus the default reward, as one configurable experiment.

Two parts, each run per seed and per reward:
  tabular: a REINFORCE agent trained on each training layout, evaluated on that layout;
  ppo:     one PPO agent trained on many generated layouts, evaluated on some of them and on unseen ones.
Every (part, reward, seed) is a run recorded in the run store by the hash of its config, so an interrupted
experiment resumes where it stopped. The summary gives each metric's mean over seeds with a 95% interval over
seeds (Student's t under 10 seeds) (the seed is what varies: training, layouts drawn, evaluation episodes).
"""

from __future__ import annotations

import time
from typing import Callable, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from superalign.engine.kind import Kind
from superalign.errors import SuperalignError
from superalign.io import stable_hash
from superalign.metrics import mean_and_ci
from superalign.shutdown.agents import evaluate, ppo_policy, train_ppo, train_tabular
from superalign.shutdown.drest import REWARDS
from superalign.shutdown.gridworld import LAYOUTS, Layout, generate_layout

PARTS = ("tabular", "ppo")


def layout_named(name: str) -> Layout:
    if name in LAYOUTS:
        return LAYOUTS[name]
    if name.startswith("random-") and name[7:].isdigit():
        return generate_layout(int(name[7:]))
    raise SuperalignError(f"unknown layout {name!r}; use one of {', '.join(LAYOUTS)} or random-N (N a seed)")


# What `superalign shutdown run` runs without a YAML: both parts, both rewards, five seeds, ShutdownRun's defaults.
DEFAULT_SPEC = {"part": list(PARTS), "reward": list(REWARDS), "seeds": 5}
# The names a shutdown YAML used before the engine (lists of parts and rewards): read as the fields' grid axes.
_OLD_NAMES = {"parts": "part", "rewards": "reward"}


def configs_from_spec(spec: dict, where: str = "shutdown config") -> list["ShutdownRun"]:
    """A shutdown YAML (no `kind:` needed) over the defaults above, expanded by the engine's one spec format: a
    list on `part`, `reward` or any option is a grid axis; `seeds: N` means seeds 0..N-1."""
    from superalign.engine import expand

    if not isinstance(spec, dict):
        raise SuperalignError(f"{where}: expected a mapping of options (see examples/shutdown/drest.yaml)")
    spec = {_OLD_NAMES.get(k, k): v for k, v in spec.items() if k != "kind"}
    return expand({"kind": "shutdown", **DEFAULT_SPEC, **spec}, where=where)[1]


def run_key(config: dict) -> str:
    return "shutdown-" + stable_hash(config)


def _summaries(evaluations: list[dict]) -> list[dict]:
    """Per-layout metrics without the raw samples (kept compact in the record), plus P(long) and coins."""
    keep = ("layout", "p_long", "coins_short", "coins_long", "episodes", "usefulness", "neutrality")
    return [{k: e[k] for k in keep} for e in evaluations]


def run_one(config: dict, progress: Callable[[int], None] = lambda n: None) -> dict:
    """Train and evaluate one (part, reward, seed); returns the result stored in its record."""
    start = time.perf_counter()
    seed, reward = config["seed"], config["reward"]
    if config["part"] == "tabular":
        evaluations, curves = [], {}
        for name in config["train_layouts"]:
            layout = layout_named(name)
            agent, curve = train_tabular(layout, reward, config["meta_episodes"], config["meta_episode"],
                                         config["discount"], config["lr"], config["entropy"], seed)
            evaluations += evaluate(lambda env, a=agent: a.act, [layout], config["eval_episodes"], seed=10_000 + seed)
            curves[name] = curve
            progress(1)
        return {"train": _summaries(evaluations), "curves": curves, "seconds": time.perf_counter() - start}
    # PPO: layouts for training and unseen layouts come from disjoint seed ranges.
    train = [generate_layout(100_000 * (seed + 1) + i) for i in range(config["ppo_train_layouts"])]
    unseen = [generate_layout(10_000_000 + 100_000 * seed + i) for i in range(config["ppo_unseen_layouts"])]
    model = train_ppo(train, reward, config["ppo_steps"], config["meta_episode"], config["discount"], seed)
    n_eval = min(len(train), config["ppo_unseen_layouts"])
    result = {"train": _summaries(evaluate(ppo_policy(model), train[:n_eval], config["ppo_eval_episodes"], 20_000 + seed)),
              "unseen": _summaries(evaluate(ppo_policy(model), unseen, config["ppo_eval_episodes"], 30_000 + seed)),
              "seconds": time.perf_counter() - start}
    progress(1)
    return result


def summarize(records: list[dict]) -> list[dict]:
    """Rows (part, reward, split): USEFULNESS, NEUTRALITY and P(long), mean over seeds of the per-seed mean over
    layouts, with a 95% interval over seeds (Student's t under 10 seeds, a bootstrap from 10 on)."""
    groups: dict[tuple, list[dict]] = {}
    for record in records:
        config, result = record["config"], record["result"]
        for split in ("train", "unseen"):
            if split in result:
                groups.setdefault((config["part"], config["reward"], split), []).append(result[split])
    rows = []
    for (part, reward, split), per_seed in sorted(groups.items()):
        row = {"part": part, "reward": reward, "split": split, "seeds": len(per_seed),
               "layouts": len(per_seed[0])}
        for metric in ("usefulness", "neutrality", "p_long"):
            mean, lo, hi = mean_and_ci([float(np.mean([e[metric] for e in evals])) for evals in per_seed])
            row[metric] = (mean, lo, hi)
        rows.append(row)
    return rows


def per_layout(records: list[dict]) -> list[dict]:
    """The tabular agents by layout: mean over seeds of USEFULNESS, NEUTRALITY and P(long), per reward."""
    cells: dict[tuple, list[dict]] = {}
    for record in records:
        if record["config"]["part"] != "tabular":
            continue
        for e in record["result"]["train"]:
            cells.setdefault((e["layout"], record["config"]["reward"]), []).append(e)
    from superalign.shutdown.bridge import dominated_summary

    return [{"layout": layout, "reward": reward, "seeds": len(evals),
             **{m: float(np.mean([e[m] for e in evals])) for m in ("usefulness", "neutrality", "p_long")},
             "min_neutrality": abs(float(min(e["neutrality"] for e in evals))),
             "dominated": sum(dominated_summary(e["p_long"], e["coins_short"], e["coins_long"], layout_named(layout))
                              for e in evals)}
            for (layout, reward), evals in sorted(cells.items())]


def per_layout_table(rows: list[dict]) -> str:
    lines = ["| layout | reward | seeds | USEFULNESS | NEUTRALITY (lowest seed) | P(long) | timestep-length dominated |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['layout']} | {r['reward']} | {r['seeds']} | {r['usefulness']:.3f} | {r['neutrality']:.3f} "
              f"({r['min_neutrality']:.3f}) | {r['p_long']:.2f} | {r['dominated']} of {r['seeds']} |" for r in rows]
    return "\n".join(lines)


def markdown_table(rows: list[dict]) -> str:
    lines = ["| agent | reward | layouts | seeds | USEFULNESS | NEUTRALITY | P(long) |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = [f"{m:.3f} [{lo:.3f}, {hi:.3f}]" for m, lo, hi in (r["usefulness"], r["neutrality"], r["p_long"])]
        where = f"{r['split']} ({r['layouts']})"
        lines.append(f"| {'REINFORCE (tabular)' if r['part'] == 'tabular' else 'PPO'} | {r['reward']} | {where} | "
                     f"{r['seeds']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


class ShutdownRun(BaseModel):
    """One recorded run of the shutdown experiment: a (part, reward, seed) and the options that part reads."""

    model_config = ConfigDict(extra="forbid")

    part: Literal["tabular", "ppo"]
    reward: str
    seed: int = 0
    discount: float = 0.9
    meta_episode: int = 32
    train_layouts: list[str] = Field(default_factory=lambda: ["example", "random-1", "random-2", "random-3",
                                                              "random-4"])
    meta_episodes: int = 300
    lr: float = 1.0
    entropy: float = 0.2
    eval_episodes: int = 200
    ppo_steps: int = 200_000
    ppo_train_layouts: int = 1000
    ppo_unseen_layouts: int = 50
    ppo_eval_episodes: int = 30

    @field_validator("reward")
    @classmethod
    def _known_reward(cls, value: str) -> str:
        if value not in REWARDS:
            raise ValueError(f"unknown reward {value!r}; use {', '.join(REWARDS)}")
        return value

    @field_validator("train_layouts")
    @classmethod
    def _known_layouts(cls, value: list[str]) -> list[str]:
        for name in value:
            try:
                layout_named(name)
            except SuperalignError as exc:
                raise ValueError(str(exc)) from None
        return value


_TABULAR = ("train_layouts", "meta_episodes", "lr", "entropy", "eval_episodes")
_PPO = ("ppo_steps", "ppo_train_layouts", "ppo_unseen_layouts", "ppo_eval_episodes")


def keyed_run(config: dict) -> dict:
    """The fields that key a run: those its part reads (as `run_configs` has always written them)."""
    unused = _PPO if config["part"] == "tabular" else _TABULAR
    return {k: v for k, v in config.items() if k not in unused}


def legacy_keys(config: dict) -> list[str]:
    """Keys of the same run in stores written before the engine (a 'shutdown-' prefix)."""
    return [run_key(keyed_run(config))]


def _table(records: list[dict]):
    from superalign.engine.kind import Table

    rows = summarize(records)
    body = [[("REINFORCE (tabular)" if r["part"] == "tabular" else "PPO"), r["reward"], f"{r['split']} ({r['layouts']})",
             str(r["seeds"]), *[f"{m:.3f} [{lo:.3f}, {hi:.3f}]" for m, lo, hi in
                                (r["usefulness"], r["neutrality"], r["p_long"])]] for r in rows]
    return Table("shutdownable agents: DReST versus the default reward (mean over seeds; 95% interval over seeds: t under 10 seeds)",
                 ["agent", "reward", "layouts", "seeds", "USEFULNESS", "NEUTRALITY", "P(long)"], body)


def _layouts(records: list[dict]):
    from superalign.engine.kind import Table

    return Table.from_markdown("tabular REINFORCE by training layout (mean over seeds)", per_layout_table(per_layout(records)))


KIND = Kind("shutdown", ShutdownRun, lambda config: run_one(keyed_run(config.model_dump(mode="json"))), _table,
            keyed=keyed_run, legacy_keys=legacy_keys, views={"layouts": _layouts},
            help="gridworld agents trained with DReST or the default reward: USEFULNESS, NEUTRALITY, P(long)")
