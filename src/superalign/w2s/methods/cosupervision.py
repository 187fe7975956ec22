"""Co-supervised learning (after Liu and Alahi, and yuejiangliu/csl): a hierarchy of specialised weak teachers.

Classes are grouped by similarity (agglomerative clustering of the class means of weak features on the
supervisor's labelled data), level by level: 1, 2, 4, ... groups, each with at least two classes (enforced:
a one-class group would have a teacher that can only name its class, and under oracle assignment that name
is the true label). Each group gets a weak teacher trained only on its classes, on weak features. At each
level the method alternates
  (a) assignment: each transfer example goes to the teacher whose group holds the student's predicted class
      (the oracle variant assigns by the true class: an upper bound, and it reads transfer ground truth);
  (b) noise reduction, both consistency checks of the paper, as we read them:
      local-global: a specialised teacher's label is kept only if it is among the top-k classes of the
      previous level's (more general) teacher;
      teacher-student: the teacher label must be among the student's top-k classes, then the lowest-loss
      of those are kept, as many as the estimated teacher-student agreement rate suggests;
  (c) training: the student learns the kept labels.
Budget: the supervisor's ground truth on weak features (to train the specialised teachers).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field
from sklearn.cluster import AgglomerativeClustering

from superalign.errors import SuperalignError
from superalign.w2s.heads import LogisticHead, make_head
from superalign.w2s.method import METHODS, Method, MethodConfig, StudentSplit


def in_top_k(classes: np.ndarray, probs: np.ndarray, top_k: int) -> np.ndarray:
    """Whether each `classes[i]` is among the `top_k` largest entries of `probs[i]` (`[n, k]`)."""
    top = np.argsort(-probs, axis=1)[:, :top_k]
    return (top == classes[:, None]).any(1)


class CoSupervisionConfig(MethodConfig):
    levels: int = Field(3, ge=1, description="hierarchy depth: 1, 2, 4, ... teachers")
    rounds: int = Field(2, ge=1, description="assign/train alternations per level")
    top_k: int = Field(2, ge=1, description="a teacher label must be among the student's top-k classes")
    reject: bool = Field(True, description="reject likely-noisy teacher labels (teacher-student consistency)")
    local_global: bool = Field(True, description="keep a specialised teacher's label only if the parent teacher ranks it top-k")


def class_groups(centroids: np.ndarray, n_groups: int) -> list[list[int]]:
    """Partition classes into at most `n_groups` groups of similar classes (by their feature means), each of at
    least two classes: a one-class group is merged into the group whose mean is nearest."""
    if n_groups <= 1 or len(centroids) < 4:
        return [list(range(len(centroids)))]
    assignment = AgglomerativeClustering(n_clusters=min(n_groups, len(centroids) // 2), linkage="ward").fit_predict(centroids)
    groups = [sorted(np.flatnonzero(assignment == g).tolist()) for g in range(assignment.max() + 1)]
    while len(groups) > 1 and min(len(g) for g in groups) < 2:
        small = min(range(len(groups)), key=lambda g: len(groups[g]))
        mean = centroids[groups[small]].mean(0)
        others = [g for g in range(len(groups)) if g != small]
        nearest = min(others, key=lambda g: float(np.linalg.norm(centroids[groups[g]].mean(0) - mean)))
        groups[nearest] = sorted(groups[nearest] + groups[small])
        del groups[small]
    return groups


def reject_noisy(teacher: np.ndarray, student: np.ndarray, top_k: int) -> np.ndarray:
    """Boolean mask of examples to keep (teacher `[n, k]` labels, student `[n, k]` probabilities)."""
    teacher_class = teacher.argmax(1)
    in_top = in_top_k(teacher_class, student, top_k)
    agreement = float((student.argmax(1) == teacher_class).mean())
    loss = -(teacher * np.log(np.clip(student, 1e-7, 1))).sum(1)
    candidates = np.flatnonzero(in_top)
    n_keep = max(1, int(round(agreement * len(teacher))))
    keep = candidates[np.argsort(loss[candidates], kind="stable")[:n_keep]]
    mask = np.zeros(len(teacher), dtype=bool)
    mask[keep] = True
    return mask


@METHODS.register("co-supervision")
class CoSupervision(Method):
    """Co-supervision by a hierarchy of class-specialised weak teachers, with noisy-label rejection."""

    config_cls = CoSupervisionConfig
    budget = "supervisor-gt-weak"
    oracle = False

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
        parent = transfer.weak_probs  # the previous level's (more general) teacher labels, [n, k]
        for level in range(cfg.levels):
            groups = class_groups(centroids, 2 ** level)
            if level > 0 and len(groups) <= len(self.levels_[-1]):
                break  # no finer grouping with at least two classes per group exists
            if len(groups) == 1:
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
                if cfg.local_global and level > 0:
                    keep &= in_top_k(labels.argmax(1), parent, cfg.top_k)
                if not keep.any():
                    keep = np.ones(len(labels), dtype=bool)  # nothing survived both checks: keep all rather than none
                student = make_head(ctx.head, k, ctx.seed).fit(transfer.features[keep], labels[keep])
            parent = labels
            self.levels_.append(groups)
        self.head_ = student
        self.final_labels_, self.kept_ = labels, keep
        return self

    @staticmethod
    def _teacher(lab, group: list[int], weak_features: np.ndarray, k: int) -> np.ndarray:
        if len(group) < 2:
            raise SuperalignError(f"co-supervision: teacher group {group} has one class; groups need at least two")
        out = np.zeros((len(weak_features), k), dtype=np.float32)
        mask = np.isin(lab.labels, group)
        remap = {c: i for i, c in enumerate(group)}
        local = np.array([remap[c] for c in lab.labels[mask]])
        head = LogisticHead(n_classes=len(group)).fit(lab.weak_features[mask], local)
        out[:, group] = head.predict_proba(weak_features)
        return out

    def diagnostics(self, transfer_labels: np.ndarray) -> dict:
        right = self.final_labels_.argmax(1) == transfer_labels
        kept = self.kept_
        return {"levels_used": len(self.levels_), "fraction_kept": float(kept.mean()),
                "label_accuracy_kept": float(right[kept].mean()) if kept.any() else float("nan"),
                "label_accuracy_rejected": float(right[~kept].mean()) if (~kept).any() else float("nan")}


@METHODS.register("co-supervision-oracle")
class CoSupervisionOracle(CoSupervision):
    """Co-supervision with oracle assignment (true class picks the teacher): an upper bound, reads transfer labels."""

    budget = "transfer-gt"
    oracle = True
