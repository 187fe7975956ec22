"""`superalign results`: the recorded weak-to-strong runs, summarised, and exported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from superalign.cli.console import err
from superalign.cli.run_cmd import print_summary, print_violations
from superalign.errors import SuperalignError
from superalign.io import atomic_path
from superalign.engine.store import RunStore
from superalign.w2s.summary import flatten, markdown_table, summarize


def _kind_results(name: str, markdown: bool, failed: bool) -> None:
    from superalign.engine import KINDS

    kind = KINDS.get(name)
    store = RunStore()
    failures = store.records(kind=name, status="failed")
    if failed:
        for r in failures:
            print(f"{r['config_hash']}  {json.dumps(r['config'], sort_keys=True)[:160]}: {r['result'].get('error')}")
        err.print(f"{len(failures)} failed runs of kind {name}")
        return
    records = store.records(kind=name)
    if not records:
        raise SuperalignError(f"no runs of kind {name} recorded yet; run a spec of it with `superalign run SPEC.yaml`")
    table = kind.summarize(records)
    if markdown:
        print(table.markdown())
    else:
        from superalign.cli.console import out

        table.show(out)
    if failures:
        err.print(f"{len(failures)} failed run(s) not in the table: superalign results --kind {name} --failed")


def results(
    task: Annotated[Optional[str], typer.Option(help="only this task")] = None,
    export: Annotated[Optional[Path], typer.Option(help="write every run to a .csv or .parquet file")] = None,
    markdown: Annotated[bool, typer.Option(help="print the summary as a Markdown table (for READMEs, notes)")] = False,
    failed: Annotated[bool, typer.Option(help="list the failed runs and their errors instead")] = False,
    kind: Annotated[str, typer.Option(help="which kind of run to table (w2s, or any registered kind)")] = "w2s",
) -> None:
    """Summarise the run store: the kind's table of every recorded run (for w2s: one row per config, seeds pooled,
    accuracies and PGR with its interval)."""
    if kind != "w2s":
        return _kind_results(kind, markdown=markdown, failed=failed)
    if export is not None:  # checked before any work: a typo in a folder name is not a new folder
        if export.suffix.lower() not in (".csv", ".parquet"):
            raise SuperalignError(f"--export {export}: use a .csv or .parquet file name")
        if not export.parent.is_dir():
            raise SuperalignError(f"--export {export}: the folder {export.parent} does not exist; create it first")
    if failed:
        records = RunStore().records(kind="w2s", status="failed")
        for r in records:
            c = r["config"]
            print(f"{r['config_hash']}  {c['task']} {c['weak']}->{c['strong']} {c['method']} seed {c['seed']}: "
                  f"{r['result'].get('error')}")
        err.print(f"{len(records)} failed runs")
        return
    store = RunStore()
    recorded = store.records(kind="w2s")  # read once: the table, the export and the violations come from it
    df = flatten(recorded)
    if task:
        df = df[df["task"] == task]
    if df.empty:
        raise SuperalignError("no weak-to-strong runs recorded yet; run `superalign run` first")
    if markdown:
        print(markdown_table(summarize(df)))
    else:
        print_summary(summarize(df))
    print_violations([r for r in recorded if not task or r["config"]["task"] == task])
    if store.unreadable:
        err.print(f"[bold red]{len(store.unreadable)} stored run(s) unreadable[/] (damaged JSON, left out of the "
                  f"table): {', '.join(sorted(store.unreadable))}; delete them with sqlite3 {store.path} "
                  "\"DELETE FROM runs WHERE config_hash IN (...)\" and run again")
    if n_failed := len(store.records(kind="w2s", status="failed")):
        err.print(f"{n_failed} failed run(s) not in the table: superalign results --failed lists them, "
                  "superalign run ... --retry-failed runs them again")
    if export is not None:
        suffix = export.suffix.lower()
        df = df.drop(columns=["test_correct"])  # per-example strings: in the store, not in the export
        with atomic_path(export) as tmp:
            df.to_csv(tmp, index=False) if suffix == ".csv" else df.to_parquet(tmp, index=False)
        err.print(f"wrote {len(df)} runs to {export}")
