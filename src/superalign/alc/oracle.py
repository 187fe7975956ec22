"""The expert budget: the loop's only source of ground truth, and only for transfer examples.

The oracle is built from the transfer labels alone (it never holds validation or test labels), counts every
label it hands out, and refuses to exceed its budget. A generated input gets the label of the transfer
example it rewrites (flipped for a negation), or its computed label where the task computes labels; either
way it costs one label.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from superalign.errors import SuperalignError


class BudgetExceeded(SuperalignError):
    pass


class ExpertOracle:
    def __init__(self, transfer_labels: np.ndarray, budget: int, computed_label: Callable[[str], int | None] | None = None):
        self._labels = np.asarray(transfer_labels).copy()
        self.budget = int(budget)
        self.spent = 0
        self._computed_label = computed_label
        self.bought: list[int] = []  # transfer rows labelled (or the sources of labelled rewrites)

    @property
    def left(self) -> int:
        return self.budget - self.spent

    def _charge(self, n: int) -> None:
        if n > self.left:
            raise BudgetExceeded(f"expert budget: asked for {n} labels with {self.left} of {self.budget} left")
        self.spent += n

    def label_pool(self, rows: np.ndarray) -> np.ndarray:
        """Ground truth of transfer rows `[m]`, charged to the budget."""
        rows = np.asarray(rows, dtype=int)
        self._charge(len(rows))
        self.bought += rows.tolist()
        return self._labels[rows]

    def label_generated(self, texts: list[str], sources: np.ndarray, flipped: np.ndarray) -> np.ndarray:
        """Ground truth of rewritten inputs: computed where the task computes labels, else the source's label
        (flipped for a negation, binary tasks only)."""
        self._charge(len(texts))
        sources = np.asarray(sources, dtype=int)
        self.bought += sources.tolist()
        if self._computed_label is not None:
            labels = [self._computed_label(t) for t in texts]
            if any(label is None for label in labels):
                raise SuperalignError("expert: a generated input has no computed label (it should have been rejected)")
            return np.asarray(labels)
        labels = self._labels[sources]
        return np.where(np.asarray(flipped, dtype=bool), 1 - labels, labels)
