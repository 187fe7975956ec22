"""`superalign models list`: the registered encoders."""

from __future__ import annotations

import typer
from rich.table import Table

from superalign.cli.console import out
from superalign.models.encoder import ENCODERS, encoder_names

app = typer.Typer(help="Encoders (the model ladder).", no_args_is_help=True)


@app.command("list")
def list_models() -> None:
    """List the registered encoders (plus hf:, st:, pca: prefixes)."""
    table = Table("encoder", "description")
    for name in encoder_names():
        table.add_row(name, ENCODERS.help(name))
    table.add_row("hf:MODEL?layer=L&pooling=mean|last", "hidden states of any Hugging Face model id or path")
    table.add_row("st:MODEL", "any sentence-transformers model id or path")
    table.add_row("pca:K", "first K principal components of raw values (image/tabular)")
    out.print(table)
