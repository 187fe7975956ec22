"""Matplotlib figures from a DataFrame of run records (one row per run). Nothing here runs an experiment."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from superalign.w2s.summary import estimate  # noqa: E402


def _grid(n: int):
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat)


def _order_by_size(df: pd.DataFrame, column: str) -> list[str]:
    size = df.groupby(column)[f"{column}_params"].first().sort_values(kind="stable")
    return list(size.index)


def _one_variant(df: pd.DataFrame, method: str) -> pd.DataFrame:
    """The runs of `method` with its default settings (or, if none ran, its first variant): never pooled."""
    part = df[df["method"] == method]
    variants = list(dict.fromkeys(part["variant"]))
    return part[part["variant"] == ("" if "" in variants else variants[0])] if variants else part


def pgr_by_pair(df: pd.DataFrame, method: str):
    """PGR (ratio of mean accuracies) of each weak -> strong pair, per task, with its seed-and-example bootstrap
    interval: bars grouped by strong model, one colour per weak model; hatched where the gap is flagged."""
    part = _one_variant(df, method)
    tasks = list(dict.fromkeys(part["task"]))
    fig, axes = _grid(max(1, len(tasks)))
    for ax, task in zip(axes, tasks):
        t = part[part["task"] == task]
        strongs, weaks = _order_by_size(t, "strong"), _order_by_size(t, "weak")
        width = 0.8 / max(1, len(weaks))
        for i, weak in enumerate(weaks):
            xs, means, errs, hatches = [], [], [], []
            for j, strong in enumerate(strongs):
                runs = t[(t["weak"] == weak) & (t["strong"] == strong)]
                if runs.empty:
                    continue
                est = estimate(runs)
                if math.isnan(est.pgr):
                    continue  # no gap to recover: leave a gap, not a zero bar
                xs.append(j + (i - (len(weaks) - 1) / 2) * width)
                means.append(est.pgr)
                errs.append([0, 0] if math.isnan(est.lo) else [est.pgr - est.lo, est.hi - est.pgr])
                hatches.append("//" if est.flagged else "")
            if xs:
                bars = ax.bar(xs, means, width, yerr=np.array(errs).T, capsize=3, label=f"weak: {weak}")
                for bar, hatch in zip(bars, hatches):
                    bar.set_hatch(hatch)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(strongs)), strongs, rotation=20)
        ax.set_title(task)
        ax.set_ylabel("PGR")
        ax.legend(fontsize=7)
    fig.suptitle(f"PGR by weak/strong pair ({method}; hatched: gap under 15 test examples)")
    fig.tight_layout()
    return fig


def accuracy_vs_strong_size(df: pd.DataFrame, method: str):
    """Student test accuracy against strong model size, one line per weak model; the ceiling in black."""
    part = _one_variant(df, method)
    tasks = list(dict.fromkeys(part["task"]))
    fig, axes = _grid(max(1, len(tasks)))
    for ax, task in zip(axes, tasks):
        t = part[part["task"] == task]
        for weak in _order_by_size(t, "weak"):
            w = t[t["weak"] == weak].groupby(["strong", "strong_params"], as_index=False)["student_acc"].mean()
            w = w.sort_values("strong_params")
            ax.plot(w["strong_params"].clip(lower=1), w["student_acc"], marker="o", label=f"student of {weak}")
        c = t.groupby(["strong", "strong_params"], as_index=False)["ceiling_acc"].mean().sort_values("strong_params")
        ax.plot(c["strong_params"].clip(lower=1), c["ceiling_acc"], "k--", marker="s", label="strong ceiling")
        ax.set_xscale("log")
        ax.set_xlabel("strong model size (parameters; feature dim. if none)")
        ax.set_ylabel("test accuracy")
        ax.set_title(task)
        ax.legend(fontsize=7)
    fig.suptitle(f"Accuracy vs strong model size ({method})")
    fig.tight_layout()
    return fig


def method_comparison(df: pd.DataFrame):
    """PGR (ratio of mean accuracies over every run) and its 95% interval per method variant, pooled over
    tasks, pairs and seeds, labelled with the labels each method reads."""
    rows = []
    for (method, variant, budget), part in df.groupby(["method", "variant", "budget"], sort=False):
        est = estimate(part)
        label = f"{method}{f' ({variant})' if variant else ''} [{budget}]"
        rows.append((label, est.pgr, est.lo, est.hi, len(part)))
    rows.sort(key=lambda r: -np.nan_to_num(r[1], nan=-9))
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(rows) + 1.2))
    y = np.arange(len(rows))
    means = np.array([r[1] for r in rows])
    err = np.array([[r[1] - r[2], r[3] - r[1]] for r in rows]).T if rows else np.zeros((2, 0))
    ax.barh(y, np.nan_to_num(means), xerr=np.nan_to_num(err), capsize=3, color="tab:blue")
    ax.set_yticks(y, [f"{r[0]} (n={r[4]})" for r in rows])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.invert_yaxis()
    ax.set_xlabel("PGR of mean accuracies (95% CI resampling runs and test examples)")
    ax.set_title("Methods compared")
    fig.tight_layout()
    return fig
