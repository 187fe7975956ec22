"""`bootstrap`: weak -> intermediate rung(s) -> strong, each rung cross-fitted on the previous rung's labels."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from superalign.errors import SuperalignError
from superalign.w2s.heads import make_head
from superalign.w2s.method import METHODS, Method, MethodConfig, StudentSplit


class BootstrapConfig(MethodConfig):
    folds: int = Field(2, ge=2, description="cross-fitting folds: each rung labels only examples it did not train on")


@METHODS.register("bootstrap")
class Bootstrap(Method):
    """Weak -> intermediate rung(s) -> strong: each rung learns the previous rung's labels and relabels the data.

    A rung that labelled its own training examples would mostly echo them, so each rung is cross-fitted:
    trained on the other folds, it labels the held-out fold.
    """

    config_cls = BootstrapConfig
    budget = "weak-labels"
    needs_rungs = True

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "Bootstrap":
        ctx = self.context
        if not ctx.intermediate:
            raise SuperalignError("method 'bootstrap' needs at least one intermediate encoder "
                                  "(--intermediate NAME, or a ladder with a rung between weak and strong)")
        labels = transfer.weak_probs
        folds = np.random.default_rng(ctx.seed).integers(0, self.config.folds, size=len(labels))
        for rung in ctx.intermediate:
            x = transfer.rung_features[rung]
            relabelled = np.empty_like(labels)
            for f in range(self.config.folds):
                head = make_head(ctx.head, ctx.n_classes, ctx.seed).fit(x[folds != f], labels[folds != f])
                relabelled[folds == f] = head.predict_proba(x[folds == f])
            labels = relabelled
        self.final_labels_ = labels
        self.head_ = make_head(ctx.head, ctx.n_classes, ctx.seed).fit(transfer.features, labels)
        return self
