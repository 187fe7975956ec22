"""`superalign eval consistency|overopt|calibration`: evaluating models without (or before using) labels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from superalign.cli.console import err, out
from superalign.errors import SuperalignError
from superalign.w2s.pipeline import ExperimentConfig

app = typer.Typer(help="Evaluate weak, student and ceiling models: consistency, over-optimization, calibration.",
                  no_args_is_help=True)

TaskOpt = Annotated[str, typer.Option(help="task")]
WeakOpt = Annotated[str, typer.Option(help="weak encoder")]
StrongOpt = Annotated[str, typer.Option(help="strong encoder")]
MethodOpt = Annotated[str, typer.Option(help="the student's weak-to-strong method")]
SeedOpt = Annotated[int, typer.Option(help="seed")]
OutOpt = Annotated[Path, typer.Option(help="folder for figures")]


def _run(kind: str, config: ExperimentConfig, refresh: bool) -> dict:
    """Sugar for a one-run spec of an evaluation kind: computed once per config and kept in the run store."""
    from superalign.engine import KINDS, run_grid

    record = run_grid(KINDS.get(kind), [config], refresh=refresh, retry_failed=True).records[0]
    if record["status"] != "ok":
        raise SuperalignError(f"{kind} failed: {record['result'].get('error')}")
    return record["result"]


@app.command("consistency")
def consistency(task: TaskOpt = "bbc-news", weak: WeakOpt = "minilm-l3", strong: StrongOpt = "mpnet",
                method: MethodOpt = "naive", seed: SeedOpt = 0,
                refresh: Annotated[bool, typer.Option(help="recompute")] = False) -> None:
    """Violation rates of label-preserving checks, and whether inconsistency predicts error."""
    config = ExperimentConfig(task=task, weak=weak, strong=strong, method=method, seed=seed)
    report = _run("eval-consistency", config, refresh)
    table = Table("model", "error rate", "mean inconsistency", "Spearman(inconsistency, error)",
                  "AUROC inconsistency -> error", title=f"consistency: {task}, {weak} -> {strong}")
    for name, r in report["models"].items():
        table.add_row(name, f"{r['error_rate']:.3f}", f"{r['mean_inconsistency']:.4f}",
                      f"{r['spearman_inconsistency_error']:+.3f}", f"{r['auroc_inconsistency_predicts_error']:.3f}")
    out.print(table)
    out.print(f"across the three models, Spearman(mean inconsistency, error rate) = {report['spearman_across_models']:+.2f}")


@app.command("overopt")
def overopt(task: TaskOpt = "bbc-news", weak: WeakOpt = "minilm-l3", strong: StrongOpt = "mpnet",
            method: MethodOpt = "naive", seed: SeedOpt = 0, out_dir: OutOpt = Path("superalign-eval"),
            refresh: Annotated[bool, typer.Option(help="recompute")] = False) -> None:
    """Best-of-n against a proxy reward model; gold reward, the d(alpha - beta d) fit and its peak."""
    from superalign.evaluation.plots import overoptimization_figure, save

    config = ExperimentConfig(task=task, weak=weak, strong=strong, method=method, seed=seed)
    report = _run("eval-overopt", config, refresh)
    table = Table("proxy", "test acc", "gold n=1", f"gold n={report['n'][-1]}", "measured peak n", "alpha", "beta",
                  "fitted peak n", "log fit b (R^2)", title=f"best-of-n over-optimization: {task}")
    for name, r in report["proxies"].items():
        fit, log_fit = r["fit"], r["log_fit"]
        table.add_row(name, f"{r['test_accuracy']:.3f}", f"{r['gold_reward'][0]:.3f}", f"{r['gold_reward'][-1]:.3f}",
                      str(r["n_peak_measured"]), f"{fit['alpha']:.3f}", f"{fit['beta']:.3f}",
                      f"{fit['n_peak_fitted']:.3g}", f"{log_fit['b']:.3f} ({log_fit['r2']:.2f})")
    out.print(table)
    written = save(overoptimization_figure(report, f"{task}: {weak} -> {strong}"), out_dir / f"overopt-{task}")
    err.print(f"figures: {', '.join(str(p) for p in written)}")


@app.command("calibration")
def calibration(task: TaskOpt = "bbc-news", weak: WeakOpt = "minilm-l3", strong: StrongOpt = "mpnet",
                method: MethodOpt = "naive", seed: SeedOpt = 0, out_dir: OutOpt = Path("superalign-eval"),
                refresh: Annotated[bool, typer.Option(help="recompute")] = False) -> None:
    """Expected calibration error and reliability diagrams of weak, student and ceiling."""
    from superalign.evaluation.plots import reliability_figure, save

    config = ExperimentConfig(task=task, weak=weak, strong=strong, method=method, seed=seed)
    report = _run("eval-calibration", config, refresh)
    table = Table("model", "accuracy", "ECE", title=f"calibration: {task}, {weak} -> {strong} ({method})")
    for name, r in report["models"].items():
        table.add_row(name, f"{r['accuracy']:.3f}", f"{r['ece']:.3f}")
    out.print(table)
    written = save(reliability_figure(report, f"{task}: {weak} -> {strong}"), out_dir / f"reliability-{task}")
    err.print(f"figures: {', '.join(str(p) for p in written)}")
