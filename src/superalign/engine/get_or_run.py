"""Run it unless the store has it: the one place that decides whether a stored run counts as done.

Every command (run, sweep, eval, oversight) goes through `get_or_run` (or, for executors that compute in
other processes, through `needs_run` and `failed_result`). A failed run is recorded with its error and
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


def get_or_run(store: RunStore, kind: str, config: dict[str, Any], key: str, compute: Callable[[], dict[str, Any]],
               refresh: bool = False, retry_failed: bool = False) -> Outcome:
    """The stored record for `key`, or `compute()` recorded under it (a raised exception is recorded as failed)."""
    stored = None if refresh else store.get(key)
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
