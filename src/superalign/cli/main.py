"""The `superalign` command: a thin layer over the library, one file per command (group).

Commands are imported only when they run: `superalign COMMAND ...` builds a Typer app holding that command
alone, and `superalign --help` prints the table below without importing any (torch, transformers and
scikit-learn stay unloaded), so start-up stays well under a second.
A `SuperalignError` (bad input, missing package, unknown name) prints one line and exits 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
import importlib
import sys

import typer

from superalign.errors import SuperalignError

HELP = "superalign: a workbench for superalignment research."

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
    "alc": ("superalign.cli.alc_cmd", "app", "Attacker-learner-critic loop against equal-budget baselines."),
    "probe": ("superalign.cli.probe_cmd", "app", "Safety probes: backdoored supervisors, strong-to-weak deception."),
    "researcher": ("superalign.cli.researcher_cmd", "app", "An automated alignment researcher (sandboxed) vs search baselines."),
    "decide": ("superalign.cli.decide_cmd", "decide_command", "Decision rules on a tree: choosable plans, pumps, shutdown manipulation."),
    "shutdown": ("superalign.cli.shutdown_cmd", "app", "Shutdownable agents: DReST versus the default reward in gridworlds."),
}


def build_app(name: str | None = None) -> typer.Typer:
    """A Typer app with the command `name` only (every command when None): only its module is imported."""
    app = typer.Typer(help=HELP, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def root() -> None:  # a callback keeps the app a group even with one command registered
        pass

    for command in [name] if name else COMMANDS:
        module, attribute, _ = COMMANDS[command]
        target = getattr(importlib.import_module(module), attribute)
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=command)
        else:
            app.command(command)(target)
    return app


def _print_help() -> None:
    width = max(map(len, COMMANDS)) + 2
    lines = ["Usage: superalign COMMAND [ARGS]...", "", f"  {HELP}", "", "Commands:"]
    lines += [f"  {name.ljust(width)}{help_}" for name, (_, _, help_) in COMMANDS.items()]
    lines += ["", "Run `superalign COMMAND --help` for a command's options."]
    print("\n".join(lines))


def main(args: list[str] | None = None) -> None:
    args = sys.argv[1:] if args is None else args
    name = next((a for a in args if not a.startswith("-")), None)
    try:
        if name is None:  # `superalign`, `superalign --help`: the table, without importing any command
            _print_help()
            sys.exit(0 if args else 2)
        if name not in COMMANDS:
            close = difflib.get_close_matches(name, list(COMMANDS), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise SuperalignError(f"unknown command {name!r}; {hint}commands: {', '.join(COMMANDS)}")
        build_app(name)(args=args, prog_name="superalign")
    except SuperalignError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
