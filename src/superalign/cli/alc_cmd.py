"""`superalign alc run|results`: the attacker-learner-critic loop against its equal-budget baselines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from superalign.alc.experiment import COLUMNS, KIND, SETTING, configs_from_spec, load_configs, markdown_table, \
    rounds_markdown, run_configs, setting_cells, strategy_cells, summarize
from superalign.cli.console import out
from superalign.cli.recorded import finish, run_with_progress
from superalign.errors import SuperalignError
from superalign.engine.store import RunStore

app = typer.Typer(help="Attacker-learner-critic: adversarial queries, critic feedback, a minimal expert budget.",
                  no_args_is_help=True)


def _spec(value: Optional[str], what: str):
    """`--critic lm` or `--critic '{"name": "lm", "model": "qwen-1.5b"}'`."""
    if value is None or not value.lstrip().startswith("{"):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise SuperalignError(f"--{what} {value!r} is not valid JSON ({exc.msg}); give a name or a JSON object") from exc


@app.command("run")
def run(
    config: Annotated[Optional[Path], typer.Option(help="YAML file: seeds, runs and loop settings")] = None,
    task: Annotated[str, typer.Option(help="task (without --config)")] = "digits",
    weak: Annotated[str, typer.Option(help="weak supervisor's encoder")] = "pca:4",
    strong: Annotated[str, typer.Option(help="learner's encoder")] = "raw",
    attacker: Annotated[Optional[str], typer.Option(help="random, uncertainty, disagreement, knn, generative (or JSON)")] = None,
    critic: Annotated[Optional[str], typer.Option(help="weak, lm, ensemble (or a JSON spec)")] = None,
    eval_attacker: Annotated[Optional[str], typer.Option(help="the fresh attacker of the final evaluation")] = None,
    rounds: Annotated[Optional[int], typer.Option(help="rounds of attack, critique, experts, update")] = None,
    queries: Annotated[Optional[int], typer.Option(help="attacker queries per round")] = None,
    expert_budget: Annotated[Optional[float], typer.Option(help="expert labels: fraction of transfer or count")] = None,
    seeds: Annotated[int, typer.Option(help="seeds 0..N-1 (without --config)")] = 3,
    refresh: Annotated[bool, typer.Option(help="recompute runs already in the store")] = False,
    retry_failed: Annotated[bool, typer.Option(help="run again the runs recorded as failed")] = False,
) -> None:
    """Run the loop and every baseline at the same expert budget; print the comparison over seeds."""
    if config is not None:
        configs = load_configs(config)
    else:
        given = {"attacker": _spec(attacker, "attacker"), "critic": _spec(critic, "critic"),
                 "eval_attacker": _spec(eval_attacker, "eval-attacker"), "rounds": rounds, "queries": queries,
                 "expert_budget": expert_budget}
        configs = configs_from_spec({"task": task, "weak": weak, "strong": strong, "seeds": seeds,
                                     **{k: v for k, v in given.items() if v is not None}}, where="options")
    outcomes, failures = run_with_progress("attacker-learner-critic runs", configs, run_configs,
                                           lambda c: f"{c.task} seed {c.seed}", refresh=refresh,
                                           retry_failed=retry_failed)
    records = [o.record for o in outcomes if o.ok]
    if records:
        _print(summarize(records))
    finish(outcomes, failures)


@app.command("results")
def results(
    task: Annotated[Optional[str], typer.Option(help="only this task")] = None,
    markdown: Annotated[bool, typer.Option(help="print a Markdown table")] = False,
    rounds: Annotated[bool, typer.Option(help="the loop's rounds instead (Markdown): attack success, critic accuracy")] = False,
) -> None:
    """Summarise the recorded attacker-learner-critic runs."""
    records = [r for r in RunStore().records(kind=KIND) if task is None or r["config"]["task"] == task]
    if not records:
        raise SuperalignError("no attacker-learner-critic runs recorded yet; run `superalign alc run` first")
    if rounds:
        print(rounds_markdown(records))
        return
    rows = summarize(records)
    print(markdown_table(rows)) if markdown else _print(rows)


def _print(rows) -> None:
    """One table per setting (task, pair, attacker, critic, budget), one row per strategy."""
    tables: dict[tuple[str, ...], Table] = {}
    for row in rows:
        cells = tuple(setting_cells(row))
        if cells not in tables:
            title = ", ".join(f"{name} {value}" for name, value in zip(SETTING, cells))
            tables[cells] = Table(*COLUMNS, title=title)
        tables[cells].add_row(*strategy_cells(row))
    for table in tables.values():
        out.print(table)
