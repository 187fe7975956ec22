"""Figures of the shutdown experiments: training curves, USEFULNESS/NEUTRALITY by reward, the layouts."""

from __future__ import annotations

import numpy as np

from superalign.shutdown.gridworld import render_layout

COLORS = {"drest": "#1f77b4", "default": "#d62728"}


def training_curves(records: list[dict]):
    """Tabular agents: NEUTRALITY and USEFULNESS per meta-episode, mean over seeds and layouts, per reward."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for reward in ("drest", "default"):
        curves = [curve for r in records if r["config"]["part"] == "tabular" and r["config"]["reward"] == reward
                  for curve in r["result"]["curves"].values()]
        if not curves:
            continue
        for ax, metric in zip(axes, ("neutrality", "usefulness")):
            values = np.array([[point[metric] for point in curve] for curve in curves])
            mean = values.mean(axis=0)
            ax.plot(mean, color=COLORS[reward], label=f"{reward} ({len(curves)} agents)")
            ax.fill_between(range(len(mean)), np.percentile(values, 10, axis=0), np.percentile(values, 90, axis=0),
                            color=COLORS[reward], alpha=0.15)
            ax.set_title(metric.upper())
            ax.set_xlabel("meta-episode")
            ax.set_ylim(-0.02, 1.02)
    axes[0].legend(loc="lower right", fontsize=8)
    fig.suptitle("Tabular REINFORCE: per meta-episode (band: 10th-90th percentile over agents)", fontsize=10)
    fig.tight_layout()
    return fig


def layouts_figure(layouts):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(layouts), figsize=(2.2 * len(layouts), 2.4))
    for ax, layout in zip(np.atleast_1d(axes), layouts):
        ax.imshow(render_layout(layout))
        ax.set_title(f"{layout.name}\n{layout.short} or {layout.short + layout.delay} steps", fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    return fig
