"""The `superalign` command: a thin layer over the library, one file per command group.

A `SuperalignError` (bad input, missing package, unknown name) prints one line and exits 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import typer

from superalign.cli import cache_cmd, data_cmd, decide_cmd, embed_cmd, eval_cmd, methods_cmd, models_cmd, oversight_cmd, report_cmd, results_cmd, run_cmd, sweep_cmd
from superalign.errors import SuperalignError

app = typer.Typer(help="superalign: a workbench for superalignment research.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
app.add_typer(data_cmd.app, name="data")
app.add_typer(models_cmd.app, name="models")
app.add_typer(methods_cmd.app, name="methods")
app.add_typer(cache_cmd.app, name="cache")
app.add_typer(eval_cmd.app, name="eval")
app.add_typer(oversight_cmd.app, name="oversight")
app.command("embed")(embed_cmd.embed)
app.command("run")(run_cmd.run)
app.command("results")(results_cmd.results)
app.command("decide")(decide_cmd.decide_command)
app.command("sweep")(sweep_cmd.sweep)
app.command("report")(report_cmd.report)


def main() -> None:
    try:
        app()
    except SuperalignError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
