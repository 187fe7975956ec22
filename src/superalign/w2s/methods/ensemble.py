"""An ensemble of weak teachers: bagged weak supervisors whose averaged labels supervise the student.

Each teacher is the weak model trained on a bootstrap resample of the supervisor's ground-truth data.
Disagreement-aware: an example's weight is one minus the teachers' mean total-variation distance from
their average, so the student leans on labels the teachers agree on.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from superalign.errors import SuperalignError
from superalign.w2s.heads import make_head
from superalign.w2s.method import METHODS, Method, MethodConfig, StudentSplit


class WeakEnsembleConfig(MethodConfig):
    n_teachers: int = Field(5, ge=2)
    disagreement_weighting: bool = True


@METHODS.register("weak-ensemble")
class WeakEnsemble(Method):
    """Bagged weak supervisors; their mean label, weighted by agreement, trains the student."""

    config_cls = WeakEnsembleConfig
    budget = "supervisor-gt-weak"  # retrains weak teachers on the supervisor's data, weak features only

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "WeakEnsemble":
        cfg, ctx = self.config, self.context
        lab = ctx.labelled
        if lab is None or transfer.weak_features is None:
            raise SuperalignError("method 'weak-ensemble' needs the weak features and labelled split (run it through the pipeline)")
        rng = np.random.default_rng(ctx.seed)
        teachers = []
        for t in range(cfg.n_teachers):
            sample = rng.integers(0, len(lab.labels), size=len(lab.labels))
            head = make_head("logistic", ctx.n_classes, ctx.seed + t).fit(lab.weak_features[sample], lab.labels[sample])
            teachers.append(head.predict_proba(transfer.weak_features))
        stack = np.stack(teachers)  # [teachers, n, k]
        self.mean_ = stack.mean(0)
        spread = 0.5 * np.abs(stack - self.mean_).sum(2).mean(0)  # [n] mean TV distance to the average
        self.weights_ = 1 - spread if cfg.disagreement_weighting else np.ones(len(spread))
        self.head_ = make_head(ctx.head, ctx.n_classes, ctx.seed).fit(transfer.features, self.mean_,
                                                                      sample_weight=self.weights_)
        return self

    def diagnostics(self, transfer_labels: np.ndarray) -> dict:
        right = self.mean_.argmax(1) == transfer_labels
        return {"ensemble_label_accuracy": float(right.mean()),
                "mean_weight_right": float(self.weights_[right].mean()) if right.any() else float("nan"),
                "mean_weight_wrong": float(self.weights_[~right].mean()) if (~right).any() else float("nan")}

