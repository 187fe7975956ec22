"""Running a list of configs through the run store with a progress bar, the way every recording command ends:
what succeeded is printed by the caller, then one line of counts, then one error line if any run failed."""

from __future__ import annotations

from typing import Any, Callable

from superalign.cli.console import err
from superalign.errors import SuperalignError
from superalign.progress import progress_bar


def run_with_progress(label: str, configs: list[Any], run: Callable[..., list], describe: Callable[[Any], str],
                      **options) -> tuple[list, list[str]]:
    """`run(configs, on_done=..., **options)`; returns the outcomes and a line per failed run."""
    failures: list[str] = []
    with progress_bar(label, len(configs)) as advance:
        def done(config, outcome) -> None:
            advance(1)
            if not outcome.ok:
                failures.append(f"{describe(config)}: {outcome.error}")

        outcomes = run(configs, on_done=done, **options)
    return outcomes, failures


def finish(outcomes: list, failures: list[str]) -> None:
    err.print(f"{len(outcomes)} runs ({sum(o.cached for o in outcomes)} from the store)")
    if failures:
        raise SuperalignError(f"{len(failures)} of {len(outcomes)} runs failed (recorded); first: {failures[0]}")
