"""Every weak-to-strong method on the same footing: 4 offline tasks x 3 weak/strong pairs x 5 seeds.

Writes benchmarks/results/methods.md (and prints it). For each method: the labels it reads (its budget),
PGR as the ratio of mean accuracies with a 95% interval that resamples runs and test examples, the
student's accuracy difference to `naive` on the same runs (paired), and wall time; then the same per task,
with rows whose gap rests on fewer than 15 test examples flagged. All methods share one head, one optimizer
and one selection rule; `aux-conf` is also run at `aux_coef=0` (its own zero setting, identical to naive
by construction). `finetune` is CPU-expensive: one text pair (MiniLM-L3 -> MiniLM-L6), one epoch, with a
fine-tuned ceiling, 3 seeds. Runs go to a fresh temporary store; features come from the activation cache.

Usage: python benchmarks/methods.py [--seeds 5] [--finetune-seeds 3] [--out benchmarks/results/methods.md]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from superalign.engine.store import RunStore
from superalign.runs.w2s import run_all
from superalign.w2s.grid import grid, make_config
from superalign.w2s.summary import estimate, flatten

LADDERS = {
    "bbc-news": ["minilm-l3", "minilm-l6", "mpnet"],
    "bbc-business-vs-rest": ["minilm-l3", "minilm-l6", "mpnet"],
    "digits": ["pca:4", "pca:16", "raw"],
    "breast-cancer": ["pca:1", "pca:3", "raw"],
}
METHODS = ["naive", "aux-conf", "bootstrap", "knn-filter", "knn-relabel", "weak-ensemble", "co-supervision",
           "selective", "selective-gt-probe", "strong-on-supervisor-labels", "co-supervision-oracle"]


def configs(seeds: list[int], finetune_seeds: list[int]):
    out = []
    for task, ladder in LADDERS.items():
        out += grid([task], ladder, METHODS, seeds)
        out += grid([task], ladder, ["aux-conf"], seeds, method_options={"aux_coef": 0.0})
    out += [make_config(task="bbc-news", weak="minilm-l3", strong="minilm-l6", method=m, seed=s,
                        method_options={"epochs": 1}) for m in ("finetune",) for s in finetune_seeds]
    return out


def paired_difference(df: pd.DataFrame, rows: pd.DataFrame, n_boot: int = 4000) -> tuple[float, float, float]:
    """Mean student-accuracy difference to naive over the same (task, pair, seed) runs, with a bootstrap interval."""
    naive = df[(df["method"] == "naive") & (df["variant"] == "")].set_index(["task", "weak", "strong", "seed"])
    keyed = rows.set_index(["task", "weak", "strong", "seed"])
    common = keyed.index.intersection(naive.index)
    if len(common) == 0:
        return float("nan"), float("nan"), float("nan")
    diff = (keyed.loc[common, "student_acc"] - naive.loc[common, "student_acc"]).to_numpy()
    means = diff[np.random.default_rng(0).integers(0, len(diff), size=(n_boot, len(diff)))].mean(1)
    return float(diff.mean()), float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def summarise(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    rows = []
    for key, part in df.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        est = estimate(part)
        d, d_lo, d_hi = paired_difference(df, part)
        rows.append({**dict(zip(by, key)), "runs": len(part), "pgr": est.pgr, "lo": est.lo, "hi": est.hi,
                     "flagged": est.flagged, "gap": est.gap_examples, "undefined": est.undefined_seeds,
                     "small": est.small_gap_seeds, "weak_acc": est.weak, "student_acc": est.student,
                     "ceiling_acc": est.ceiling, "diff": d, "diff_lo": d_lo, "diff_hi": d_hi,
                     "seconds": part["seconds"].sum()})
    return pd.DataFrame(rows)


def _pgr(r) -> str:
    if r.pgr != r.pgr:
        return "n/a (no gap)"
    ci = "[n/a]" if r.lo != r.lo else f"[{r.lo:+.2f}, {r.hi:+.2f}]"
    return f"{r.pgr:+.2f} {ci}" + (" ⚑" if r.flagged else "")


def _diff(r) -> str:
    return "-" if r.diff != r.diff else f"{r.diff:+.3f} [{r.diff_lo:+.3f}, {r.diff_hi:+.3f}]"


def _name(r) -> str:
    return f"{r.method} ({r.variant})" if r.variant else r.method


def to_markdown(overall: pd.DataFrame, per_task: pd.DataFrame, wall: float) -> str:
    lines = ["| method | labels read | runs | PGR of means [95% CI] | student acc | Δ student acc vs naive [95% CI] | wall time (s) |",
             "|---|---|---|---|---|---|---|"]
    for r in overall.itertuples():
        lines.append(f"| {_name(r)} | {r.budget} | {r.runs} | {_pgr(r)} | {r.student_acc:.3f} | {_diff(r)} | {r.seconds:.1f} |")
    lines += ["", "| task | method | labels read | runs | weak acc | student acc | ceiling acc | gap (test ex.) | "
              "PGR of means [95% CI] | Δ vs naive |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in per_task.itertuples():
        gap = f"{r.gap:.0f}" + (f", {r.small} small" if r.small else "") + (f", {r.undefined} undefined" if r.undefined else "")
        lines.append(f"| {r.task} | {_name(r)} | {r.budget} | {r.runs} | {r.weak_acc:.3f} | {r.student_acc:.3f} | "
                     f"{r.ceiling_acc:.3f} | {gap} | {_pgr(r)} | {_diff(r)} |")
    lines.append("\n⚑ gap under 15 test examples (mean per run) or some run's gap under 3: the ratio is not a measurement.")
    lines.append(f"Pooled rows pool every task and pair (ratio of the mean accuracies over all their runs). "
                 f"Total wall time {wall:.0f}s on {os.cpu_count()} CPU cores.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--finetune-seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "methods.md")
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        outcomes = run_all(configs(list(range(args.seeds)), list(range(args.finetune_seeds))),
                           store=RunStore(Path(tmp) / "runs.sqlite"))
    wall = time.perf_counter() - start
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        print(f"FAILED: {o.record['config']['method']} on {o.record['config']['task']}: {o.error}")
    df = flatten([o.record for o in outcomes])
    order = {m: i for i, m in enumerate(METHODS + ["finetune"])}
    overall = summarise(df, ["method", "variant", "budget"])
    overall = overall.sort_values(["method", "variant"], key=lambda s: s.map(order) if s.name == "method" else s)
    per_task = summarise(df, ["task", "method", "variant", "budget"])
    text = to_markdown(overall, per_task, wall)
    if failed:
        text += f"\n{len(failed)} runs failed (listed above the table when the benchmark ran)."
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
