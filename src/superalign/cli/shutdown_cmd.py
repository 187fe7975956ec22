"""`superalign shutdown run|show|layout`: agents trained to be neutral about when they are shut down (DReST)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from superalign.cli.console import out
from superalign.errors import SuperalignError
from superalign.io import read_yaml

app = typer.Typer(help="Shutdownable agents: DReST versus the default reward in gridworlds.", no_args_is_help=True)

QUICK = {"seeds": [0, 1], "train_layouts": ["example", "random-1"], "meta_episodes": 120, "ppo_steps": 4_000,
         "ppo_train_layouts": 20, "ppo_unseen_layouts": 10, "ppo_eval_episodes": 10, "eval_episodes": 100}


def _runs(path: Optional[Path], quick: bool) -> list:
    """Sugar for a spec of kind shutdown: the YAML's options over the defaults (or the --quick budget)."""
    from superalign.shutdown.experiment import configs_from_spec

    spec = dict(QUICK) if quick else {}
    if path is not None:
        loaded = read_yaml(path, "shutdown config")
        if not isinstance(loaded, dict):
            raise SuperalignError(f"{path}: expected a mapping of options (see examples/shutdown/drest.yaml)")
        spec.update(loaded)
    return configs_from_spec(spec, where=str(path or "shutdown options"))


def _print_table(runs: list, records: list[dict] | None = None) -> None:
    from superalign.engine import stored_records
    from superalign.shutdown.experiment import KIND, per_layout, per_layout_table

    if records is None:
        records = [r for r in stored_records(KIND, runs) if r is not None and r["status"] == "ok"]
    if not records:
        raise SuperalignError("no recorded shutdown runs for this config: run `superalign shutdown run` first")
    out.print(KIND.summarize(records).markdown())
    if any(r["config"]["part"] == "tabular" for r in records):
        out.print("\nTabular REINFORCE by training layout (mean over seeds):\n" + per_layout_table(per_layout(records)))


@app.command("run")
def run(config_file: Annotated[Optional[Path], typer.Argument(help="YAML of options: part, reward, seeds and ShutdownRun fields (a list makes a grid)")] = None,
        quick: Annotated[bool, typer.Option(help="a small budget (a minute or two), for a first look")] = False,
        jobs: Annotated[int, typer.Option(help="runs in parallel, one process each (each agent uses one core)")] = 2,
        executor: Annotated[str, typer.Option(help="process, local or ray")] = "process",
        refresh: Annotated[bool, typer.Option(help="recompute runs already in the store")] = False) -> None:
    """Train DReST and default agents (tabular REINFORCE per layout; PPO across layouts), record, tabulate.
    Sugar for a spec of kind shutdown: runs already in the store are not recomputed, so an interrupted run
    resumes; failed runs are retried."""
    from superalign.engine import run_grid
    from superalign.progress import progress_ticks
    from superalign.shutdown.experiment import KIND

    runs = _runs(config_file, quick)
    with progress_ticks("shutdown agents") as progress:
        result = run_grid(KIND, runs, executor=executor, jobs=jobs, refresh=refresh, retry_failed=True,
                          progress=progress)
    _print_table(runs, [r for r in result.records if r["status"] == "ok"])
    if result.failures:
        first = result.failures[0]
        raise SuperalignError(f"{len(result.failures)} run(s) failed (recorded; rerun to retry): "
                              f"{first['config']['part']}/{first['config']['reward']}/seed {first['config']['seed']}: "
                              f"{first['result'].get('error')}")


@app.command("show")
def show(config_file: Annotated[Optional[Path], typer.Argument(help="the YAML the runs were made with")] = None,
         quick: Annotated[bool, typer.Option(help="the --quick runs")] = False) -> None:
    """The table of recorded runs for a config, from the run store only."""
    _print_table(_runs(config_file, quick))


@app.command("layout")
def layout(name: Annotated[str, typer.Argument(help="'example' or random-N")] = "example",
           png: Annotated[Optional[Path], typer.Option(help="also save an image of it")] = None) -> None:
    """A layout, its most collectable coins at each trajectory length, and optionally its picture."""
    from superalign.shutdown.experiment import layout_named
    from superalign.shutdown.gridworld import best_coins, render_layout

    grid = layout_named(name)
    symbols = {p: str(v) for p, v in grid.coins} | {w: "#" for w in grid.walls} | {grid.button: "B", grid.start: "A"}
    for r in range(grid.size):
        out.print(" ".join(symbols.get((r, c), ".") for c in range(grid.size)), markup=False)
    out.print(f"steps: {grid.short} (short) or {grid.short + grid.delay} (after pressing B); "
              f"most coins: {best_coins(grid)}")
    if png is not None:
        import matplotlib.pyplot as plt

        plt.imsave(png, render_layout(grid))
        out.print(f"wrote {png}")
