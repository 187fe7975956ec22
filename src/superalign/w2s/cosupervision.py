"""Co-supervised learning (after Liu and Alahi, and yuejiangliu/csl): a hierarchy of specialised weak teachers.

Classes are grouped by similarity (agglomerative clustering of the class means of weak features on the
supervisor's labelled data), level by level: 1, 2, 4, ... groups, each with at least two classes. Each
group gets a weak teacher trained only on its classes. At each level the method alternates
  (a) assignment: each transfer example goes to the teacher whose group holds the student's predicted class
      (the oracle variant assigns by the true class: an upper bound, and it reads transfer ground truth);
  (b) training: the student learns the assigned teachers' labels, after rejecting likely-noisy ones:
      keep examples whose teacher label is among the student's top-k classes, then the lowest-loss
      of those, as many as the estimated teacher-student agreement rate suggests.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field
from sklearn.cluster import AgglomerativeClustering

from superalign.errors import SuperalignError
from superalign.w2s.heads import LogisticHead, make_head
from superalign.w2s.methods import METHODS, MethodConfig, MethodContext, MethodSpec, StudentSplit


class CoSupervisionConfig(MethodConfig):
    levels: int = Field(3, ge=1, description="hierarchy depth: 1, 2, 4, ... teachers")
    rounds: int = Field(2, ge=1, description="assign/train alternations per level")
    top_k: int = Field(2, ge=1, description="a teacher label must be among the student's top-k classes")
    reject: bool = Field(True, description="reject likely-noisy teacher labels")


def class_groups(centroids: np.ndarray, n_groups: int) -> list[list[int]]:
    """Partition classes into `n_groups` groups of similar classes (by their feature means)."""
    if n_groups <= 1:
        return [list(range(len(centroids)))]
    assignment = AgglomerativeClustering(n_clusters=n_groups, linkage="ward").fit_predict(centroids)
    return [sorted(np.flatnonzero(assignment == g).tolist()) for g in range(n_groups)]


def reject_noisy(teacher: np.ndarray, student: np.ndarray, top_k: int) -> np.ndarray:
    """Boolean mask of examples to keep (teacher `[n, k]` labels, student `[n, k]` probabilities)."""
    teacher_class = teacher.argmax(1)
    top = np.argsort(-student, axis=1)[:, :top_k]
    in_top = (top == teacher_class[:, None]).any(1)
    agreement = float((student.argmax(1) == teacher_class).mean())
    loss = -(teacher * np.log(np.clip(student, 1e-7, 1))).sum(1)
    candidates = np.flatnonzero(in_top)
    n_keep = max(1, int(round(agreement * len(teacher))))
    keep = candidates[np.argsort(loss[candidates], kind="stable")[:n_keep]]
    mask = np.zeros(len(teacher), dtype=bool)
    mask[keep] = True
    return mask


class CoSupervision:
    """Co-supervision by a hierarchy of class-specialised weak teachers, with noisy-label rejection."""

    oracle = False
    uses_transfer_labels = False

    def __init__(self, config: CoSupervisionConfig, context: MethodContext):
        self.config, self.context = config, context

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "CoSupervision":
        cfg, ctx = self.config, self.context
        lab = ctx.labelled
        k = ctx.n_classes
        if lab is None or transfer.weak_features is None:
            raise SuperalignError("method 'co-supervision' needs the weak features and labelled split (run it through the pipeline)")
        if self.oracle and transfer.true_labels is None:
            raise SuperalignError("the oracle assignment needs transfer ground truth")
        centroids = np.stack([lab.weak_features[lab.labels == c].mean(0) for c in range(k)])
        # Level 0 is the ordinary weak supervisor; a first student learns all of its labels.
        student = make_head(ctx.head, k, ctx.seed).fit(transfer.features, transfer.weak_probs)
        labels, keep = transfer.weak_probs, np.ones(len(transfer.weak_probs), dtype=bool)
        self.levels_: list[list[list[int]]] = []
        n_groups = 1
        for level in range(cfg.levels):
            if level > 0:
                n_groups *= 2
                if n_groups > k // 2:  # every group keeps at least two classes, or its teacher has nothing to teach
                    break
            groups = class_groups(centroids, n_groups)
            if n_groups == 1:
                teacher_probs = [transfer.weak_probs]
            else:
                teacher_probs = [self._teacher(lab, g, transfer.weak_features, k) for g in groups]  # each [n, k]
            group_of_class = np.empty(k, dtype=int)
            for g, members in enumerate(groups):
                group_of_class[members] = g
            for _ in range(cfg.rounds):
                probs = student.predict_proba(transfer.features)
                assigned_class = transfer.true_labels if self.oracle else probs.argmax(1)
                assigned = group_of_class[assigned_class]
                labels = np.stack(teacher_probs)[assigned, np.arange(len(assigned))]  # [n, k]
                keep = reject_noisy(labels, probs, cfg.top_k) if cfg.reject else np.ones(len(labels), dtype=bool)
                student = make_head(ctx.head, k, ctx.seed).fit(transfer.features[keep], labels[keep])
            self.levels_.append(groups)
        self.head_ = student
        self.final_labels_, self.kept_ = labels, keep
        return self

    @staticmethod
    def _teacher(lab, group: list[int], weak_features: np.ndarray, k: int) -> np.ndarray:
        out = np.zeros((len(weak_features), k), dtype=np.float32)
        if len(group) == 1:  # a one-class group: its teacher can only name that class
            out[:, group[0]] = 1
            return out
        mask = np.isin(lab.labels, group)
        remap = {c: i for i, c in enumerate(group)}
        local = np.array([remap[c] for c in lab.labels[mask]])
        head = LogisticHead(n_classes=len(group)).fit(lab.weak_features[mask], local)
        out[:, group] = head.predict_proba(weak_features)
        return out

    def predict_proba(self, split: StudentSplit) -> np.ndarray:
        return self.head_.predict_proba(split.features)

    def diagnostics(self, transfer_labels: np.ndarray) -> dict:
        right = self.final_labels_.argmax(1) == transfer_labels
        kept = self.kept_
        return {"levels_used": len(self.levels_), "fraction_kept": float(kept.mean()),
                "label_accuracy_kept": float(right[kept].mean()) if kept.any() else float("nan"),
                "label_accuracy_rejected": float(right[~kept].mean()) if (~kept).any() else float("nan")}


class CoSupervisionOracle(CoSupervision):
    """Co-supervision with oracle assignment (true class picks the teacher): an upper bound, reads transfer labels."""

    oracle = True
    uses_transfer_labels = True


METHODS.add("co-supervision", MethodSpec(CoSupervisionConfig, CoSupervision, CoSupervision.__doc__.splitlines()[0]))
METHODS.add("co-supervision-oracle", MethodSpec(CoSupervisionConfig, CoSupervisionOracle,
                                                CoSupervisionOracle.__doc__.splitlines()[0]))
