"""The agent's memory: every action, observation, hypothesis, reflection and note, in one SQLite file, with
retrieval by meaning (sentence embeddings from an offline encoder) so a long or resumed run finds what it learnt.

Entries are appended in transactions (a killed run loses at most the entry being written) and never edited.
Embeddings are stored as float32 bytes, never pickled.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

KINDS = ("hypothesis", "plan", "action", "observation", "reflection", "note", "flag", "final")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    step INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    data TEXT NOT NULL,
    created REAL NOT NULL,
    embedding BLOB
)"""


@dataclass
class Entry:
    id: int
    step: int
    kind: str
    text: str
    data: dict[str, Any]

    def line(self, width: int = 400) -> str:
        text = " ".join(self.text.split())
        return f"[{self.step}:{self.kind}] {text[:width]}{'...' if len(text) > width else ''}"


def minilm_embedder() -> Callable[[list[str]], np.ndarray]:
    """Unit-norm MiniLM-L3 sentence embeddings (onnxruntime, offline)."""
    from superalign.models.encoder import get_encoder

    encoder = get_encoder("minilm-l3")

    def embed(texts: list[str]) -> np.ndarray:
        x = np.asarray(encoder.encode(list(texts)), dtype=np.float32)
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)

    return embed


class Notebook:
    def __init__(self, path: Path, embed: Callable[[list[str]], np.ndarray] | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._embed = embed
        self._db = sqlite3.connect(self.path)
        self._db.execute(_SCHEMA)
        self._db.commit()

    def close(self) -> None:
        self._db.close()

    def add(self, step: int, kind: str, text: str, data: dict[str, Any] | None = None) -> Entry:
        if kind not in KINDS:
            raise ValueError(f"notebook entry kind {kind!r} is not one of {', '.join(KINDS)}")
        vector = self._embedding(text)
        with self._db:
            cur = self._db.execute(
                "INSERT INTO entries (step, kind, text, data, created, embedding) VALUES (?, ?, ?, ?, ?, ?)",
                (step, kind, text, json.dumps(data or {}, default=str), time.time(),
                 vector.tobytes() if vector is not None else None))
        return Entry(cur.lastrowid, step, kind, text, data or {})

    def _embedding(self, text: str) -> np.ndarray | None:
        if self._embed is None or not text.strip():
            return None
        return np.asarray(self._embed([text[:2000]])[0], dtype=np.float32)

    def entries(self, kind: str | None = None) -> list[Entry]:
        query = "SELECT id, step, kind, text, data FROM entries"
        rows = self._db.execute(query + (" WHERE kind = ? ORDER BY id" if kind else " ORDER BY id"),
                                (kind,) if kind else ()).fetchall()
        return [Entry(i, s, k, t, json.loads(d)) for i, s, k, t, d in rows]

    def recent(self, n: int) -> list[Entry]:
        return self.entries()[-n:]

    def search(self, query: str, k: int = 5, exclude: set[int] | None = None) -> list[Entry]:
        """The `k` entries nearest to `query` in meaning (falls back to word overlap without an embedder)."""
        rows = self._db.execute("SELECT id, step, kind, text, data, embedding FROM entries ORDER BY id").fetchall()
        rows = [r for r in rows if not exclude or r[0] not in exclude]
        if not rows or not query.strip():
            return []
        if self._embed is not None:
            q = self._embedding(query)
            scored = [(float(np.frombuffer(r[5], dtype=np.float32) @ q) if r[5] else -1.0, r) for r in rows]
        else:
            words = set(query.lower().split())
            scored = [(len(words & set(r[3].lower().split())) / (1 + len(words)), r) for r in rows]
        scored.sort(key=lambda item: -item[0])
        return [Entry(i, s, kd, t, json.loads(d)) for _, (i, s, kd, t, d, _e) in scored[:k]]
