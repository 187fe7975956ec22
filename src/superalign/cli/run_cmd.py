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
from superalign.engine.executors import check_executor
from superalign.progress import progress_ticks
from superalign.engine.store import RunStore
from superalign.runs.w2s import run_all
from superalign.w2s import grid as runner
from superalign.w2s.summary import HEADER, flatten, summarize, table_rows


def run(
    spec: Annotated[Optional[Path], typer.Argument(help="a spec YAML of any kind (kind: w2s, ...; see examples/)")] = None,
    task: Annotated[Optional[list[str]], typer.Option(help="task(s); default: the offline plan (README)")] = None,
    weak: Annotated[Optional[str], typer.Option(help="weak encoder (with --strong, instead of --ladder)")] = None,
    strong: Annotated[Optional[str], typer.Option(help="strong encoder")] = None,
    ladder: Annotated[Optional[list[str]], typer.Option(help="encoders from weak to strong; every ordered pair runs")] = None,
    method: Annotated[Optional[list[str]], typer.Option(help="method(s), see `superalign methods list`")] = None,
    seeds: Annotated[int, typer.Option(min=1, help="number of seeds (0..N-1)")] = 5,
    head: Annotated[str, typer.Option(help="logistic or mlp")] = "logistic",
    intermediate: Annotated[Optional[list[str]], typer.Option(help="rungs for bootstrap with --weak/--strong")] = None,
    option: Annotated[Optional[list[str]], typer.Option("--option", "-o", help="method option KEY=VALUE (JSON value)")] = None,
    supervisor: Annotated[str, typer.Option(help="weak labels from: classifier, or judge (an oversight protocol's judge)")] = "classifier",
    supervisor_option: Annotated[Optional[list[str]], typer.Option(help="supervisor option KEY=VALUE, e.g. protocol=debate")] = None,
    max_examples: Annotated[int, typer.Option(help="stratified subset of each task (0 = all)")] = 0,
    sizes: Annotated[Optional[str], typer.Option(help="split sizes weak_train,transfer,val,test (fractions or counts)")] = None,
    config: Annotated[Optional[Path], typer.Option(help="YAML file with tasks, ladder, methods, seeds and config fields")] = None,
    refresh: Annotated[bool, typer.Option(help="recompute runs already in the store")] = False,
    retry_failed: Annotated[bool, typer.Option(help="run again the runs recorded as failed")] = False,
    executor: Annotated[str, typer.Option(help="local, process or ray")] = "local",
    jobs: Annotated[int, typer.Option(help="parallel workers (process, ray)")] = 1,
    address: Annotated[Optional[str], typer.Option(help="Ray cluster address (default: start a local one)")] = None,
) -> None:
    """Run a spec of any kind (`superalign run SPEC.yaml`), or, from flags, weak-to-strong experiments: train weak
    supervisors, weak-label the transfer set, train strong students, and report PGR."""
    start = time.perf_counter()
    check_executor(executor, jobs)
    if spec is not None:
        return run_spec(spec, executor=executor, jobs=jobs, address=address, refresh=refresh,
                        retry_failed=retry_failed)
    if config is not None:
        configs = runner.configs_from_yaml(config)
    else:
        if (weak is None) != (strong is None):
            raise SuperalignError("give both --weak and --strong (or --ladder)")
        rungs = [weak, strong] if weak else (ladder or runner.DEFAULT_LADDER)
        common = {"head": head, "max_examples": max_examples, "method_options": _options(option),
                  "supervisor": supervisor, "supervisor_options": _options(supervisor_option)}
        if sizes:
            common["splits"] = SplitSizes.parse(sizes)
        methods = method or runner.DEFAULT_METHODS
        if not (task or weak or ladder):
            configs = runner.default_configs(methods, list(range(seeds)), **common)
        else:
            configs = runner.grid(task or runner.DEFAULT_TASKS, rungs, methods, list(range(seeds)), **common)
        if intermediate:
            configs = [c.model_copy(update={"intermediate": intermediate}) for c in configs]
    if not configs:
        raise SuperalignError("nothing to run: check the tasks, ladder and methods")
    store = RunStore()
    with progress_ticks(f"{len(configs)} runs") as progress:
        outcomes = run_all(configs, store=store, refresh=refresh, retry_failed=retry_failed, executor=executor,
                           jobs=jobs, progress=progress)
    ok = [o.record for o in outcomes if o.ok]
    if ok:
        print_summary(summarize(flatten(ok)))
        print_violations(ok)
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        c = o.record["config"]
        when = "recorded earlier" if o.cached else "now"
        err.print(f"failed ({when}): {c['task']} {c['weak']} -> {c['strong']} {c['method']} seed {c['seed']}: {o.error}")
    reused = sum(o.cached for o in outcomes)
    err.print(f"{len(outcomes)} runs ({reused} from the store, {len(failed)} failed) in "
              f"{time.perf_counter() - start:.1f}s; records in {store.path}")
    if failed:
        raise SuperalignError(f"{len(failed)} of {len(outcomes)} runs failed (details: superalign results --failed); "
                              "fix the cause and run again with --retry-failed")


def run_spec(path: Path, executor: str = "local", jobs: int = 1, address: str | None = None, refresh: bool = False,
             retry_failed: bool = False) -> None:
    """Any kind, from its spec: the runs the store lacks, then the kind's table of every run of the spec."""
    from superalign.engine import load_spec, run_grid

    start = time.perf_counter()
    kind, configs, name = load_spec(path)
    store = RunStore()
    with progress_ticks(f"{name} ({kind.name})") as progress:
        result = run_grid(kind, configs, store=store, executor=executor, jobs=jobs, address=address, refresh=refresh,
                          retry_failed=retry_failed, progress=progress)
    ok = [r for r in result.records if r and r["status"] == "ok"]
    if ok:
        kind.summarize(ok).show(out)
        print_violations(ok)
    for record in result.failures:
        err.print(f"failed: {kind.name} {record['config_hash']}: {record['result'].get('error')}")
    err.print(f"{name}: {result.total} runs of kind {kind.name} ({result.stored} from the store, {result.done} done "
              f"now, {len(result.failures)} failed) in {time.perf_counter() - start:.1f}s; records in {store.path}")
    if result.failures:
        raise SuperalignError(f"{len(result.failures)} of {result.total} runs failed (superalign results --kind "
                              f"{kind.name} --failed); fix the cause and run again with --retry-failed")


def print_summary(summary) -> None:
    table = Table(*HEADER, title="weak-to-strong (test accuracy; PGR = ratio of mean accuracies)")
    for row in table_rows(summary):
        table.add_row(*row)
    out.print(table)
    if summary["flagged"].any():
        out.print("⚑ gap under 15 test examples (or a seed's under 3): the ratio is not a measurement there")


def print_violations(records: list[dict]) -> None:
    """Model-written code that tried to leave its sandbox: every refused attempt is in the run's record."""
    by_method: dict[str, list[str]] = {}
    for record in records:
        events = record["result"].get("method_diagnostics", {}).get("sandbox_events", [])
        if events:
            by_method.setdefault(record["config"]["method"], []).extend(e["kind"] for e in events)
    for method, kinds in by_method.items():
        counts = ", ".join(f"{kinds.count(k)} {k}" for k in sorted(set(kinds)))
        err.print(f"[bold red]⚠ sandbox violations by {method}: {counts}[/] (refused and recorded in the run's "
                  "method_diagnostics; its numbers rest on what it could see, not on what it tried)")


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
