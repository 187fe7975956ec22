"""The run store: SQLite in the runs directory, one row per run keyed by config hash.

SQLite in WAL mode with a busy timeout is safe for concurrent writers (processes of a sweep);
each record is written in one transaction, so a killed writer leaves either the whole record or none.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any, Iterable

from superalign.errors import SuperalignError
from superalign.paths import runs_dir

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    config_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,          -- ok | failed
    created REAL NOT NULL,
    record TEXT NOT NULL           -- the full JSON record
);
CREATE INDEX IF NOT EXISTS runs_kind ON runs(kind);
"""


class RunStore:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else runs_dir() / "runs.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as conn, conn:
            conn.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=60)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=60000")
            return conn
        except sqlite3.DatabaseError as exc:
            raise SuperalignError(f"{self.path}: not a readable run store ({exc}); move it aside or set SUPERALIGN_RUNS") from exc

    def has(self, config_hash: str, include_failed: bool = False) -> bool:
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT status FROM runs WHERE config_hash = ?", (config_hash,)).fetchone()
        return row is not None and (include_failed or row[0] == "ok")

    def get(self, config_hash: str) -> dict[str, Any] | None:
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT record FROM runs WHERE config_hash = ?", (config_hash,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, record: dict[str, Any], status: str = "ok") -> None:
        text = json.dumps(record, sort_keys=True, default=str, allow_nan=True)
        with closing(self._connect()) as conn, conn:
            conn.execute(
                "INSERT OR REPLACE INTO runs (config_hash, kind, status, created, record) VALUES (?, ?, ?, ?, ?)",
                (record["config_hash"], record["kind"], status, record["created"], text),
            )

    def records(self, kind: str | None = None, status: str | None = "ok") -> list[dict[str, Any]]:
        query, args = "SELECT record FROM runs WHERE 1=1", []
        if kind:
            query += " AND kind = ?"
            args.append(kind)
        if status:
            query += " AND status = ?"
            args.append(status)
        with closing(self._connect()) as conn:
            return [json.loads(row[0]) for row in conn.execute(query + " ORDER BY created", args)]

    def statuses(self) -> dict[str, str]:
        """config hash -> status, for every stored run."""
        with closing(self._connect()) as conn:
            return dict(conn.execute("SELECT config_hash, status FROM runs").fetchall())

    def count(self) -> int:
        with closing(self._connect()) as conn:
            return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]


def flatten_w2s(records: Iterable[dict[str, Any]]):
    """One row per weak-to-strong run: config columns and the headline metrics, as a pandas DataFrame."""
    import pandas as pd

    rows = []
    for r in records:
        cfg, res = r["config"], r["result"]
        m = res["metrics"]
        rows.append({
            "config_hash": r["config_hash"], "task": cfg["task"], "weak": cfg["weak"], "strong": cfg["strong"],
            "method": cfg["method"], "head": cfg["head"], "seed": cfg["seed"],
            "weak_acc": m["weak"]["accuracy"], "student_acc": m["student"]["accuracy"],
            "ceiling_acc": m["ceiling"]["accuracy"], "pgr": res["pgr"], "gap": res["gap"],
            "student_auroc": m["student"]["auroc"], "student_ece": m["student"]["ece"],
            "agreement": res["student_weak_agreement"], "copied_mistakes": res["copied_weak_mistakes"],
            "validation": res.get("validation"), "git_revision": r.get("git_revision"),
            "seconds": sum(res.get("timings", {}).values()),
            "weak_params": _size(res, "weak"),
            "strong_params": _size(res, "strong"),
        })
    return pd.DataFrame(rows)


def _size(result: dict[str, Any], which: str) -> float:
    """Parameter count, or the feature dimension for parameter-free encoders (raw values, PCA)."""
    params = result.get("params", {}).get(which)
    if params:
        return float(params)
    dims = result.get("dims", {}).get(which)
    return float(dims) if dims else float("nan")


def load_results(path: Path | None = None):
    """All weak-to-strong run records of the store as a pandas DataFrame."""
    return flatten_w2s(RunStore(path).records(kind="w2s"))
