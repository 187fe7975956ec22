"""Oversight x W2SG, compared: the same weak-to-strong run with its weak labels from each source.

Every source is a W2S pipeline run (`superalign.w2s.pipeline`, recorded in the run store) that differs only
in its `supervisor`: the weak classifier, and a language-model judge (`superalign.oversight.supervisor`)
under each protocol asked for. Task, encoders, method and, at each seed, the splits and the ceiling are the
same in every run, so the students differ only by where their labels came from; "weak" is each supervisor's
own accuracy on test, and PGR is measured against it. Several seeds pool into one row per source.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Sequence

import numpy as np

from superalign.data.task import SplitSizes
from superalign.errors import SuperalignError
from superalign.metrics import correctness, paired_accuracy_difference, pgr_of_means
from superalign.runs.w2s import run_all
from superalign.w2s.pipeline import ExperimentConfig
from superalign.w2s.summary import format_pgr, gap_note

# Small splits: every text of every split is judged (the judge labels transfer and val, and is scored on test).
JUDGED_SPLITS = SplitSizes(weak_train=40, transfer=100, val=20, test=100)


def source_name(protocol: str, sees_text: bool) -> str:
    return f"judge, {protocol}" + (" (reads the text)" if sees_text else "")


def label_source_configs(task: str, weak: str, strong: str, judge: str, debater: str,
                         protocols: tuple[str, ...] = ("direct", "debate"), judge_reads_text: bool = False,
                         method: str = "naive", seeds: Sequence[int] = (0,), splits: SplitSizes = JUDGED_SPLITS,
                         max_chars: int = 900) -> dict[str, list[ExperimentConfig]]:
    """Per label source, one config per seed, identical but for the supervisor (a seed draws other splits
    and is the same seed in every source). `judge_reads_text` adds the judge reading the text itself
    (direct): the judge as a zero-shot classifier, its own ceiling."""
    if not seeds or len(set(seeds)) != len(seeds):
        raise SuperalignError(f"seeds {list(seeds)}: give one or more distinct seeds, e.g. --seed 0 --seed 1")
    judged = [(p, False) for p in protocols] + ([("direct", True)] if judge_reads_text else [])
    configs: dict[str, list[ExperimentConfig]] = {}
    for seed in seeds:
        base = ExperimentConfig(task=task, weak=weak, strong=strong, method=method, seed=seed, splits=splits)
        configs.setdefault("weak classifier", []).append(base)
        for protocol, sees_text in judged:
            options = {"protocol": protocol, "judge": judge, "debater": debater, "max_chars": max_chars}
            if sees_text:
                options["settings"] = {"judge_sees_source": True}
            configs.setdefault(source_name(protocol, sees_text), []).append(base.model_copy(
                update={"supervisor": "judge", "supervisor_options": options}))
    return configs


REFERENCE = source_name("direct", False)  # the student on the blind judge's labels: what the protocols add to


def compare_label_sources(configs: dict[str, list[ExperimentConfig]], **run_options) -> list[dict[str, Any]]:
    """Runs (or reads from the store) every source's run at every seed; one row per source, pooled over the
    seeds. Accuracies are means over seeds; PGR is the ratio of those means (`pgr_of_means`), and the student's
    accuracy difference to the student on the blind judge's labels (`REFERENCE`) is paired on the same test
    examples of each seed (every source has the same splits at a seed). Both intervals resample seeds and,
    within each, test examples. `per_seed` keeps each seed's own numbers, so a mean is never all there is."""
    names = [name for name, runs in configs.items() for _ in runs]
    flat = [config for runs in configs.values() for config in runs]
    outcomes = run_all(flat, **run_options)
    failed = [(name, config.seed, o.error) for name, config, o in zip(names, flat, outcomes) if not o.ok]
    if failed:
        name, seed, error = failed[0]
        raise SuperalignError(f"label source {name!r} (seed {seed}) failed: {error}")
    results: dict[str, list[dict[str, Any]]] = {}
    for name, outcome in zip(names, outcomes):
        results.setdefault(name, []).append(outcome.record["result"])
    correct = {name: [{m: correctness(r["test_correct"][m]) for m in ("weak", "student", "ceiling")} for r in runs]
               for name, runs in results.items()}
    rows = []
    for name, runs in results.items():
        c = correct[name]
        est = pgr_of_means([(s["weak"], s["student"], s["ceiling"]) for s in c])
        per_seed = [{"seed": config.seed, "label_accuracy": r["weak_label_accuracy"],
                     "weak": r["metrics"]["weak"]["accuracy"], "weak_auroc": r["metrics"]["weak"]["auroc"],
                     "student": r["metrics"]["student"]["accuracy"],
                     "ceiling": r["metrics"]["ceiling"]["accuracy"], "vs_reference": None}
                    for config, r in zip(configs[name], runs)]
        row = {"source": name, "label_accuracy": float(np.mean([s["label_accuracy"] for s in per_seed])),
               "weak": est.weak, "weak_auroc": float(np.mean([s["weak_auroc"] for s in per_seed])),
               "student": est.student, "ceiling": est.ceiling, "pgr": est.pgr,
               "pgr_lo": est.lo, "pgr_hi": est.hi, "gap_examples": est.gap_examples, "flagged": est.flagged,
               "undefined_seeds": est.undefined_seeds, "small_gap_seeds": est.small_gap_seeds,
               "seeds": len(runs), "n": runs[0]["n"], "supervisor": runs[0]["supervisor"], "vs_reference": None,
               "per_seed": per_seed}
        if REFERENCE in correct and name != REFERENCE:
            pairs = [(s["student"], ref["student"]) for s, ref in zip(c, correct[REFERENCE])]
            row["vs_reference"] = paired_accuracy_difference(pairs)
            for seed_row, pair in zip(per_seed, pairs):
                seed_row["vs_reference"] = float(pair[0].mean() - pair[1].mean())
        rows.append(row)
    return rows


# The supervisor's test AUROC beside its accuracy: a judge whose signal ranks texts well but whose calibration
# (two numbers fitted on weak_train) puts the threshold wrong has a high AUROC and a low accuracy.
TABLE_HEADER = ["label source", "seeds", "label accuracy (transfer)", "weak test acc", "weak test AUROC",
                "student test acc", "ceiling", "PGR [95% CI]", "gap (test ex.)", f"student vs {REFERENCE} [95% CI]"]


def table_cells(row: dict[str, Any]) -> list[str]:
    """One row of the comparison as the strings of TABLE_HEADER (the CLI and the example print the same)."""
    pgr = format_pgr(SimpleNamespace(**row))  # the W2S tables' form: ⚑ marks a gap too small for a ratio
    diff = "-" if row["vs_reference"] is None else "{:+.3f} [{:+.3f}, {:+.3f}]".format(*row["vs_reference"])
    return [row["source"], str(row["seeds"]), f"{row['label_accuracy']:.3f}", f"{row['weak']:.3f}",
            f"{row['weak_auroc']:.3f}", f"{row['student']:.3f}", f"{row['ceiling']:.3f}", pgr,
            gap_note(SimpleNamespace(**row)), diff]


def per_seed_lines(rows: list[dict[str, Any]]) -> list[str]:
    """Each source's student test accuracy at each seed, and in brackets its difference to the student on
    `REFERENCE`'s labels at that seed: one line per source."""
    lines = []
    for row in rows:
        cells = [f"seed {s['seed']}: {s['student']:.3f}"
                 + ("" if s["vs_reference"] is None else f" ({s['vs_reference']:+.3f})") for s in row["per_seed"]]
        lines.append(f"{row['source']}: " + ", ".join(cells))
    return lines
