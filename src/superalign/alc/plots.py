"""Figures of the attacker-learner-critic runs: per round, mean over seeds, one row of panels per setting."""

from __future__ import annotations

from superalign.alc.experiment import round_curves

PANELS = (("test_accuracy", "learner test accuracy"), ("attack_success", "attack success (learner wrong on queries)"),
          ("critic_accuracy", "critic accuracy on queries"), ("expert_labels_spent", "expert labels spent"))


def rounds_figure(records: list[dict]):
    """Test accuracy (after each round's update), attack success, critic accuracy and expert labels per round."""
    import matplotlib.pyplot as plt

    curves = round_curves(records)
    fig, axes = plt.subplots(len(curves), len(PANELS), figsize=(14, 3.1 * len(curves)), squeeze=False)
    for row, (setting, by_strategy) in zip(axes, curves.items()):
        for ax, (metric, title) in zip(row, PANELS):
            for strategy, points in by_strategy.items():
                values = [p.get(metric) for p in points]
                if not points or all(v is None for v in values):
                    continue
                rounds = list(range(1, len(points) + 1))
                ax.plot(rounds, values, marker="o", label=strategy)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("round")
            ax.set_xticks(range(1, max(len(p) for p in by_strategy.values()) + 1))
        task, pair, _, critic, budget = setting.split(" | ")
        row[0].set_ylabel(f"{task}: {pair}\ncritic {critic}, {budget}", fontsize=8)
        row[0].legend(fontsize=7)
    fig.tight_layout()
    return fig
