"""`superalign report`: a static HTML report with figures, from the run store only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from superalign.cli.console import err
from superalign.report.html import build_report


def report(
    out: Annotated[Path, typer.Option(help="output folder")] = Path("superalign-report"),
    method: Annotated[Optional[str], typer.Option(help="method for the per-pair figures (default: naive)")] = None,
) -> None:
    """Write index.html and figures (PNG and SVG) for every run in the store."""
    index = build_report(out, method=method)
    err.print(f"report written to {index}")
