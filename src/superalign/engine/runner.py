"""One grid runner for every kind: validate, skip what the store has, prepare once, run the rest with an executor,
record every outcome from this process (one writer), and return the records in the order of the configs.

A killed run resumes with exactly the missing runs (the store is keyed by config, records are written as each run
finishes); a failed run is recorded with its error and retried only with `retry_failed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import BaseModel

from superalign.engine.executors import check_executor, run_with
from superalign.engine.kind import Kind
from superalign.engine.spec import config_key
from superalign.engine.get_or_run import Outcome, adopt_legacy, needs_run
from superalign.engine.record import git_revision, make_record, package_versions
from superalign.engine.store import RunStore

Progress = Callable[[str, int], Callable[[], None]]


@dataclass
class GridResult:
    total: int  # configs in the grid
    stored: int  # already in the store (ok, or failed and not retried)
    done: int = 0  # run now and ok
    failed: int = 0  # run now and failed
    records: list[dict[str, Any]] = field(default_factory=list)  # one per config, in order
    computed: set[int] = field(default_factory=set)  # indices of the configs run now (the rest came from the store)

    def outcomes(self) -> list[Outcome]:
        """One `Outcome` per config, in order: its record, and whether it came from the store."""
        return [Outcome(record, cached=i not in self.computed) for i, record in enumerate(self.records)]

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r and r.get("status") == "failed"]


def _keys_and_statuses(kind: Kind, configs: list[BaseModel], store: RunStore) -> tuple[list[str], dict[str, str]]:
    """Each config's key, and every stored run's status; records of earlier versions under another key format are
    copied under the engine's key first (once), so they count as stored."""
    keys = [config_key(kind, c) for c in configs]
    statuses = store.statuses()
    if kind.legacy_keys is not None:
        for config, key in zip(configs, keys):
            if key not in statuses and adopt_legacy(store, key, kind.legacy_keys(config.model_dump(mode="json"))):
                statuses[key] = "ok"
    return keys, statuses


def run_grid(kind: Kind, configs: list[BaseModel], store: RunStore | None = None, executor: str = "local",
             jobs: int = 1, address: str | None = None, retry_failed: bool = False, refresh: bool = False,
             progress: Progress | None = None) -> GridResult:
    """Runs every config of `kind` the store lacks (all with `refresh`; failed ones with `retry_failed`) with the
    executor (`local`, `process` with `jobs` workers, or `ray`, at `address` for a cluster), records each outcome
    as it finishes, and returns every config's record in order."""
    store = store or RunStore()
    check_executor(executor, jobs)
    kind.check(configs)
    keys, statuses = _keys_and_statuses(kind, configs, store)
    todo = [i for i, key in enumerate(keys) if refresh or needs_run(statuses.get(key), retry_failed=retry_failed)]
    summary = GridResult(total=len(configs), stored=len(configs) - len(todo), computed=set(todo))
    if todo:
        # Read once, now: a long run's records name the code it started with, not a commit made while it ran.
        git_revision(), package_versions()
        if kind.prepare is not None:
            kind.prepare([configs[i] for i in todo], progress or (lambda label, total: lambda: None))
        tick = progress("runs", len(todo)) if progress else (lambda: None)
        payloads = [configs[i].model_dump(mode="json") for i in todo]

        def on_outcome(position: int, outcome: dict[str, Any]) -> None:
            index = todo[position]
            if outcome.get("ok"):
                store.put(make_record(kind.name, payloads[position], keys[index], outcome["result"],
                                      seconds=outcome.get("seconds")))
                summary.done += 1
            else:
                store.put(make_record(kind.name, payloads[position], keys[index],
                                      {"error": outcome["error"], "traceback": outcome.get("traceback")},
                                      status="failed"))
                summary.failed += 1
            tick()

        run_with(executor, kind.name, payloads, on_outcome, jobs=jobs, address=address, cpus=kind.cpus,
                 gpus=kind.gpus, resources=kind.resources)
    summary.records = [store.get(key) for key in keys]
    return summary


def stored_records(kind: Kind, configs: list[BaseModel], store: RunStore | None = None) -> list[dict[str, Any] | None]:
    """The stored record of each config (None where there is none), computing nothing."""
    store = store or RunStore()
    keys, _ = _keys_and_statuses(kind, configs, store)
    return [store.get(key) for key in keys]
