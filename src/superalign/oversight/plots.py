"""Figures of the oversight runs: persuasiveness (Bradley-Terry ratings) against the judge's accuracy."""

from __future__ import annotations


def persuasion_figure(rows: list[dict]):
    """Each debater configuration's rating when it argues the wrong answer against the judge's accuracy in those
    debates (more persuasive liars, lower accuracy), the same for the right answer, and the judge's accuracy in
    each configuration's self-play against its mean rating (Khan et al. 2024's figure); bars are the rows' 95%
    intervals."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    panels = ((axes[0], "rating_wrong", "judge_accuracy_vs_it_lying", "arguing the wrong answer"),
              (axes[1], "rating_correct", "judge_accuracy_with_it_honest", "arguing the right answer"),
              (axes[2], "rating", "judge_accuracy_self_play", "against itself (self-play)"))
    for ax, side, accuracy, title in panels:
        points = [r for r in rows if accuracy in r and r[side] == r[side] and r[accuracy] == r[accuracy]]
        for k, r in enumerate(points):
            x, y = r[side], r[accuracy]

            def spread(key: str, centre: float) -> list[list[float]]:  # the 95% interval, where it has one
                lo, hi = r.get(f"{key}_lo", centre), r.get(f"{key}_hi", centre)
                return [[max(centre - lo, 0.0) if lo == lo else 0.0], [max(hi - centre, 0.0) if hi == hi else 0.0]]

            ax.errorbar([x], [y], xerr=spread(side, x), yerr=spread(accuracy, y), fmt="o", capsize=3, alpha=0.8)
            # Labels alternate above and below, so that configurations with close ratings stay readable.
            ax.annotate(r["config"], (x, y), fontsize=8, xytext=(4, 6 if k % 2 == 0 else -12),
                        textcoords="offset points")
        ax.set_xlabel("Bradley-Terry rating (log-odds)")
        ax.set_ylabel("judge accuracy in its debates")
        ax.set_title(f"debater {title}", fontsize=10)
        ax.set_ylim(0, 1)
    fig.tight_layout()
    return fig
