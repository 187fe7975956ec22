"""What the attacker, the critic and the learner pass between them: unlabelled inputs with their features."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Queries:
    """Inputs the attacker chose or wrote: rows of the transfer pool (`source` = their row, `kind` = "pool") or
    rewrites of such rows (`kind` = the rewrite: paraphrase, distractor, negation). No labels."""

    inputs: list[Any]
    x_weak: np.ndarray  # [m, d_weak]
    x_strong: np.ndarray  # [m, d_strong]
    source: np.ndarray  # [m] the transfer row each query is, or rewrites
    kind: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.source = np.asarray(self.source, dtype=int)
        if not self.kind:
            self.kind = ["pool"] * len(self.source)

    def __len__(self) -> int:
        return len(self.source)

    @property
    def generated(self) -> np.ndarray:
        return np.asarray([k != "pool" for k in self.kind], dtype=bool)

    @property
    def flipped(self) -> np.ndarray:
        """Rewrites meant to have the opposite label of their source (negations)."""
        return np.asarray([k == "negation" for k in self.kind], dtype=bool)

    def take(self, rows: np.ndarray) -> "Queries":
        rows = np.asarray(rows, dtype=int)
        return Queries([self.inputs[i] for i in rows], self.x_weak[rows], self.x_strong[rows], self.source[rows],
                       [self.kind[i] for i in rows])

    @staticmethod
    def concat(parts: list["Queries"]) -> "Queries":
        parts = [p for p in parts if len(p)]
        if not parts:
            raise ValueError("no queries to concatenate")
        return Queries([x for p in parts for x in p.inputs], np.concatenate([p.x_weak for p in parts]),
                       np.concatenate([p.x_strong for p in parts]), np.concatenate([p.source for p in parts]),
                       [k for p in parts for k in p.kind])


@dataclass
class Pool:
    """The transfer set as the loop sees it: inputs and features, no labels; the weak supervisor's soft labels."""

    inputs: list[Any]
    x_weak: np.ndarray  # [n, d_weak]
    x_strong: np.ndarray  # [n, d_strong]
    weak_probs: np.ndarray  # [n, k] the weak supervisor's labels (what naive W2S trains on)

    def __len__(self) -> int:
        return len(self.x_strong)

    def queries(self, rows: np.ndarray) -> Queries:
        rows = np.asarray(rows, dtype=int)
        return Queries([self.inputs[i] for i in rows], self.x_weak[rows], self.x_strong[rows], rows)


@dataclass
class Supervision:
    """The supervisor's own ground truth (weak_train): what the weak supervisor was trained on, and what a
    critic may calibrate on. Never transfer, validation or test labels."""

    inputs: list[Any]
    x_weak: np.ndarray
    labels: np.ndarray
    label_names: list[str]
    description: str
