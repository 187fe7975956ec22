"""`superalign eval consistency|overopt|calibration`: evaluating models without (or before using) labels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
    """Sugar for a one-run spec of an evaluation kind: computed once per config and kept in the run store; prints
    the kind's own table of it."""
    from superalign.engine import KINDS, run_grid

    record = run_grid(KINDS.get(kind), [config], refresh=refresh, retry_failed=True).records[0]
    if record["status"] != "ok":
        raise SuperalignError(f"{kind} failed: {record['result'].get('error')}")
    KINDS.get(kind).summarize([record]).show(out)
    return record["result"]


def _config(task: str, weak: str, strong: str, method: str, seed: int) -> ExperimentConfig:
    return ExperimentConfig(task=task, weak=weak, strong=strong, method=method, seed=seed)


@app.command("consistency")
def consistency(task: TaskOpt = "bbc-news", weak: WeakOpt = "minilm-l3", strong: StrongOpt = "mpnet",
                method: MethodOpt = "naive", seed: SeedOpt = 0,
                refresh: Annotated[bool, typer.Option(help="recompute")] = False) -> None:
    """Violation rates of label-preserving checks, and whether inconsistency predicts error."""
    _run("eval-consistency", _config(task, weak, strong, method, seed), refresh)


@app.command("overopt")
def overopt(task: TaskOpt = "bbc-news", weak: WeakOpt = "minilm-l3", strong: StrongOpt = "mpnet",
            method: MethodOpt = "naive", seed: SeedOpt = 0, out_dir: OutOpt = Path("superalign-eval"),
            refresh: Annotated[bool, typer.Option(help="recompute")] = False) -> None:
    """Best-of-n against a proxy reward model; gold reward, the d(alpha - beta d) fit and its peak."""
    from superalign.evaluation.plots import overoptimization_figure, save

    report = _run("eval-overopt", _config(task, weak, strong, method, seed), refresh)
    written = save(overoptimization_figure(report, f"{task}: {weak} -> {strong}"), out_dir / f"overopt-{task}")
    err.print(f"figures: {', '.join(str(p) for p in written)}")


@app.command("calibration")
def calibration(task: TaskOpt = "bbc-news", weak: WeakOpt = "minilm-l3", strong: StrongOpt = "mpnet",
                method: MethodOpt = "naive", seed: SeedOpt = 0, out_dir: OutOpt = Path("superalign-eval"),
                refresh: Annotated[bool, typer.Option(help="recompute")] = False) -> None:
    """Expected calibration error and reliability diagrams of weak, student and ceiling."""
    from superalign.evaluation.plots import reliability_figure, save

    report = _run("eval-calibration", _config(task, weak, strong, method, seed), refresh)
    written = save(reliability_figure(report, f"{task}: {weak} -> {strong}"), out_dir / f"reliability-{task}")
    err.print(f"figures: {', '.join(str(p) for p in written)}")
