"""Oversight x W2SG, compared: the same weak-to-strong run with its weak labels from each source.

Every source is a W2S pipeline run (`superalign.w2s.pipeline`, recorded in the run store) that differs only
in its `supervisor`: the weak classifier, and a language-model judge (`superalign.oversight.supervisor`)
under each protocol asked for. Task, encoders, splits, method, seed and the ceiling are the same in every
run, so the students differ only by where their labels came from; "weak" is each supervisor's own accuracy
on test, and PGR is measured against it.
"""

from __future__ import annotations

from typing import Any

from superalign.data.task import SplitSizes
from superalign.errors import SuperalignError
from superalign.runs.w2s import run_all
from superalign.w2s.pipeline import ExperimentConfig

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


def compare_label_sources(configs: dict[str, ExperimentConfig], **run_options) -> list[dict[str, Any]]:
    """Runs (or reads from the store) each source's run; one row per source."""
    outcomes = run_all(list(configs.values()), **run_options)
    failed = [(name, o.error) for name, o in zip(configs, outcomes) if not o.ok]
    if failed:
        raise SuperalignError(f"label source {failed[0][0]!r} failed: {failed[0][1]}")
    rows = []
    for name, outcome in zip(configs, outcomes):
        result = outcome.record["result"]
        m = result["metrics"]
        rows.append({"source": name, "label_accuracy": result["weak_label_accuracy"],
                     "weak": m["weak"]["accuracy"], "student": m["student"]["accuracy"],
                     "ceiling": m["ceiling"]["accuracy"], "pgr": result["pgr"], "n": result["n"],
                     "supervisor": result["supervisor"]})
    return rows
