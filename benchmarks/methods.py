"""Every weak-to-strong method on the same footing: 4 offline tasks x 3 weak/strong pairs x 5 seeds.

Writes benchmarks/results/methods.md (and prints it): PGR mean with a 95% bootstrap interval per method
(pooled over tasks, pairs and seeds, and per task), student accuracy, and wall time per method.
`finetune` is CPU-expensive, so it runs on one text pair (MiniLM-L3 -> MiniLM-L6) for one epoch.
Runs go to a fresh temporary store; features come from the activation cache.

Usage: python benchmarks/methods.py [--seeds 5] [--out benchmarks/results/methods.md]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from superalign.evaluation.metrics import mean_and_ci
from superalign.runs.store import RunStore, flatten_w2s
from superalign.w2s.runner import grid, make_config, run_all

LADDERS = {
    "bbc-business-vs-rest": ["minilm-l3", "minilm-l6", "mpnet"],
    "bbc-news": ["minilm-l3", "minilm-l6", "mpnet"],
    "digits": ["pca:4", "pca:16", "raw"],
    "breast-cancer": ["pca:1", "pca:3", "raw"],
}
METHODS = ["naive", "aux-conf", "bootstrap", "selective", "co-supervision", "co-supervision-oracle", "knn-filter",
           "knn-relabel", "weak-ensemble"]


def configs(seeds: list[int]):
    out = []
    for task, ladder in LADDERS.items():
        out += grid([task], ladder, METHODS, seeds)
    out += [make_config(task="bbc-news", weak="minilm-l3", strong="minilm-l6", method="finetune", seed=s,
                        method_options={"epochs": 1}) for s in seeds]
    return out


def summary_rows(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    rows = []
    for key, part in df.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        mean, lo, hi = mean_and_ci(part["pgr"].tolist())
        rows.append({**dict(zip(by, key)), "runs": len(part), "pgr": mean, "lo": lo, "hi": hi,
                     "student_acc": part["student_acc"].mean(), "weak_acc": part["weak_acc"].mean(),
                     "seconds": part["seconds"].sum()})
    return pd.DataFrame(rows)


def to_markdown(overall: pd.DataFrame, per_task: pd.DataFrame, wall: float) -> str:
    lines = ["| method | runs | PGR mean [95% CI] | mean student acc | wall time (s) |", "|---|---|---|---|---|"]
    for r in overall.itertuples():
        lines.append(f"| {r.method} | {r.runs} | {r.pgr:+.2f} [{r.lo:+.2f}, {r.hi:+.2f}] | {r.student_acc:.3f} | {r.seconds:.1f} |")
    lines += ["", "| task | method | runs | weak acc | student acc | PGR mean [95% CI] |", "|---|---|---|---|---|---|"]
    for r in per_task.itertuples():
        lines.append(f"| {r.task} | {r.method} | {r.runs} | {r.weak_acc:.3f} | {r.student_acc:.3f} | "
                     f"{r.pgr:+.2f} [{r.lo:+.2f}, {r.hi:+.2f}] |")
    lines.append(f"\nTotal wall time {wall:.0f}s on {os.cpu_count()} CPU cores.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "methods.md")
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        records = run_all(configs(list(range(args.seeds))), store=RunStore(Path(tmp) / "runs.sqlite"))
    wall = time.perf_counter() - start
    df = flatten_w2s(records)
    order = {m: i for i, m in enumerate(METHODS + ["finetune"])}
    overall = summary_rows(df, ["method"]).sort_values("method", key=lambda s: s.map(order))
    per_task = summary_rows(df, ["task", "method"])
    text = to_markdown(overall, per_task, wall)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
