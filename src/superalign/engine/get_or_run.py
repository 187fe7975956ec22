"""Run it unless the store has it: the one place that decides whether a stored run counts as done.

The grid runner decides with `needs_run` (its executors compute in other processes); `get_or_run` serves code that
computes in process with objects a config cannot name (oversight's `run_protocol` with its chat clients). A failed run is recorded with its error and
is not retried unless asked (`retry_failed`); it never looks like a finished run to a later command.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Callable

from superalign.engine.record import make_record
from superalign.engine.store import RunStore


@dataclass
class Outcome:
    record: dict[str, Any]
    cached: bool  # read from the store rather than computed now

    @property
    def ok(self) -> bool:
        return self.record["status"] == "ok"

    @property
    def error(self) -> str | None:
        return None if self.ok else self.record["result"].get("error", "unknown error")

    @property
    def result(self) -> dict[str, Any]:
        return self.record["result"]


def needs_run(stored: dict[str, Any] | str | None, refresh: bool = False, retry_failed: bool = False) -> bool:
    """Whether to compute, given the stored record (or its status): missing, refreshed, or failed and retried."""
    status = stored.get("status", "ok") if isinstance(stored, dict) else stored
    return refresh or status is None or (status != "ok" and retry_failed)


def failed_result(exc: BaseException) -> dict[str, Any]:
    return {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}


def adopt_legacy(store: RunStore, key: str, old_keys: list[str]) -> dict[str, Any] | None:
    """A finished record of this run under a key of an earlier version, copied under `key` (once), or None."""
    for old in old_keys:
        if (record := store.get(old)) is not None and record.get("status") == "ok":
            record = {**record, "config_hash": key, "legacy_key": old}
            store.put(record)
            return record
    return None


def get_or_run(store: RunStore, kind: str, config: dict[str, Any], key: str, compute: Callable[[], dict[str, Any]],
               refresh: bool = False, retry_failed: bool = False, legacy_keys: list[str] = ()) -> Outcome:
    """The stored record for `key` (or for one of its `legacy_keys`, re-keyed), or `compute()` recorded under it
    (a raised exception is recorded as failed)."""
    stored = None if refresh else (store.get(key) or adopt_legacy(store, key, list(legacy_keys)))
    if not needs_run(stored, refresh, retry_failed):
        return Outcome(stored, cached=True)
    try:
        result, status = compute(), "ok"
    except ImportError:  # a missing package is this machine's state, not the run's: nothing to record or retry
        raise
    except Exception as exc:  # recorded, not lost; KeyboardInterrupt still stops the run
        result, status = failed_result(exc), "failed"
    record = make_record(kind, config, key, result, status)
    store.put(record)
    return Outcome(record, cached=False)
