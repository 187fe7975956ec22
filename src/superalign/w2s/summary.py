"""Summaries of weak-to-strong records across seeds: mean and bootstrap interval per group."""

from __future__ import annotations

from superalign.evaluation.metrics import mean_and_ci

GROUP = ["task", "weak", "strong", "method"]


def summarize(df, group: list[str] = GROUP):
    """One row per group: n seeds, mean weak/student/ceiling accuracy, PGR mean with a 95% bootstrap interval."""
    import pandas as pd

    rows = []
    for key, part in df.groupby(group, sort=False):
        pgr_mean, lo, hi = mean_and_ci(part["pgr"].tolist())
        rows.append({**dict(zip(group, key)), "seeds": len(part), "weak_acc": part["weak_acc"].mean(),
                     "student_acc": part["student_acc"].mean(), "ceiling_acc": part["ceiling_acc"].mean(),
                     "pgr": pgr_mean, "pgr_lo": lo, "pgr_hi": hi, "agreement": part["agreement"].mean()})
    return pd.DataFrame(rows)


def markdown_table(summary) -> str:
    header = "| task | weak -> strong | method | seeds | weak acc | student acc | ceiling acc | PGR [95% CI] |"
    lines = [header, "|" + "---|" * 8]
    for r in summary.itertuples():
        lines.append(f"| {r.task} | {r.weak} -> {r.strong} | {r.method} | {r.seeds} | {r.weak_acc:.3f} | "
                     f"{r.student_acc:.3f} | {r.ceiling_acc:.3f} | {r.pgr:+.2f} [{r.pgr_lo:+.2f}, {r.pgr_hi:+.2f}] |")
    return "\n".join(lines)
