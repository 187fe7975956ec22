"""`superalign data list|show`: the registered tasks, their splits and examples."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from superalign.cli.console import out
from superalign.data.registry import TASKS, load_task, task_names
from superalign.data.task import SPLIT_NAMES, SplitSizes, make_splits

app = typer.Typer(help="Tasks: list, show, build preference pairs, fetch data.", no_args_is_help=True)


@app.command("list")
def list_tasks() -> None:
    """List the registered tasks (plus file:PATH for any local file)."""
    table = Table("task", "description")
    for name in task_names():
        table.add_row(name, TASKS.help(name))
    table.add_row("file:PATH?text=COL&label=COL", "any local jsonl/json/csv/parquet file")
    out.print(table)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="task name, e.g. bbc-news")],
    seed: Annotated[int, typer.Option(help="split seed")] = 0,
    examples: Annotated[int, typer.Option(help="how many examples to print")] = 3,
) -> None:
    """Counts per split and class, and a few examples."""
    task = load_task(name)
    splits = make_splits(task, SplitSizes(), seed=seed)
    out.print(f"[bold]{task.name}[/]: {task.description} — {len(task)} examples, {task.modality}")
    table = Table("split", "n", *task.label_names)
    for split in SPLIT_NAMES:
        idx = splits[split]
        counts = np.bincount(task.labels[idx], minlength=task.n_classes)
        table.add_row(split, str(len(idx)), *[str(c) for c in counts])
    out.print(table)
    for i in range(min(examples, len(task))):
        x = task.inputs[i]
        shown = x[:200] if isinstance(x, str) else f"array of shape {np.asarray(x).shape}"
        out.print(f"[dim]{task.label_names[task.labels[i]]}[/]  {shown!r}" if isinstance(x, str) else
                  f"[dim]{task.label_names[task.labels[i]]}[/]  {shown}")


@app.command("make-prefs")
def make_prefs(
    path: Annotated[str, typer.Option("--out", help="where to write the pairs (jsonl.gz)")] = "arithmetic-prefs.jsonl.gz",
    pairs: Annotated[int, typer.Option(min=10, help="how many pairs")] = 2000,
    model: Annotated[str, typer.Option(help="the chat model that writes the responses")] = "qwen-0.5b",
) -> None:
    """Build the prefs-arithmetic pairs: worked answers by a real model, labelled by computing the answer.

    Every request is cached, so an interrupted run picks up where it stopped (about an hour on 2 cores)."""
    from pathlib import Path

    from superalign.chat.client import get_chat_model
    from superalign.data import worked_arithmetic as wa
    from superalign.progress import progress_bar

    client = get_chat_model(model, concurrency=256)
    client.backend.max_sequences = getattr(client.backend, "max_sequences", None) or 32
    with progress_bar("pairs", total=pairs) as advance:
        last = [0]

        def report(n_pairs: int, n_problems: int) -> None:
            advance(n_pairs - last[0])
            last[0] = n_pairs

        rows = wa.make_pairs(pairs, client, generator=model, progress=report)
    wa.write_pairs(rows, Path(path))
    out.print(f"{len(rows)} pairs -> {path} ({client.usage.requests} requests, {client.usage.cached} from the cache)")


FETCHABLE = {"parables": "OpenAI evals' parable-to-moral file (taken out of its 46 MB wheel once; SHA-256 checked)"}


@app.command("fetch")
def fetch(name: Annotated[str, typer.Argument(help="what to fetch: parables")]) -> None:
    """Take a data file out of a registry package too large to install for it, once, into the data cache."""
    from superalign.errors import SuperalignError

    if name not in FETCHABLE:
        raise SuperalignError(f"nothing called {name!r} to fetch; use one of: {', '.join(FETCHABLE)}")
    from superalign.oversight.items import parables_file

    out.print(f"{FETCHABLE[name]} -> {parables_file()}")
