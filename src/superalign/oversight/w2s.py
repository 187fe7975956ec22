"""Oversight x W2SG, compared: the same weak-to-strong run with its weak labels from each source.

Every source is a W2S pipeline run (`superalign.w2s.pipeline`, recorded in the run store) that differs only
in its `supervisor`: the weak classifier, and a language-model judge (`superalign.oversight.supervisor`)
under each protocol asked for. Task, encoders, splits, method, seed and the ceiling are the same in every
run, so the students differ only by where their labels came from; "weak" is each supervisor's own accuracy
on test, and PGR is measured against it.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from superalign.data.task import SplitSizes
from superalign.errors import SuperalignError
from superalign.metrics import correctness, paired_accuracy_difference, pgr_of_means
from superalign.runs.w2s import run_all
from superalign.w2s.pipeline import ExperimentConfig
from superalign.w2s.summary import format_pgr

# Small splits: every text of every split is judged (the judge labels transfer and val, and is scored on test).
JUDGED_SPLITS = SplitSizes(weak_train=40, transfer=100, val=20, test=100)


def source_name(protocol: str, sees_text: bool) -> str:
    return f"judge, {protocol}" + (" (reads the text)" if sees_text else "")


def label_source_configs(task: str, weak: str, strong: str, judge: str, debater: str,
                         protocols: tuple[str, ...] = ("direct", "debate"), judge_reads_text: bool = False,
                         method: str = "naive", seed: int = 0, splits: SplitSizes = JUDGED_SPLITS,
                         max_chars: int = 900) -> dict[str, ExperimentConfig]:
    """One config per label source, identical but for the supervisor. `judge_reads_text` adds the judge
    reading the text itself (direct): the judge as a zero-shot classifier, its own ceiling."""
    base = ExperimentConfig(task=task, weak=weak, strong=strong, method=method, seed=seed, splits=splits)
    configs = {"weak classifier": base}
    judged = [(p, False) for p in protocols] + ([("direct", True)] if judge_reads_text else [])
    for protocol, sees_text in judged:
        options = {"protocol": protocol, "judge": judge, "debater": debater, "max_chars": max_chars}
        if sees_text:
            options["settings"] = {"judge_sees_source": True}
        configs[source_name(protocol, sees_text)] = base.model_copy(
            update={"supervisor": "judge", "supervisor_options": options})
    return configs


REFERENCE = source_name("direct", False)  # the student on the blind judge's labels: what the protocols add to


def compare_label_sources(configs: dict[str, ExperimentConfig], **run_options) -> list[dict[str, Any]]:
    """Runs (or reads from the store) each source's run; one row per source. Intervals resample the test
    examples (one seed): PGR's from `pgr_of_means`, and the student's accuracy difference to the student on the
    blind judge's labels (`REFERENCE`), paired on the same test examples (every run has the same splits)."""
    outcomes = run_all(list(configs.values()), **run_options)
    failed = [(name, o.error) for name, o in zip(configs, outcomes) if not o.ok]
    if failed:
        raise SuperalignError(f"label source {failed[0][0]!r} failed: {failed[0][1]}")
    results = {name: outcome.record["result"] for name, outcome in zip(configs, outcomes)}
    correct = {name: {m: correctness(r["test_correct"][m]) for m in ("weak", "student", "ceiling")}
               for name, r in results.items()}
    rows = []
    for name, result in results.items():
        m, c = result["metrics"], correct[name]
        est = pgr_of_means([(c["weak"], c["student"], c["ceiling"])])
        row = {"source": name, "label_accuracy": result["weak_label_accuracy"],
               "weak": m["weak"]["accuracy"], "student": m["student"]["accuracy"],
               "ceiling": m["ceiling"]["accuracy"], "pgr": result["pgr"], "pgr_lo": est.lo, "pgr_hi": est.hi,
               "gap_examples": est.gap_examples, "flagged": est.flagged, "n": result["n"],
               "supervisor": result["supervisor"], "vs_reference": None}
        if REFERENCE in correct and name != REFERENCE:
            row["vs_reference"] = paired_accuracy_difference([(c["student"], correct[REFERENCE]["student"])])
        rows.append(row)
    return rows


TABLE_HEADER = ["label source", "label accuracy (transfer)", "weak test acc", "student test acc", "ceiling",
                "PGR [95% CI]", "gap (test ex.)", f"student vs {REFERENCE} [95% CI]"]


def table_cells(row: dict[str, Any]) -> list[str]:
    """One row of the comparison as the strings of TABLE_HEADER (the CLI and the example print the same)."""
    pgr = format_pgr(SimpleNamespace(**row))  # the W2S tables' form: ⚑ marks a gap too small for a ratio
    diff = "-" if row["vs_reference"] is None else "{:+.3f} [{:+.3f}, {:+.3f}]".format(*row["vs_reference"])
    return [row["source"], f"{row['label_accuracy']:.3f}", f"{row['weak']:.3f}", f"{row['student']:.3f}",
            f"{row['ceiling']:.3f}", pgr, f"{row['gap_examples']:.0f}", diff]
