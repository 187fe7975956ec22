"""Calibration of weak, student and ceiling: expected calibration error and reliability diagrams."""

from __future__ import annotations

import numpy as np

from superalign.metrics import expected_calibration_error
from superalign.models.cache import ActivationCache
from superalign.w2s.pipeline import ExperimentConfig, train_models


def reliability(probs: np.ndarray, labels: np.ndarray, n_bins: int = 10) -> dict[str, list]:
    """Per confidence bin: mean confidence, accuracy and count (top-label)."""
    confidence = probs.max(1)
    correct = probs.argmax(1) == labels
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    rows = {"confidence": [], "accuracy": [], "count": []}
    for b in range(n_bins):
        mask = bins == b
        rows["confidence"].append(float(confidence[mask].mean()) if mask.any() else float("nan"))
        rows["accuracy"].append(float(correct[mask].mean()) if mask.any() else float("nan"))
        rows["count"].append(int(mask.sum()))
    return rows


def calibration_report(config: ExperimentConfig, cache: ActivationCache | None = None) -> dict:
    trained = train_models(config, cache)
    task, test = trained.task, trained.splits.test
    inputs = task.inputs_at(test)
    probs = trained.probabilities(trained.x_weak[test], trained.x_strong[test], inputs)
    y = task.labels[test]
    return {"models": {name: {"ece": expected_calibration_error(p, y), "accuracy": float((p.argmax(1) == y).mean()),
                              "reliability": reliability(p, y)} for name, p in probs.items()}}
