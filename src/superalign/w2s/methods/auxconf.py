"""`aux-conf`: the auxiliary confidence loss of Burns et al. (2023), on the same head and optimizer as `naive`.

The loss mixes the weak labels with the student's own hardened predictions,
    target = (1 - a) * weak + a * harden(student),
where the student's predictions are treated as constants (stop-gradient in the paper). Here that is solved
by alternating minimisation: round 0 fits the student on the weak labels (exactly `naive`), and each later
round refits the *same* head, with the same optimizer and the same regularisation selection, to the mixed
target built from the previous round's predictions, with `a` ramping up to `aux_coef`. So `aux_coef=0`
reproduces `naive` exactly, and any difference from `naive` is the auxiliary term's doing.
Hardening is argmax for several classes; for two classes it thresholds at the quantile that matches the
weak labels' positive rate (the paper's adaptive threshold).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from superalign.w2s.heads import make_head
from superalign.w2s.method import METHODS, Method, MethodConfig, StudentSplit


class AuxConfConfig(MethodConfig):
    aux_coef: float = Field(0.75, ge=0, le=1, description="final weight of the student's own hardened labels")
    rounds: int = Field(4, ge=1, description="refits on the mixed target after the first fit on weak labels")
    warmup_rounds: int = Field(2, ge=1, description="rounds over which the weight ramps linearly up to aux_coef")


def harden(student: np.ndarray, weak: np.ndarray) -> np.ndarray:
    """`[n, k]` one-hot labels from the student's `[n, k]` probabilities (adaptive threshold for two classes)."""
    n, k = student.shape
    if k != 2:
        return np.eye(k, dtype=np.float32)[student.argmax(1)]
    positive_rate = float(weak[:, 1].mean())
    threshold = np.quantile(student[:, 1], 1 - positive_rate) if 0 < positive_rate < 1 else 0.5
    return np.eye(2, dtype=np.float32)[(student[:, 1] > threshold).astype(int)]


@METHODS.register("aux-conf")
class AuxConf(Method):
    """Auxiliary confidence loss (Burns et al.): weak labels mixed with the student's hardened predictions."""

    config_cls = AuxConfConfig
    budget = "weak-labels"

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "AuxConf":
        cfg, ctx = self.config, self.context
        weak = transfer.weak_probs  # [n, k]
        head = make_head(ctx.head, ctx.n_classes, ctx.seed).fit(transfer.features, weak)  # round 0 = naive
        self.alphas_: list[float] = []
        target = weak
        for round_ in range(1, cfg.rounds + 1):
            alpha = cfg.aux_coef * min(1.0, round_ / cfg.warmup_rounds)
            self.alphas_.append(alpha)
            student = head.predict_proba(transfer.features)
            target = (1 - alpha) * weak + alpha * harden(student, weak)
            head = make_head(ctx.head, ctx.n_classes, ctx.seed).fit(transfer.features, target)
        self.head_ = head
        self.weak_probs_, self.final_target_ = weak, target
        return self

    def diagnostics(self, transfer_labels: np.ndarray) -> dict:
        moved = self.final_target_.argmax(1) != self.weak_probs_.argmax(1)
        right = self.final_target_.argmax(1) == transfer_labels
        return {"fraction_target_differs_from_weak": float(moved.mean()),
                "final_target_accuracy": float(right.mean()),
                "weak_label_accuracy": float((self.weak_probs_.argmax(1) == transfer_labels).mean())}
