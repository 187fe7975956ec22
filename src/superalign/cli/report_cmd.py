"""`superalign report`: a static HTML report with figures, from the run store only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from superalign.cli.console import err
from superalign.errors import SuperalignError
from superalign.report.html import build_report


def report(
    out: Annotated[Path, typer.Option(help="output folder")] = Path("superalign-report"),
    method: Annotated[Optional[str], typer.Option(help="method for the per-pair figures (default: naive)")] = None,
) -> None:
    """Write index.html and figures (PNG and SVG) for every run in the store."""
    try:  # before reading the store: a folder that cannot be made is the first thing to hear about
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SuperalignError(f"--out {out}: cannot create the folder ({exc.strerror}); choose a writable one") from None
    index = build_report(out, method=method)
    err.print(f"report written to {index}")
