"""`superalign run`: weak-to-strong experiments; with no arguments, the offline default."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from superalign.cli.console import err, out
from superalign.data.task import SplitSizes
from superalign.errors import SuperalignError
from superalign.progress import progress_bar
from superalign.runs.store import RunStore, flatten_w2s
from superalign.w2s import runner
from superalign.w2s.summary import summarize


def run(
    task: Annotated[Optional[list[str]], typer.Option(help="task(s); default: three BBC-derived tasks")] = None,
    weak: Annotated[Optional[str], typer.Option(help="weak encoder (with --strong, instead of --ladder)")] = None,
    strong: Annotated[Optional[str], typer.Option(help="strong encoder")] = None,
    ladder: Annotated[Optional[list[str]], typer.Option(help="encoders from weak to strong; every ordered pair runs")] = None,
    method: Annotated[Optional[list[str]], typer.Option(help="method(s), see `superalign methods list`")] = None,
    seeds: Annotated[int, typer.Option(help="number of seeds (0..N-1)")] = 3,
    head: Annotated[str, typer.Option(help="logistic or mlp")] = "logistic",
    intermediate: Annotated[Optional[list[str]], typer.Option(help="rungs for bootstrap with --weak/--strong")] = None,
    option: Annotated[Optional[list[str]], typer.Option("--option", "-o", help="method option KEY=VALUE (JSON value)")] = None,
    max_examples: Annotated[int, typer.Option(help="stratified subset of each task (0 = all)")] = 0,
    sizes: Annotated[Optional[str], typer.Option(help="split sizes weak_train,transfer,val,test (fractions or counts)")] = None,
    config: Annotated[Optional[Path], typer.Option(help="YAML file with tasks, ladder, methods, seeds and config fields")] = None,
    refresh: Annotated[bool, typer.Option(help="recompute runs already in the store")] = False,
) -> None:
    """Train weak supervisors, weak-label the transfer set, train strong students, and report PGR."""
    start = time.perf_counter()
    if config is not None:
        configs = runner.configs_from_yaml(config)
    else:
        if (weak is None) != (strong is None):
            raise SuperalignError("give both --weak and --strong (or --ladder)")
        rungs = [weak, strong] if weak else (ladder or runner.DEFAULT_LADDER)
        common = {"head": head, "max_examples": max_examples, "method_options": _options(option)}
        if sizes:
            common["splits"] = _sizes(sizes)
        configs = runner.grid(task or runner.DEFAULT_TASKS, rungs, method or runner.DEFAULT_METHODS,
                              list(range(seeds)), **common)
        if intermediate:
            configs = [c.model_copy(update={"intermediate": intermediate}) for c in configs]
    if not configs:
        raise SuperalignError("nothing to run: check the tasks, ladder and methods")
    store = RunStore()
    reused = 0
    with progress_bar(f"{len(configs)} runs", len(configs)) as advance:
        def on_done(cfg, record, cached):
            nonlocal reused
            reused += cached
            advance(1)

        records = runner.run_all(configs, store=store, refresh=refresh, on_done=on_done)
    print_summary(summarize(flatten_w2s(records)))
    err.print(f"{len(records)} runs ({reused} from the store) in {time.perf_counter() - start:.1f}s; "
              f"records in {store.path}")


def print_summary(summary) -> None:
    table = Table("task", "weak -> strong", "method", "seeds", "weak", "student", "ceiling", "PGR [95% CI]",
                  title="weak-to-strong (test accuracy)")
    for r in summary.itertuples():
        table.add_row(r.task, f"{r.weak} -> {r.strong}", r.method, str(r.seeds), f"{r.weak_acc:.3f}",
                      f"{r.student_acc:.3f}", f"{r.ceiling_acc:.3f}",
                      f"{r.pgr:+.2f} [{r.pgr_lo:+.2f}, {r.pgr_hi:+.2f}]")
    out.print(table)


def _options(items: list[str] | None) -> dict:
    options = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise SuperalignError(f"--option {item!r}: write KEY=VALUE, e.g. -o aux_coef=0.5")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def _sizes(text: str) -> SplitSizes:
    parts = text.split(",")
    if len(parts) != 4:
        raise SuperalignError(f"--sizes {text!r}: give four numbers weak_train,transfer,val,test")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise SuperalignError(f"--sizes {text!r}: give four numbers weak_train,transfer,val,test")
    return SplitSizes(**dict(zip(["weak_train", "transfer", "val", "test"], values)))
