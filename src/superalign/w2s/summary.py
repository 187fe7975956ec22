"""Weak-to-strong records as a table, and honest summaries of groups of seeds.

A group is every run whose config is identical but for the seed (so `-o aux_coef=0.5`, another head or
other split sizes are a group of their own, and its row label says how it differs from the defaults).
PGR of a group is the ratio of mean accuracies, with an interval that resamples seeds and test examples
(`superalign.metrics.pgr_of_means`); seeds with undefined PGR or a gap under 3 test examples are counted
and shown, and a group whose gap is under 15 test examples is flagged.
"""

from __future__ import annotations

from typing import Any, Iterable

from superalign.io import stable_hash
from superalign.metrics import correctness, pgr_of_means

_IDENTITY = ("task", "weak", "strong", "method", "seed")


def group_key(config: dict[str, Any]) -> str:
    """The config hash without the seed: runs that differ only by seed share it."""
    from superalign.w2s.pipeline import keyed_fields

    return stable_hash({k: v for k, v in keyed_fields(config).items() if k != "seed"}, length=16)


def variant(config: dict[str, Any]) -> str:
    """What a config sets besides task, pair, method and seed, as `key=value` (empty for the defaults)."""
    from superalign.w2s.pipeline import ExperimentConfig

    defaults = ExperimentConfig(task=config["task"], weak=config["weak"], strong=config["strong"],
                                method=config["method"]).model_dump(mode="json")
    parts = [f"{k}={v}" for k, v in sorted(config.get("method_options", {}).items())]
    for key, value in config.items():
        if key in _IDENTITY or key == "method_options" or value == defaults.get(key):
            continue
        if key == "intermediate":
            parts.append("via " + ",".join(value))
        elif key == "splits":
            parts.append("splits=" + "/".join(f"{value[s]:g}" for s in ("weak_train", "transfer", "val", "test")))
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts)


def flatten(records: Iterable[dict[str, Any]]):
    """One row per successful weak-to-strong run: config columns and the headline metrics (pandas DataFrame)."""
    import pandas as pd

    rows = []
    for r in records:
        if r.get("status", "ok") != "ok":
            continue
        cfg, res = r["config"], r["result"]
        m = res["metrics"]
        rows.append({
            "config_hash": r["config_hash"], "group": group_key(cfg), "variant": variant(cfg),
            "task": cfg["task"], "weak": cfg["weak"], "strong": cfg["strong"], "method": cfg["method"],
            "budget": res.get("budget", "unknown"), "head": cfg["head"], "seed": cfg["seed"],
            "weak_acc": m["weak"]["accuracy"], "student_acc": m["student"]["accuracy"],
            "ceiling_acc": m["ceiling"]["accuracy"], "pgr": res["pgr"], "gap": res["gap"],
            "n_test": res.get("n", {}).get("test"),
            "student_auroc": m["student"]["auroc"], "student_ece": m["student"]["ece"],
            "agreement": res["student_weak_agreement"], "copied_mistakes": res["copied_weak_mistakes"],
            "validation": res.get("validation"), "git_revision": r.get("git_revision"),
            "seconds": sum(res.get("timings", {}).values()),
            "weak_params": _size(res, "weak"), "strong_params": _size(res, "strong"),
            "test_correct": res.get("test_correct"),
        })
    return pd.DataFrame(rows)


def _size(result: dict[str, Any], which: str) -> float:
    """Parameter count, or the feature dimension for parameter-free encoders (raw values, PCA)."""
    params = result.get("params", {}).get(which)
    if params:
        return float(params)
    dims = result.get("dims", {}).get(which)
    return float(dims) if dims else float("nan")


def estimate(part) -> "Any":
    """PGR of the runs in `part` (rows of `flatten`), resampling seeds and test examples."""
    import numpy as np

    runs = []
    for row in part.itertuples():
        if isinstance(row.test_correct, dict):
            runs.append(tuple(correctness(row.test_correct[m]) for m in ("weak", "student", "ceiling")))
        else:  # records made before per-example correctness was kept: seeds only, from the accuracies
            n = int(row.n_test or 1000)
            runs.append(tuple(np.arange(n) < round(acc * n) for acc in (row.weak_acc, row.student_acc, row.ceiling_acc)))
    return pgr_of_means(runs)


def summarize(df, by: list[str] | None = None):
    """One row per group (config without seed, or the columns `by`): seeds, mean accuracies, PGR of means with
    its interval, undefined and small-gap seeds, and whether the row is flagged."""
    import pandas as pd

    keys = by or ["group"]
    rows = []
    for _, part in df.groupby(keys, sort=False):
        first = part.iloc[0]
        est = estimate(part)
        rows.append({"task": first["task"], "weak": first["weak"], "strong": first["strong"],
                     "method": first["method"], "variant": first["variant"] if not by else "",
                     "budget": ", ".join(sorted(set(part["budget"]))), "runs": len(part), "seeds": part["seed"].nunique(),
                     "weak_acc": est.weak, "student_acc": est.student, "ceiling_acc": est.ceiling,
                     "pgr": est.pgr, "pgr_lo": est.lo, "pgr_hi": est.hi, "gap_examples": est.gap_examples,
                     "undefined_seeds": est.undefined_seeds, "small_gap_seeds": est.small_gap_seeds,
                     "flagged": est.flagged, "agreement": part["agreement"].mean(),
                     **{k: first[k] for k in (by or []) if k not in ("task", "weak", "strong", "method")}})
    return pd.DataFrame(rows)


def method_label(row) -> str:
    return f"{row.method} ({row.variant})" if getattr(row, "variant", "") else row.method


def format_pgr(row) -> str:
    if row.pgr != row.pgr:  # NaN: no gap to recover
        return "n/a (no gap)"
    interval = "[n/a]" if row.pgr_lo != row.pgr_lo else f"[{row.pgr_lo:+.2f}, {row.pgr_hi:+.2f}]"
    return f"{row.pgr:+.2f} {interval}" + (" ⚑" if row.flagged else "")


def gap_note(row) -> str:
    """The gap in test examples, with undefined and small-gap seeds when there are any."""
    notes = [f"{row.gap_examples:.0f}"]
    if row.undefined_seeds:
        notes.append(f"{row.undefined_seeds} undefined")
    if row.small_gap_seeds:
        notes.append(f"{row.small_gap_seeds} small")
    return ", ".join(notes)


HEADER = ["task", "weak -> strong", "method", "labels read", "seeds", "weak acc", "student acc", "ceiling acc",
          "gap (test ex.)", "PGR [95% CI]"]


def table_rows(summary) -> list[list[str]]:
    return [[r.task, f"{r.weak} -> {r.strong}", method_label(r), r.budget, str(r.seeds), f"{r.weak_acc:.3f}",
             f"{r.student_acc:.3f}", f"{r.ceiling_acc:.3f}", gap_note(r), format_pgr(r)] for r in summary.itertuples()]


def markdown_table(summary) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(summary)]
    if summary["flagged"].any():
        lines.append("\n⚑ the weak-to-ceiling gap rests on fewer than 15 test examples (mean over seeds), or a seed's "
                     "gap is under 3: the ratio is not a measurement there; read the accuracies.")
    return "\n".join(lines)
