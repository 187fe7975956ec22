"""Label filtering and relabelling by neighbours (after EleutherAI/w2s's `topofilter` and `topolabel`).

A weak label that disagrees with the weak labels of its nearest neighbours in the strong model's feature
space is more likely wrong.
- `knn-filter`: first TopoCC (per weak class, a directed kNN graph among the examples of that class; only
  the largest strongly connected component is kept), then the most disagreeing `fraction` of what remains
  is dropped (the outlier step). Both steps read weak labels only.
- `knn-relabel`: replaces weak labels by their neighbours' mean label: every example (`scope=all`, as
  `topolabel`), or only the most disagreeing `fraction` (`scope=flagged`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from superalign.w2s.heads import make_head
from superalign.w2s.knn import knn_indices, neighbour_mean
from superalign.w2s.method import METHODS, Method, MethodConfig, StudentSplit


class KnnFilterConfig(MethodConfig):
    k: int = Field(10, ge=1, description="neighbours in strong-feature space")
    fraction: float = Field(0.1, ge=0, lt=1, description="share of transfer examples to drop as outliers")
    topo_cc: bool = Field(True, description="first drop examples outside their weak class's largest kNN component")


class KnnRelabelConfig(MethodConfig):
    k: int = Field(10, ge=1, description="neighbours in strong-feature space")
    scope: Literal["all", "flagged"] = Field("all", description="relabel every example, or only the flagged fraction")
    fraction: float = Field(0.1, ge=0, lt=1, description="share relabelled with scope=flagged")


def disagreement(weak: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Total-variation distance between each weak label and its neighbours' mean label: `[n]`."""
    return 0.5 * np.abs(weak - neighbour_mean(weak, neighbours)).sum(1)


def largest_component_mask(features: np.ndarray, hard_labels: np.ndarray, k: int) -> np.ndarray:
    """TopoCC: True where an example lies in the largest strongly connected component of the directed kNN
    graph of its own (weak) class."""
    keep = np.zeros(len(features), dtype=bool)
    for c in np.unique(hard_labels):
        members = np.flatnonzero(hard_labels == c)
        if len(members) <= 2:
            keep[members] = True
            continue
        idx = knn_indices(features[members], min(k, len(members) - 1))  # [m, k'] within the class
        rows = np.repeat(np.arange(len(members)), idx.shape[1])
        graph = csr_matrix((np.ones(len(rows)), (rows, idx.ravel())), shape=(len(members), len(members)))
        _, component = connected_components(graph, directed=True, connection="strong")
        keep[members[component == np.bincount(component).argmax()]] = True
    return keep


def _top(scores: np.ndarray, where: np.ndarray, fraction: float) -> np.ndarray:
    """Mask of the `fraction` (of all examples) with the highest scores among `where`."""
    flagged = np.zeros(len(scores), dtype=bool)
    candidates = np.flatnonzero(where)
    n_flag = min(len(candidates), int(round(fraction * len(scores))))
    flagged[candidates[np.argsort(-scores[candidates], kind="stable")[:n_flag]]] = True
    return flagged


@METHODS.register("knn-filter")
class KnnFilter(Method):
    """Drops weak labels outside their class's largest kNN component (TopoCC) and the most disagreeing ones."""

    config_cls = KnnFilterConfig
    budget = "weak-labels"

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "KnnFilter":
        cfg, ctx = self.config, self.context
        weak = transfer.weak_probs
        neighbours = knn_indices(transfer.features, cfg.k)
        in_component = (largest_component_mask(transfer.features, weak.argmax(1), cfg.k) if cfg.topo_cc
                        else np.ones(len(weak), dtype=bool))
        outliers = _top(disagreement(weak, neighbours), in_component, cfg.fraction)
        self.flagged_ = ~in_component | outliers
        self.flagged_by_topo_cc_ = ~in_component
        self.weak_probs_ = weak
        keep = ~self.flagged_
        self.head_ = make_head(ctx.head, ctx.n_classes, ctx.seed).fit(transfer.features[keep], weak[keep])
        return self

    def diagnostics(self, transfer_labels: np.ndarray) -> dict:
        wrong = self.weak_probs_.argmax(1) != transfer_labels
        return {"fraction_flagged": float(self.flagged_.mean()),
                "fraction_flagged_by_topo_cc": float(self.flagged_by_topo_cc_.mean()),
                "weak_error_rate": float(wrong.mean()),
                "weak_error_rate_among_flagged": float(wrong[self.flagged_].mean()) if self.flagged_.any() else float("nan")}


@METHODS.register("knn-relabel")
class KnnRelabel(Method):
    """Relabels weak labels by their strong-feature neighbours' mean label (all of them, as topolabel, by default)."""

    config_cls = KnnRelabelConfig
    budget = "weak-labels"

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "KnnRelabel":
        cfg, ctx = self.config, self.context
        weak = transfer.weak_probs
        neighbours = knn_indices(transfer.features, cfg.k)
        if cfg.scope == "all":
            self.flagged_ = np.ones(len(weak), dtype=bool)
        else:
            self.flagged_ = _top(disagreement(weak, neighbours), np.ones(len(weak), dtype=bool), cfg.fraction)
        self.labels_ = np.where(self.flagged_[:, None], neighbour_mean(weak, neighbours), weak)
        self.weak_probs_ = weak
        self.head_ = make_head(ctx.head, ctx.n_classes, ctx.seed).fit(transfer.features, self.labels_)
        return self

    def diagnostics(self, transfer_labels: np.ndarray) -> dict:
        return {"fraction_relabelled": float(self.flagged_.mean()),
                "weak_label_accuracy": float((self.weak_probs_.argmax(1) == transfer_labels).mean()),
                "relabelled_accuracy": float((self.labels_.argmax(1) == transfer_labels).mean())}
