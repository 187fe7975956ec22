"""`naive` (the student learns the weak labels) and `strong-on-supervisor-labels` (what the supervisor's ground
truth alone buys a strong probe: the baseline for every method with the `supervisor-gt-strong` budget)."""

from __future__ import annotations

from pydantic import Field

from superalign.errors import SuperalignError
from superalign.w2s.heads import make_head
from superalign.w2s.method import METHODS, Method, MethodConfig, StudentSplit


class NaiveConfig(MethodConfig):
    hard_labels: bool = Field(False, description="train on argmax weak labels instead of soft ones")


@METHODS.register("naive")
class Naive(Method):
    """Cross-entropy on the weak labels (soft by default)."""

    config_cls = NaiveConfig
    budget = "weak-labels"

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "Naive":
        labels = transfer.weak_probs.argmax(1) if self.config.hard_labels else transfer.weak_probs
        self.head_ = make_head(self.context.head, self.context.n_classes, self.context.seed)
        self.head_.fit(transfer.features, labels)
        return self


@METHODS.register("strong-on-supervisor-labels")
class StrongOnSupervisorLabels(Method):
    """A strong probe trained on the supervisor's ground truth alone (no weak labels): the budget's own baseline."""

    budget = "supervisor-gt-strong"

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "StrongOnSupervisorLabels":
        lab = self.context.labelled
        if lab is None or lab.features is None:
            raise SuperalignError("method 'strong-on-supervisor-labels' needs the supervisor's labelled split "
                                  "with strong features (run it through the pipeline)")
        self.head_ = make_head(self.context.head, self.context.n_classes, self.context.seed)
        self.head_.fit(lab.features, lab.labels)
        return self
