"""The run store: SQLite in the runs directory, one row per run keyed by config hash.

SQLite in WAL mode with a busy timeout is safe for concurrent writers (processes of a sweep);
each record is written in one transaction, so a killed writer leaves either the whole record or none.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

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
        self.unreadable: set[str] = set()  # config hashes of rows whose JSON could not be read
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SuperalignError(f"cannot create the run store's folder {self.path.parent} ({exc.strerror}); "
                                  "set SUPERALIGN_RUNS (or SUPERALIGN_HOME) to a writable folder") from exc
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

    def get(self, config_hash: str) -> dict[str, Any] | None:
        """The stored record (ok or failed: look at its `status`), or None."""
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT record, status FROM runs WHERE config_hash = ?", (config_hash,)).fetchone()
        return None if row is None else _with_status(row)

    def put(self, record: dict[str, Any]) -> None:
        """Stores a record under its config hash (replacing any earlier one), with its `status` (default ok)."""
        record.setdefault("status", "ok")
        text = json.dumps(record, sort_keys=True, default=str, allow_nan=True)
        with closing(self._connect()) as conn, conn:
            conn.execute(
                "INSERT OR REPLACE INTO runs (config_hash, kind, status, created, record) VALUES (?, ?, ?, ?, ?)",
                (record["config_hash"], record["kind"], record["status"], record["created"], text),
            )

    def records(self, kind: str | None = None, status: str | None = "ok") -> list[dict[str, Any]]:
        query, args = "SELECT record, status, config_hash FROM runs WHERE 1=1", []
        if kind:
            query += " AND kind = ?"
            args.append(kind)
        if status:
            query += " AND status = ?"
            args.append(status)
        with closing(self._connect()) as conn:
            rows = conn.execute(query + " ORDER BY created", args).fetchall()
        records = []
        for record, status_, config_hash in rows:
            try:
                records.append(_with_status((record, status_)))
            except ValueError:  # one damaged row must not hide the others: counted and named instead
                self.unreadable.add(config_hash)
        return records

    def kinds(self) -> list[str]:
        """The kinds with at least one successful run, in order of their first run."""
        with closing(self._connect()) as conn:
            rows = conn.execute("SELECT kind FROM runs WHERE status = 'ok' GROUP BY kind ORDER BY MIN(created)")
            return [kind for (kind,) in rows.fetchall()]

    def statuses(self) -> dict[str, str]:
        """config hash -> status, for every stored run."""
        with closing(self._connect()) as conn:
            return dict(conn.execute("SELECT config_hash, status FROM runs").fetchall())

    def count(self) -> int:
        with closing(self._connect()) as conn:
            return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]


def _with_status(row: tuple[str, str]) -> dict[str, Any]:
    """The status column is the truth (records written before it was copied into the JSON lack the field)."""
    record = json.loads(row[0])
    record["status"] = row[1]
    return record
