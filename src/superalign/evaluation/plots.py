"""Figures for the evaluation reports (over-optimization curves, reliability diagrams)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from superalign.io import atomic_path  # noqa: E402


def save(fig, path: Path) -> list[Path]:
    written = []
    for suffix in ("png", "svg"):
        target = Path(path).with_suffix(f".{suffix}")
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=suffix, dpi=110)
        written.append(target)
    plt.close(fig)
    return written


def overoptimization_figure(report: dict, title: str):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    d = np.array(report["d"])
    for name, r in report["proxies"].items():
        gold = np.array(r["gold_reward"])
        line, = axes[0].plot(d, gold - gold[0], marker="o", label=f"{name} proxy (acc {r['test_accuracy']:.2f})")
        fit = r["fit"]
        grid = np.linspace(0, d.max(), 100)
        axes[0].plot(grid, grid * (fit["alpha"] - fit["beta"] * grid), "--", color=line.get_color(), alpha=0.6)
        axes[1].plot(report["n"], r["proxy_reward"], marker="o", color=line.get_color(), label=f"{name}: proxy")
        axes[1].plot(report["n"], gold, marker="s", linestyle=":", color=line.get_color(), label=f"{name}: gold")
    axes[0].set_xlabel("d = sqrt(KL_bon)")
    axes[0].set_ylabel("gold reward gain over n=1")
    axes[0].set_title("gold vs optimisation (dashed: d(alpha - beta d) fit)")
    axes[0].legend(fontsize=7)
    axes[1].set_xscale("log", base=2)
    if report.get("pool_size"):
        # how many distinct test examples were ever the best pick, per n (fewest over target classes)
        winners = next(iter(report["proxies"].values())).get("distinct_winners")
        if winners:
            for n, w in zip(report["n"], winners):
                axes[1].annotate(str(w), (n, 0), xycoords=("data", "axes fraction"), fontsize=6, ha="center",
                                 va="bottom", color="grey")
        axes[1].set_xlabel(f"n (best of n distinct draws from {report['pool_size']} examples; grey: distinct winners)")
    else:
        axes[1].set_xlabel("n (best of n)")
    axes[1].set_ylabel("reward")
    axes[1].set_title("proxy and gold reward of the best of n")
    axes[1].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def reliability_figure(report: dict, title: str):
    models = report["models"]
    fig, axes = plt.subplots(1, len(models), figsize=(4 * len(models), 3.8), squeeze=False)
    for ax, (name, r) in zip(axes[0], models.items()):
        rel = r["reliability"]
        conf, acc = np.array(rel["confidence"], dtype=float), np.array(rel["accuracy"], dtype=float)
        ax.plot([0, 1], [0, 1], "k:", linewidth=1)
        ax.bar(conf[~np.isnan(conf)], acc[~np.isnan(acc)], width=0.08, alpha=0.7)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("confidence")
        ax.set_ylabel("accuracy")
        ax.set_title(f"{name}: ECE {r['ece']:.3f}")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
