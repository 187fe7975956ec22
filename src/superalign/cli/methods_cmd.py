"""`superalign methods list`: the weak-to-strong methods and their options."""

from __future__ import annotations

import typer
from rich.table import Table

from superalign.cli.console import out
from superalign.w2s.method import METHODS, method_names

app = typer.Typer(help="Weak-to-strong methods.", no_args_is_help=True)


@app.command("list")
def list_methods() -> None:
    """List the registered methods with their options (set them with -o KEY=VALUE)."""
    table = Table("method", "labels read", "description", "options (default)")
    for name in method_names():
        cls = METHODS.get(name)
        options = ", ".join(f"{k}={f.default}" for k, f in cls.config_cls.model_fields.items())
        table.add_row(name, cls.budget, METHODS.help(name), options)
    out.print(table)
