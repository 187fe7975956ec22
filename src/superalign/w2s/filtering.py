"""Label filtering and relabelling by neighbours (after EleutherAI/w2s).

A weak label that disagrees with the weak labels of its nearest neighbours in the strong model's
feature space is more likely wrong. Drop the most disagreeing fraction, or relabel them by the
neighbours' mean label.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from superalign.w2s.heads import make_head
from superalign.w2s.knn import knn_indices, neighbour_mean
from superalign.w2s.methods import METHODS, MethodConfig, MethodContext, MethodSpec, StudentSplit


class KnnFilterConfig(MethodConfig):
    k: int = Field(10, ge=1, description="neighbours in strong-feature space")
    fraction: float = Field(0.1, ge=0, lt=1, description="share of transfer examples to drop or relabel")
    mode: Literal["drop", "relabel"] = "drop"


class KnnRelabelConfig(KnnFilterConfig):
    mode: Literal["drop", "relabel"] = "relabel"


class KnnFilter:
    """Drops (or relabels) the weak labels that disagree most with their strong-feature neighbours."""

    def __init__(self, config: KnnFilterConfig, context: MethodContext):
        self.config, self.context = config, context

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "KnnFilter":
        cfg, ctx = self.config, self.context
        weak = transfer.weak_probs
        neighbours = neighbour_mean(weak, knn_indices(transfer.features, cfg.k))  # [n, k]
        disagreement = 0.5 * np.abs(weak - neighbours).sum(1)  # total variation distance
        n_flag = int(round(cfg.fraction * len(weak)))
        self.flagged_ = np.zeros(len(weak), dtype=bool)
        self.flagged_[np.argsort(-disagreement, kind="stable")[:n_flag]] = True
        self.weak_probs_ = weak
        if cfg.mode == "drop":
            keep = ~self.flagged_
            self.head_ = make_head(ctx.head, ctx.n_classes, ctx.seed).fit(transfer.features[keep], weak[keep])
        else:
            labels = np.where(self.flagged_[:, None], neighbours, weak)
            self.head_ = make_head(ctx.head, ctx.n_classes, ctx.seed).fit(transfer.features, labels)
        return self

    def predict_proba(self, split: StudentSplit) -> np.ndarray:
        return self.head_.predict_proba(split.features)

    def diagnostics(self, transfer_labels: np.ndarray) -> dict:
        wrong = self.weak_probs_.argmax(1) != transfer_labels
        return {"fraction_flagged": float(self.flagged_.mean()),
                "weak_error_rate": float(wrong.mean()),
                "weak_error_rate_among_flagged": float(wrong[self.flagged_].mean()) if self.flagged_.any() else float("nan")}


METHODS.add("knn-filter", MethodSpec(KnnFilterConfig, KnnFilter, "drop the weak labels that disagree most with their kNN"))
METHODS.add("knn-relabel", MethodSpec(KnnRelabelConfig, KnnFilter, "relabel the most disagreeing weak labels by their kNN mean"))
