"""Metrics for weak-to-strong experiments: accuracy, AUROC, log loss, ECE, PGR, agreement, copied mistakes.

Probabilities are `[n, k]` arrays (rows sum to 1); labels are `[n]` integers.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import log_loss, roc_auc_score


def accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    return float((probs.argmax(1) == labels).mean())


def auroc(probs: np.ndarray, labels: np.ndarray) -> float:
    """Binary AUROC, or macro one-vs-rest for more classes; NaN when a class is absent."""
    present = np.unique(labels)
    if len(present) < 2:
        return float("nan")
    if probs.shape[1] == 2:
        return float(roc_auc_score(labels, probs[:, 1]))
    if len(present) < probs.shape[1]:
        return float("nan")
    return float(roc_auc_score(labels, probs, multi_class="ovr", average="macro"))


def cross_entropy(probs: np.ndarray, labels: np.ndarray) -> float:
    return float(log_loss(labels, np.clip(probs, 1e-7, 1), labels=list(range(probs.shape[1]))))


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> float:
    """Top-label ECE with equal-width confidence bins."""
    confidence = probs.max(1)
    correct = probs.argmax(1) == labels
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def classification_metrics(probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    return {"accuracy": accuracy(probs, labels), "auroc": auroc(probs, labels),
            "log_loss": cross_entropy(probs, labels), "ece": expected_calibration_error(probs, labels)}


def pgr(weak: float, student: float, ceiling: float, min_gap: float = 1e-9) -> float:
    """Performance gap recovered, (student - weak) / (ceiling - weak).

    NaN when the ceiling does not beat the weak supervisor: the ratio would be meaningless
    (callers report the gap itself alongside).
    """
    gap = ceiling - weak
    if not gap > min_gap:
        return float("nan")
    return float((student - weak) / gap)


def agreement(student_probs: np.ndarray, weak_probs: np.ndarray) -> float:
    """Fraction of examples where student and supervisor predict the same class."""
    return float((student_probs.argmax(1) == weak_probs.argmax(1)).mean())


def copied_mistakes(student_probs: np.ndarray, weak_probs: np.ndarray, labels: np.ndarray) -> float:
    """Of the supervisor's mistakes, the fraction the student repeats (same wrong class), as in Burns et al."""
    weak_pred = weak_probs.argmax(1)
    wrong = weak_pred != labels
    if not wrong.any():
        return float("nan")
    return float((student_probs.argmax(1)[wrong] == weak_pred[wrong]).mean())


def mean_and_ci(values, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """Mean with a percentile bootstrap interval over seeds; NaNs are dropped; one value gives (v, v, v)."""
    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    if len(x) == 1:
        return float(x[0]), float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(n_boot, len(x)))].mean(1)
    alpha = (1 - level) / 2
    return float(x.mean()), float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))
