"""`superalign docs tables`: the results tables of the docs, written from the run store and stamped."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from superalign.cli.console import err
from superalign.errors import SuperalignError

app = typer.Typer(help="The documentation's generated parts.", no_args_is_help=True)


@app.command("tables")
def tables(
    run: Annotated[bool, typer.Option(help="run what each spec lacks in the store first (resumable)")] = False,
    page: Annotated[Optional[list[Path]], typer.Option(help="only these pages (default: every page in docs/)")] = None,
    root: Annotated[Path, typer.Option(help="the project root (holds docs/ and the specs)")] = Path("."),
    only: Annotated[Optional[str], typer.Option(help="only the blocks whose spec path contains this")] = None,
) -> None:
    """Write every `<!-- superalign:table spec=... -->` block of the docs from the store, with its stamp."""
    from superalign.report.docs import fill_page

    pages = page or sorted((root / "docs").glob("*.md"))
    if not pages:
        raise SuperalignError(f"no docs pages under {root / 'docs'}; run this from the project root or give --root")
    for path in pages:
        if not path.exists():
            raise SuperalignError(f"--page {path}: no such page")
        for filled in fill_page(path, root, run=run, only=only):
            state = "tabled" if filled.tabled else "not generated yet (run with --run)"
            if filled.kept:
                state = (f"kept as it was: the page tables {filled.kept} runs, this store has {filled.tabled} "
                         "(run with --run to make the rest here)")
            err.print(f"{path}: {filled.spec}: {filled.runs} runs ({filled.computed} run now), {state}")
