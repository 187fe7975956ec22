"""The weak supervisor: where a weak-to-strong run's weak labels come from.

A supervisor is fitted on the `weak_train` split's ground truth (the only ground truth it may read) and then
labels any inputs: `fit(x_weak, inputs, labels) -> self`, `predict_proba(x_weak, inputs) -> [n, k]`. The
pipeline asks it for the soft labels of `transfer` and `val` (what the student learns from and selects on)
and for its predictions on `test` (the "weak" accuracy of PGR).

    classifier    (default) a head on the weak encoder's features, trained on weak_train ground truth
    judge         a language-model judge's verdicts under an oversight protocol (direct, consultancy, debate),
                  calibrated on weak_train; registered by `superalign.oversight.supervisor` through the
                  `superalign.supervisors` entry-point group, so this module knows nothing of oversight

Third-party supervisors register the same way (`[project.entry-points."superalign.supervisors"]`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from superalign.errors import SuperalignError
from superalign.registry import Registry

DEFAULT_SUPERVISOR = "classifier"


class Supervisor:
    """Labels inputs for the student; `reads` says which ground truth it was fitted on (for the record)."""

    reads: ClassVar[str] = "weak_train ground truth"

    def __init__(self, options: dict[str, Any], n_classes: int, label_names: list[str], head: str, seed: int):
        self.options, self.n_classes, self.label_names, self.head, self.seed = \
            options, n_classes, label_names, head, seed

    @classmethod
    def validate(cls, options: dict[str, Any]) -> None:
        """Raises a SuperalignError naming a bad option (called before any work is done)."""

    def fit(self, x_weak: np.ndarray, inputs: list, labels: np.ndarray) -> "Supervisor":
        raise NotImplementedError

    def predict_proba(self, x_weak: np.ndarray, inputs: list | None = None) -> np.ndarray:
        raise NotImplementedError

    def diagnostics(self) -> dict[str, Any]:
        """What the record keeps about the supervisor besides its accuracy (none of it read by the student)."""
        return {}


SUPERVISORS: Registry[type[Supervisor]] = Registry("supervisor", entry_points="superalign.supervisors")


@SUPERVISORS.register("classifier")
class ClassifierSupervisor(Supervisor):
    """A head (logistic or MLP, as the run's `head`) on the weak encoder's features."""

    @classmethod
    def validate(cls, options):
        if options:
            raise SuperalignError(f"the classifier supervisor takes no options; remove {sorted(options)}")

    def fit(self, x_weak, inputs, labels):
        from superalign.w2s.heads import make_head

        self.validate(self.options)
        self.head_ = make_head(self.head, self.n_classes, self.seed).fit(x_weak, labels)
        return self

    def predict_proba(self, x_weak, inputs=None):
        return self.head_.predict_proba(x_weak)


def make_supervisor(name: str, options: dict[str, Any], n_classes: int, label_names: list[str], head: str,
                    seed: int) -> Supervisor:
    return SUPERVISORS.get(name)(dict(options), n_classes, list(label_names), head, seed)
