"""`superalign cache ls|clear`: the activation cache."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from superalign.cli.console import out
from superalign.models.cache import ActivationCache

app = typer.Typer(help="The activation cache.", no_args_is_help=True)


@app.command("ls")
def ls() -> None:
    """List cached feature matrices."""
    cache = ActivationCache()
    table = Table("key", "task", "encoder", "shape", "MB", "seconds to compute")
    total = 0
    for entry in cache.entries():
        meta = entry.meta
        total += entry.size_bytes
        table.add_row(entry.key[:12], str(meta.get("task", "?")), str(meta.get("encoder_name", "?")),
                      str(tuple(meta.get("shape", ()))), f"{entry.size_bytes / 1e6:.1f}", str(meta.get("seconds", "")))
    out.print(table)
    out.print(f"{cache.root}: {total / 1e6:.1f} MB")


@app.command("clear")
def clear(yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False) -> None:
    """Delete every cached feature matrix."""
    cache = ActivationCache()
    if not yes and not typer.confirm(f"delete all cached features in {cache.root}?"):
        raise typer.Abort()
    out.print(f"removed {cache.clear()} entries")
