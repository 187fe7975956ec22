"""kNN graphs over strong features and label smoothing on them (shared by selective W2SG and label filtering)."""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors


def knn_indices(features: np.ndarray, k: int) -> np.ndarray:
    """Indices `[n, k]` of each row's k nearest other rows by cosine distance."""
    x = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    k = min(k, len(x) - 1)
    nn = NearestNeighbors(n_neighbors=k + 1, metric="euclidean").fit(x)  # euclidean on unit vectors ~ cosine
    _, idx = nn.kneighbors(x)
    return idx[:, 1:]  # drop self


def neighbour_mean(labels: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Mean of the neighbours' label distributions: `[n, k_classes]`."""
    return labels[neighbours].mean(1)


def smooth_labels(labels: np.ndarray, neighbours: np.ndarray, mix: float, iterations: int = 10) -> np.ndarray:
    """Label propagation: Y <- (1 - mix) * Y0 + mix * mean_neighbours(Y), iterated (a contraction for mix < 1)."""
    current = labels.copy()
    for _ in range(iterations):
        current = (1 - mix) * labels + mix * neighbour_mean(current, neighbours)
    return current
