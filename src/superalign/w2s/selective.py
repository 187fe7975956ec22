"""Selective weak-to-strong generalization (after Lang, Huang and Li): use weak supervision only where needed.

1. The strong model's own labels: a probe on strong features trained on the supervisor's ground-truth
   data (`weak_train`), cross-fitted there so each labelled example is judged by a probe that did not
   see it. Whether that probe is right is the P(IK) training signal.
2. P(IK): a logistic classifier on strong features predicts, per example, that the strong model knows.
3. On transfer, where P(IK) > threshold the student trains on its own (hard) label; elsewhere on the
   weak label refined by graph smoothing over a kNN graph of strong features.
The method therefore sees the same ground truth as the weak supervisor, no more.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from superalign.errors import SuperalignError
from superalign.w2s.heads import LogisticHead, make_head
from superalign.w2s.knn import knn_indices, smooth_labels
from superalign.w2s.methods import METHODS, MethodConfig, MethodContext, MethodSpec, StudentSplit


class SelectiveConfig(MethodConfig):
    threshold: float = Field(0.5, ge=0, le=1, description="P(IK) above which the student keeps its own label")
    k: int = Field(10, ge=1, description="neighbours in the kNN graph for smoothing the weak labels")
    # Above 0.5, neighbours can outvote a confident wrong label; at or below it they never flip one.
    mix: float = Field(0.8, ge=0, lt=1, description="weight of the neighbours in graph smoothing")
    folds: int = Field(5, ge=2, description="cross-fitting folds for the strong model's own labels")


class Selective:
    """Selective W2SG: P(IK) decides where the strong model trusts itself; weak labels are graph-smoothed elsewhere."""

    def __init__(self, config: SelectiveConfig, context: MethodContext):
        self.config, self.context = config, context

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "Selective":
        cfg, ctx = self.config, self.context
        lab = ctx.labelled
        if lab is None:
            raise SuperalignError("method 'selective' needs the supervisor's labelled split (run it through the pipeline)")
        k = ctx.n_classes
        # 1. the strong model's own labels on the labelled data, cross-fitted: is it right there?
        folds = np.random.default_rng(ctx.seed).integers(0, cfg.folds, size=len(lab.labels))
        correct = np.zeros(len(lab.labels), dtype=np.int64)
        for f in range(cfg.folds):
            held = folds == f
            if held.any() and (~held).any():
                probe = LogisticHead(n_classes=k, seed=ctx.seed).fit(lab.features[~held], lab.labels[~held])
                correct[held] = probe.predict(lab.features[held]) == lab.labels[held]
        # 2. P(IK) on strong features
        if correct.min() == correct.max():  # always right (or always wrong): P(IK) is that constant
            pik = np.full(len(transfer.features), float(correct[0]))
        else:
            pik_model = LogisticHead(n_classes=2, seed=ctx.seed).fit(lab.features, correct)
            pik = pik_model.predict_proba(transfer.features)[:, 1]
        # 3. self labels where P(IK) is high, smoothed weak labels elsewhere
        own = LogisticHead(n_classes=k, seed=ctx.seed).fit(lab.features, lab.labels).predict_proba(transfer.features)
        self.self_mask_ = pik > cfg.threshold
        self.self_labels_ = np.eye(k, dtype=np.float32)[own.argmax(1)]
        self.smoothed_ = smooth_labels(transfer.weak_probs, knn_indices(transfer.features, cfg.k), cfg.mix)
        self.targets_ = np.where(self.self_mask_[:, None], self.self_labels_, self.smoothed_)
        self.pik_ = pik
        self.weak_probs_ = transfer.weak_probs
        self.head_ = make_head(ctx.head, k, ctx.seed).fit(transfer.features, self.targets_)
        return self

    def predict_proba(self, split: StudentSplit) -> np.ndarray:
        return self.head_.predict_proba(split.features)

    def diagnostics(self, transfer_labels: np.ndarray) -> dict:
        """Computed after training with transfer ground truth, for the record only."""
        mask = self.self_mask_

        def acc(labels, where):
            return float((labels[where].argmax(1) == transfer_labels[where]).mean()) if where.any() else float("nan")

        own_right = self.self_labels_.argmax(1) == transfer_labels
        from superalign.evaluation.metrics import auroc

        return {"fraction_self_labelled": float(mask.mean()),
                "self_label_accuracy": acc(self.self_labels_, mask),
                "smoothed_weak_accuracy_elsewhere": acc(self.smoothed_, ~mask),
                "raw_weak_accuracy_elsewhere": acc(self.weak_probs_, ~mask),
                "smoothed_weak_accuracy_all": acc(self.smoothed_, np.ones_like(mask)),
                "raw_weak_accuracy_all": acc(self.weak_probs_, np.ones_like(mask)),
                "pik_auroc": auroc(np.stack([1 - self.pik_, self.pik_], 1), own_right.astype(int))}


METHODS.add("selective", MethodSpec(SelectiveConfig, Selective, Selective.__doc__.splitlines()[0]))
