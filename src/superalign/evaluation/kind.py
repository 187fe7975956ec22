"""Evaluation without labels as kinds on the engine: `eval-consistency`, `eval-overopt`, `eval-calibration`.

One run is a weak-to-strong setting (an `ExperimentConfig`: task, encoders, method, seed); its result is the
evaluation's report of the weak model, the student and the ceiling. `superalign eval ...` builds a one-run spec of
these; `superalign run` takes a YAML with `kind: eval-consistency` and lists on any field, like any kind.

Labels read: the consistency and over-optimization checks themselves read none (labels are used only afterwards,
to ask whether a label-free score predicts error); calibration is measured against test labels by definition.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from superalign.engine.kind import Kind, Table
from superalign.w2s.pipeline import ExperimentConfig, keyed_fields


def _setting(config: dict[str, Any]) -> list[str]:
    return [config["task"], f"{config['weak']} -> {config['strong']}", config["method"], str(config["seed"])]


SETTING = ["task", "weak -> strong", "method", "seed"]


def _consistency_table(records: list[dict]) -> Table:
    rows = [[*_setting(r["config"]), model, f"{m['error_rate']:.3f}", f"{m['mean_inconsistency']:.4f}",
             f"{m['spearman_inconsistency_error']:+.3f}", f"{m['auroc_inconsistency_predicts_error']:.3f}"]
            for r in records for model, m in r["result"]["models"].items()]
    notes = [f"{' '.join(_setting(r['config']))}: Spearman(mean inconsistency, error rate) across the three models = "
             f"{r['result']['spearman_across_models']:+.2f}" for r in records]
    return Table("consistency without labels (labels only score the check afterwards)",
                 [*SETTING, "model", "error rate", "mean inconsistency", "Spearman(inconsistency, error)",
                  "AUROC inconsistency -> error"], rows, notes)


def _overopt_table(records: list[dict]) -> Table:
    rows = []
    for r in records:
        for proxy, p in r["result"]["proxies"].items():
            fit, log_fit = p["fit"], p["log_fit"]
            rows.append([*_setting(r["config"]), proxy, f"{p['test_accuracy']:.3f}", f"{p['gold_reward'][0]:.3f}",
                         f"{p['gold_reward'][-1]:.3f} (n={r['result']['n'][-1]})", str(p["distinct_winners"][-1]),
                         str(p["n_peak_measured"]),
                         f"{fit['alpha']:.3f}", f"{fit['beta']:.3f}", f"{fit['n_peak_fitted']:.3g}",
                         f"{log_fit['b']:.3f} ({log_fit['r2']:.2f})"])
    return Table("best-of-n over-optimization against a proxy (gold = the task's label)",
                 [*SETTING, "proxy", "test acc", "gold n=1", "gold at largest n", "distinct winners at largest n",
                  "measured peak n", "alpha", "beta",
                  "fitted peak n", "log fit b (R^2)"], rows)


def _calibration_table(records: list[dict]) -> Table:
    rows = [[*_setting(r["config"]), model, f"{m['accuracy']:.3f}", f"{m['ece']:.3f}"]
            for r in records for model, m in r["result"]["models"].items()]
    return Table("calibration (expected calibration error on test)", [*SETTING, "model", "accuracy", "ECE"], rows)


def _timed(compute: Callable[[ExperimentConfig], dict]) -> Callable[[ExperimentConfig], dict]:
    def run(config: ExperimentConfig) -> dict:
        start = time.perf_counter()
        result = compute(config)
        result["seconds"] = round(time.perf_counter() - start, 2)
        return result

    return run


def _consistency(config: ExperimentConfig) -> dict:
    from superalign.evaluation.consistency import consistency_report

    return consistency_report(config)


def _overopt(config: ExperimentConfig) -> dict:
    from superalign.evaluation.overoptimization import overoptimization_report

    return overoptimization_report(config)


def _calibration(config: ExperimentConfig) -> dict:
    from superalign.evaluation.calibration import calibration_report

    return calibration_report(config)


def _kind(name: str, compute: Callable[[ExperimentConfig], dict], summarize: Callable[[list[dict]], Table],
          help: str) -> Kind:
    from superalign.w2s.kind import KIND as W2S

    return Kind(name, ExperimentConfig, _timed(compute), summarize,
                keyed=lambda config: {"kind": name, **keyed_fields(config)},
                # `superalign eval` keyed its records "<kind>-<config hash>" before the engine
                legacy_keys=lambda config: [f"{name}-{ExperimentConfig(**config).config_hash()}"],
                check=W2S.check, prepare=W2S.prepare, help=help)


CONSISTENCY = _kind("eval-consistency", _consistency, _consistency_table,
                    "label-free consistency checks of weak, student and ceiling, and whether they predict error")
OVEROPT = _kind("eval-overopt", _overopt, _overopt_table,
                "best-of-n against a weak-to-strong proxy reward: gold reward and the fitted over-optimization peak")
CALIBRATION = _kind("eval-calibration", _calibration, _calibration_table,
                    "expected calibration error and reliability of weak, student and ceiling")
