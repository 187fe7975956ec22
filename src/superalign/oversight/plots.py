"""Figures of the oversight runs: persuasiveness (Bradley-Terry ratings) against the judge's accuracy."""

from __future__ import annotations


def persuasion_figure(rows: list[dict]):
    """Each debater configuration's rating when it argues the wrong answer against the judge's accuracy in those
    debates (more persuasive liars, lower accuracy), the same for the right answer, and the judge's accuracy in
    each configuration's self-play against its mean rating (Khan et al. 2024's figure)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    panels = ((axes[0], "rating_wrong", "judge_accuracy_vs_it_lying", "arguing the wrong answer"),
              (axes[1], "rating_correct", "judge_accuracy_with_it_honest", "arguing the right answer"),
              (axes[2], "rating", "judge_accuracy_self_play", "against itself (self-play)"))
    for ax, side, accuracy, title in panels:
        points = [(r[side], r[accuracy], r["config"]) for r in rows
                  if r.get(side) == r.get(side) and r.get(accuracy) == r.get(accuracy) and accuracy in r]
        for x, y, label in points:
            ax.scatter([x], [y])
            ax.annotate(label, (x, y), fontsize=8, xytext=(4, 4), textcoords="offset points")
        ax.set_xlabel("Bradley-Terry rating (log-odds)")
        ax.set_ylabel("judge accuracy in its debates")
        ax.set_title(f"debater {title}", fontsize=10)
        ax.set_ylim(0, 1)
    fig.tight_layout()
    return fig
