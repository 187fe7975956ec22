"""Figures of the backdoor probes: attack success against poison rate, one line per strong model and defense."""

from __future__ import annotations

from superalign.probes.experiment import summarize


def attack_success_figure(records: list[dict]):
    import matplotlib.pyplot as plt

    rows = summarize(records)
    tasks = sorted({r["task"] for r in rows})
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 3.6), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        lines: dict[tuple[str, str], list] = {}
        for r in rows:
            if r["task"] == task:
                lines.setdefault((r["pair"], r["defense"]), []).append(r)
        for (pair, defense), points in lines.items():
            points.sort(key=lambda r: r["poison_rate"])
            x = [r["poison_rate"] for r in points]
            y = [r["attack_success"][0] for r in points]
            lo = [r["attack_success"][0] - r["attack_success"][1] for r in points]
            hi = [r["attack_success"][2] - r["attack_success"][0] for r in points]
            ax.errorbar(x, y, yerr=[lo, hi], marker="o", capsize=2, label=f"{pair.split(' -> ')[1]}, {defense}",
                        linestyle="-" if defense == "naive" else "--")
        ax.set_title(task, fontsize=9)
        ax.set_xlabel("poison rate (share of transfer)")
        ax.set_ylabel("attack success on triggered test inputs")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig
