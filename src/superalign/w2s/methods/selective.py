"""Selective weak-to-strong generalization (after Lang, Huang and Li): use weak supervision only where needed.

1. Self labels: the strong side's own answers, made without ground truth. With frozen features that is a
   student trained on the weak labels, cross-fitted over transfer so that each example's self label comes
   from a head that never saw that example's weak label (otherwise it would only echo it).
2. P(IK): a logistic classifier on strong features predicts where the self label is right. Its training
   signal is the only ground truth the method reads: on the supervisor's data (weak_train), is the
   self-labeller (trained on transfer's weak labels, which never include weak_train) right?
3. On transfer, where P(IK) > threshold the student trains on its self label; elsewhere on the weak label
   refined by graph smoothing over a kNN graph of strong features.

Step 2 reads the supervisor's ground truth together with strong features, so the budget is
`supervisor-gt-strong`; compare it with `strong-on-supervisor-labels`.
`selective-gt-probe` is the earlier variant whose self labels come from a strong probe trained on the
supervisor's ground truth (a small strong ceiling): same budget, listed for comparison only.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from superalign.errors import SuperalignError
from superalign.metrics import auroc
from superalign.w2s.heads import LogisticHead, make_head
from superalign.w2s.knn import knn_indices, smooth_labels
from superalign.w2s.method import METHODS, LabelledSplit, Method, MethodConfig, StudentSplit


class SelectiveConfig(MethodConfig):
    threshold: float = Field(0.5, ge=0, le=1, description="P(IK) above which the student keeps its own label")
    k: int = Field(10, ge=1, description="neighbours in the kNN graph for smoothing the weak labels")
    # Above 0.5, neighbours can outvote a confident wrong label; at or below it they never flip one.
    mix: float = Field(0.8, ge=0, lt=1, description="weight of the neighbours in graph smoothing")
    folds: int = Field(5, ge=2, description="cross-fitting folds for the self labels")


def cross_fitted(features: np.ndarray, labels: np.ndarray, n_classes: int, folds: int, seed: int) -> np.ndarray:
    """`[n, k]` predictions where each row comes from a logistic head trained on the other folds' labels."""
    assignment = np.random.default_rng(seed).integers(0, folds, size=len(features))
    out = np.zeros((len(features), n_classes), dtype=np.float32)
    for f in range(folds):
        held = assignment == f
        if held.any() and (~held).any():
            head = LogisticHead(n_classes=n_classes, seed=seed).fit(features[~held], labels[~held])
            out[held] = head.predict_proba(features[held])
    return out


@METHODS.register("selective")
class Selective(Method):
    """Selective W2SG: the student's own cross-fitted answers where P(IK) says it knows, smoothed weak labels elsewhere."""

    config_cls = SelectiveConfig
    budget = "supervisor-gt-strong"

    def self_labels(self, transfer: StudentSplit, lab: LabelledSplit) -> tuple[np.ndarray, np.ndarray]:
        """(`[n_transfer, k]` self labels on transfer, `[n_lab]` the self-labeller's answers on weak_train)."""
        k, seed = self.context.n_classes, self.context.seed
        on_transfer = cross_fitted(transfer.features, transfer.weak_probs, k, self.config.folds, seed)
        labeller = LogisticHead(n_classes=k, seed=seed).fit(transfer.features, transfer.weak_probs)
        return on_transfer, labeller.predict(lab.features)

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "Selective":
        cfg, ctx = self.config, self.context
        lab = ctx.labelled
        if lab is None or lab.features is None:
            raise SuperalignError(f"method {type(self).__name__}: needs the supervisor's labelled split with strong "
                                  "features (run it through the pipeline)")
        k = ctx.n_classes
        own, answers_on_lab = self.self_labels(transfer, lab)
        correct = (answers_on_lab == lab.labels).astype(np.int64)  # P(IK)'s target: is the self label right?
        if correct.min() == correct.max():  # always right (or always wrong): P(IK) is that constant
            pik = np.full(len(transfer.features), float(correct[0]))
        else:
            pik = LogisticHead(n_classes=2, seed=ctx.seed).fit(lab.features, correct).predict_proba(transfer.features)[:, 1]
        self.self_mask_ = pik > cfg.threshold
        self.self_labels_ = np.eye(k, dtype=np.float32)[own.argmax(1)]
        self.smoothed_ = smooth_labels(transfer.weak_probs, knn_indices(transfer.features, cfg.k), cfg.mix)
        self.targets_ = np.where(self.self_mask_[:, None], self.self_labels_, self.smoothed_)
        self.pik_ = pik
        self.weak_probs_ = transfer.weak_probs
        self.head_ = make_head(ctx.head, k, ctx.seed).fit(transfer.features, self.targets_)
        return self

    def diagnostics(self, transfer_labels: np.ndarray) -> dict:
        mask = self.self_mask_

        def acc(labels, where):
            return float((labels[where].argmax(1) == transfer_labels[where]).mean()) if where.any() else float("nan")

        own_right = self.self_labels_.argmax(1) == transfer_labels
        return {"fraction_self_labelled": float(mask.mean()),
                "self_label_accuracy": acc(self.self_labels_, mask),
                "smoothed_weak_accuracy_elsewhere": acc(self.smoothed_, ~mask),
                "raw_weak_accuracy_elsewhere": acc(self.weak_probs_, ~mask),
                "smoothed_weak_accuracy_all": acc(self.smoothed_, np.ones_like(mask)),
                "raw_weak_accuracy_all": acc(self.weak_probs_, np.ones_like(mask)),
                "pik_auroc": auroc(np.stack([1 - self.pik_, self.pik_], 1), own_right.astype(int))}


@METHODS.register("selective-gt-probe")
class SelectiveGtProbe(Selective):
    """Selective W2SG variant whose self labels come from a strong probe trained on the supervisor's ground truth."""

    def self_labels(self, transfer: StudentSplit, lab: LabelledSplit) -> tuple[np.ndarray, np.ndarray]:
        k, seed = self.context.n_classes, self.context.seed
        probe = LogisticHead(n_classes=k, seed=seed).fit(lab.features, lab.labels)
        # on weak_train the probe is cross-fitted, so P(IK) learns where it is right on examples it did not see
        answers = cross_fitted(lab.features, lab.labels, k, self.config.folds, seed).argmax(1)
        return probe.predict_proba(transfer.features), answers
