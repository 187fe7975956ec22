"""The `superalign` command: a thin layer over the library, one file per command (group).

Commands are imported only when they run: `superalign --help` lists them from the table below without
importing any (torch, transformers and scikit-learn stay unloaded), so start-up stays well under a second.
A `SuperalignError` (bad input, missing package, unknown name) prints one line and exits 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib
import sys

import click
import typer
import typer.main

from superalign.errors import SuperalignError

# name -> (module, attribute: a Typer group or a command function, one-line help for the command list)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "data": ("superalign.cli.data_cmd", "app", "Tasks: list them, or show one."),
    "models": ("superalign.cli.models_cmd", "app", "Encoders (the model ladder)."),
    "methods": ("superalign.cli.methods_cmd", "app", "Weak-to-strong methods and the labels each reads."),
    "embed": ("superalign.cli.embed_cmd", "embed", "Featurize a task with an encoder, through the activation cache."),
    "cache": ("superalign.cli.cache_cmd", "app", "The activation cache."),
    "run": ("superalign.cli.run_cmd", "run", "Weak-to-strong experiments; with no arguments, the offline default."),
    "results": ("superalign.cli.results_cmd", "results", "Summarise, and export, the recorded weak-to-strong runs."),
    "sweep": ("superalign.cli.sweep_cmd", "sweep", "Run what a sweep's grid lacks in the store (resumable)."),
    "report": ("superalign.cli.report_cmd", "report", "A static HTML report with figures, from the run store only."),
    "eval": ("superalign.cli.eval_cmd", "app", "Evaluation without labels: consistency, over-optimization, calibration."),
    "oversight": ("superalign.cli.oversight_cmd", "app", "Scalable oversight: debate, consultancy, critique, decomposition."),
    "decide": ("superalign.cli.decide_cmd", "decide_command", "Decision rules on a tree: choosable plans, pumps, shutdown manipulation."),
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[name]
        target = getattr(importlib.import_module(module), attribute)
        if not isinstance(target, typer.Typer):
            single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
            single.command(name)(target)
            target = single
        command = typer.main.get_command(target)
        command.name = name
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, _, help_) in COMMANDS.items()])


cli = LazyGroup(name="superalign", help="superalign: a workbench for superalignment research.",
                context_settings={"help_option_names": ["-h", "--help"]}, no_args_is_help=True)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except SuperalignError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
