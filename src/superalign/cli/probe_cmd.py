"""`superalign probe backdoor|results`: safety probes of weak-to-strong supervision."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from superalign.cli.console import out
from superalign.cli.recorded import finish, run_with_progress
from superalign.errors import SuperalignError
from superalign.probes.deception import DeceptionConfig
from superalign.probes.experiment import COLUMNS, DECEPTION_HEADER, DECEPTION_KIND, KIND, configs_from_spec, \
    deception_cells, deception_markdown, defenses_markdown, ladder_markdown, load_configs, markdown_table, probe_cells, run_configs, setting_cells, \
    summarize, summarize_deception
from superalign.engine.store import RunStore

app = typer.Typer(help="Safety probes: backdoored supervisors, strong-to-weak deception.", no_args_is_help=True)


@app.command("backdoor")
def backdoor(
    config: Annotated[Optional[Path], typer.Option(help="YAML: BackdoorConfig fields; lists are grid axes")] = None,
    task: Annotated[str, typer.Option(help="a text task")] = "bbc-business-vs-rest",
    weak: Annotated[str, typer.Option(help="weak supervisor's encoder")] = "tfidf",
    strong: Annotated[Optional[list[str]], typer.Option(help="strong encoder(s), pretrained")] = None,
    poison_rate: Annotated[Optional[list[float]], typer.Option(help="share(s) of transfer poisoned")] = None,
    target: Annotated[int, typer.Option(help="the attacker's target class")] = 1,
    trigger: Annotated[str, typer.Option(help="the trigger word")] = "cf",
    seeds: Annotated[int, typer.Option(help="seeds 0..N-1")] = 3,
    refresh: Annotated[bool, typer.Option(help="recompute runs already in the store")] = False,
) -> None:
    """Poison the weak labels of triggered transfer texts; measure what the student inherits, and the defenses."""
    if config is not None:
        configs = load_configs(config)
    else:
        configs = configs_from_spec({"task": task, "weak": weak, "strong": strong or ["minilm-l6"],
                                     "poison_rate": poison_rate or [0.0, 0.05], "target": target,
                                     "trigger": trigger, "seeds": seeds}, where="options")
    outcomes, failures = run_with_progress("backdoor probes", configs, run_configs,
                                           lambda c: f"{c.task} {c.strong} rate {c.poison_rate} seed {c.seed}",
                                           refresh=refresh)
    records = [o.record for o in outcomes if o.ok]
    if records:
        _print(summarize(records))
    finish(outcomes, failures)


@app.command("deception")
def deception(
    config: Annotated[Optional[Path], typer.Option(help="YAML: DeceptionConfig fields; lists are grid axes")] = None,
    task: Annotated[str, typer.Option(help="task")] = "digits",
    weak: Annotated[str, typer.Option(help="weak supervisor's encoder")] = "pca:4",
    strong: Annotated[Optional[list[str]], typer.Option(help="strong encoder(s)")] = None,
    strength: Annotated[Optional[list[float]], typer.Option(help="weight(s) of the conflicting reward")] = None,
    target: Annotated[int, typer.Option(help="the class the conflicting reward favours")] = 1,
    seeds: Annotated[int, typer.Option(help="seeds 0..N-1")] = 3,
    refresh: Annotated[bool, typer.Option(help="recompute runs already in the store")] = False,
) -> None:
    """Give the student a reward for the target class; measure how much more it deviates where the weak supervisor does not know than where it does."""
    if config is not None:
        configs = load_configs(config, DeceptionConfig)
    else:
        configs = configs_from_spec({"task": task, "weak": weak, "strong": strong or ["raw"],
                                     "strength": strength or [0.0, 0.5], "target": target, "seeds": seeds},
                                    where="options", config_cls=DeceptionConfig)
    outcomes, failures = run_with_progress("deception probes", configs, run_configs,
                                           lambda c: f"{c.task} {c.strong} strength {c.strength} seed {c.seed}",
                                           refresh=refresh)
    records = [o.record for o in outcomes if o.ok]
    if records:
        _print_deception(summarize_deception(records))
    finish(outcomes, failures)


@app.command("results")
def results(
    markdown: Annotated[bool, typer.Option(help="print Markdown tables")] = False,
    pivot: Annotated[Optional[float], typer.Option(help="Markdown: attack success by student and poison rate, "
                                                        "then every defense at this poison rate")] = None,
) -> None:
    """Summarise the recorded backdoor and deception probes."""
    markdown = markdown or pivot is not None
    store = RunStore()
    backdoors, deceptions = store.records(kind=KIND), store.records(kind=DECEPTION_KIND)
    if not backdoors and not deceptions:
        raise SuperalignError("no probes recorded yet; run `superalign probe backdoor` or `probe deception` first")
    if backdoors:
        rows = summarize(backdoors)
        if pivot is not None:
            print(ladder_markdown(rows) + "\n\n" + defenses_markdown(rows, pivot))
        else:
            print(markdown_table(rows)) if markdown else _print(rows)
    if deceptions:
        rows = summarize_deception(deceptions)
        print(deception_markdown(rows)) if markdown else _print_deception(rows)


def _print_deception(rows) -> None:
    table = Table(*DECEPTION_HEADER, title="strong-to-weak deception (⚑: under 30 test examples where weak does not know)")
    for row in rows:
        table.add_row(*deception_cells(row))
    out.print(table)


def _print(rows) -> None:
    """One table per (task, pair), one row per poison rate and defense."""
    tables: dict[tuple[str, ...], Table] = {}
    for row in rows:
        cells = tuple(setting_cells(row))
        if cells not in tables:
            tables[cells] = Table(*COLUMNS, title=f"task {cells[0]}, {cells[1]}, trigger {row['trigger']!r}, "
                                                  f"target class {row['target']}")
        tables[cells].add_row(*probe_cells(row))
    for table in tables.values():
        out.print(table)
