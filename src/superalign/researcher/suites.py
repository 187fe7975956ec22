"""One (method, options) on a suite of settings x seeds, through the W2S pipeline and the run store, scored as
PGR of mean accuracies over every run (ratio of means; the interval resamples runs and test examples)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from superalign.models.cache import ActivationCache
from superalign.engine.store import RunStore
from superalign.runs.w2s import run_all
from superalign.w2s.summary import estimate, flatten
from superalign.researcher.config import Pair


@dataclass
class SuiteScore:
    method: str
    options: dict[str, Any]
    pgr: float
    lo: float
    hi: float
    weak: float
    student: float
    ceiling: float
    runs: int
    failed: list[str] = field(default_factory=list)  # errors of failed runs (then the score is NaN)
    settings: list[dict[str, Any]] = field(default_factory=list)  # per setting: accuracies and PGR
    events: list[dict] = field(default_factory=list)  # what a sandboxed method's monitor refused
    budget: str = "weak-labels"
    records: list[str] = field(default_factory=list)  # run-store keys of the weak-to-strong runs it scored

    @property
    def ok(self) -> bool:
        return not self.failed and not math.isnan(self.pgr)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("method", "options", "pgr", "lo", "hi", "weak", "student", "ceiling",
                                              "runs", "failed", "settings", "events", "budget", "records")}


def score_suite(pairs: list[Pair], seeds: list[int], method: str, options: dict[str, Any],
                store: RunStore | None = None, cache: ActivationCache | None = None,
                label: str | None = None) -> SuiteScore:
    configs = [c for pair in pairs for c in pair.experiments(method, options, seeds)]
    outcomes = run_all(configs, store=store)  # the activation cache is the shared one under SUPERALIGN_HOME
    failed = [f"{c.task} seed {c.seed}: {o.error}" for c, o in zip(configs, outcomes) if not o.ok]
    events = [e for o in outcomes if o.ok for e in o.result.get("method_diagnostics", {}).get("sandbox_events", [])]
    df = flatten([o.record for o in outcomes])
    nan = float("nan")
    if df.empty:
        return SuiteScore(label or method, options, nan, nan, nan, nan, nan, nan, 0, failed, [], events)
    overall = estimate(df)
    settings = []
    for pair in pairs:
        part = df[(df.task == pair.task) & (df.weak == pair.weak) & (df.strong == pair.strong)]
        if len(part):
            est = estimate(part)
            settings.append({"setting": pair.label(), "weak": est.weak, "student": est.student, "ceiling": est.ceiling,
                             "pgr": est.pgr, "lo": est.lo, "hi": est.hi, "runs": len(part),
                             "diagnostics": _diagnostics(pair, configs, outcomes)})
    pgr = nan if failed else overall.pgr
    return SuiteScore(label or method, options, pgr, overall.lo, overall.hi, overall.weak, overall.student,
                      overall.ceiling, len(df), failed, settings, events, ", ".join(sorted(set(df["budget"]))),
                      [o.record["config_hash"] for o in outcomes if o.ok])


def _diagnostics(pair: Pair, configs, outcomes) -> dict[str, float]:
    """Means over seeds of what the records say besides accuracy: agreement with the weak labels, copied
    mistakes, and the method's own numeric diagnostics."""
    values: dict[str, list[float]] = {}
    for config, outcome in zip(configs, outcomes):
        if not outcome.ok or (config.task, config.weak, config.strong) != (pair.task, pair.weak, pair.strong):
            continue
        result = outcome.result
        found = {"student_weak_agreement": result.get("student_weak_agreement"),
                 "copied_weak_mistakes": result.get("copied_weak_mistakes"),
                 **result.get("method_diagnostics", {})}
        for key, value in found.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                values.setdefault(key, []).append(float(value))
    return {k: sum(v) / len(v) for k, v in values.items()}
