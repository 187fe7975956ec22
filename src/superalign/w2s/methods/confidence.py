"""`confidence-filter`: the student learns only the weak labels its supervisor is most sure of.

The simplest label filter: rank transfer examples by the weak supervisor's top probability and keep the most
confident `keep` share (per weak class, so that filtering does not also shift the class balance). A weak model is
usually more often right where it is confident, so the kept labels are cleaner, at the price of fewer of them and
of losing exactly the hard examples. Reads weak labels only.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from superalign.w2s.heads import make_head
from superalign.w2s.method import METHODS, Method, MethodConfig, StudentSplit


class ConfidenceFilterConfig(MethodConfig):
    keep: float = Field(0.5, gt=0, le=1, description="share of transfer examples kept, the most confident ones")


def confident_mask(weak_probs: np.ndarray, keep: float) -> np.ndarray:
    """[n] True for the `keep` share of each weak class with the highest top probability (ties: earlier first)."""
    hard, top = weak_probs.argmax(1), weak_probs.max(1)
    mask = np.zeros(len(weak_probs), dtype=bool)
    for c in np.unique(hard):
        members = np.flatnonzero(hard == c)
        n_keep = max(1, int(round(keep * len(members))))
        mask[members[np.argsort(-top[members], kind="stable")[:n_keep]]] = True
    return mask


@METHODS.register("confidence-filter")
class ConfidenceFilter(Method):
    """Trains on the most confident share of the weak labels only (per weak class)."""

    config_cls = ConfidenceFilterConfig
    budget = "weak-labels"

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "ConfidenceFilter":
        ctx = self.context
        self.kept_ = confident_mask(transfer.weak_probs, self.config.keep)
        self.weak_probs_ = transfer.weak_probs
        self.head_ = make_head(ctx.head, ctx.n_classes, ctx.seed).fit(transfer.features[self.kept_],
                                                                       transfer.weak_probs[self.kept_])
        return self

    def diagnostics(self, transfer_labels: np.ndarray) -> dict:
        wrong = self.weak_probs_.argmax(1) != transfer_labels
        return {"fraction_kept": float(self.kept_.mean()),
                "weak_error_rate": float(wrong.mean()),
                "weak_error_rate_among_kept": float(wrong[self.kept_].mean())}
