"""Metrics for weak-to-strong experiments: accuracy, AUROC, log loss, ECE, PGR, agreement, copied mistakes.

Probabilities are `[n, k]` arrays (rows sum to 1); labels are `[n]` integers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
    clipped = np.clip(probs, 1e-7, 1)  # exact zeros (a class a method never predicts) would make it infinite
    return float(log_loss(labels, clipped / clipped.sum(1, keepdims=True), labels=list(range(probs.shape[1]))))


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


BOOTSTRAP_MIN = 10  # below this many values a percentile bootstrap undercovers (3 values: [min, max], ~74%)


def mean_and_ci(values, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """Mean with an interval over independent values (seeds, items); NaNs are dropped; one value gives (v, v, v).
    From BOOTSTRAP_MIN values on, a percentile bootstrap; below, Student's t interval (a bootstrap of 3-5 values
    is about [min, max] and covers some 74%, not 95%)."""
    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    if len(x) == 1:
        return float(x[0]), float(x[0]), float(x[0])
    if len(x) < BOOTSTRAP_MIN:
        from scipy import stats

        half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
        return float(x.mean()), float(x.mean() - half), float(x.mean() + half)
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(n_boot, len(x)))].mean(1)
    alpha = (1 - level) / 2
    return float(x.mean()), float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


# --- PGR of a group of runs ------------------------------------------------------------------------------

SMALL_GAP_EXAMPLES = 3  # a seed whose weak-to-ceiling gap is under this many test examples is flagged
MIN_ROW_GAP_EXAMPLES = 15  # a group whose mean gap is under this many test examples is flagged
# The eight (weak, student, ceiling) right/wrong patterns of one test example, as rows of 0/1.
_PATTERNS = np.array([[(p >> 2) & 1, (p >> 1) & 1, p & 1] for p in range(8)], dtype=float)  # [8, 3]


@dataclass
class PGREstimate:
    """PGR of a group of runs (seeds) as the ratio of mean accuracies, with a bootstrap interval."""

    pgr: float
    lo: float
    hi: float
    weak: float  # mean test accuracies over the seeds
    student: float
    ceiling: float
    seeds: int
    undefined_seeds: int  # seeds whose ceiling does not beat the weak supervisor (their own PGR is undefined)
    small_gap_seeds: int  # seeds whose gap is under SMALL_GAP_EXAMPLES test examples
    gap_examples: float  # mean gap in test examples (per seed)

    @property
    def flagged(self) -> bool:
        """The gap rests on too few test examples to measure a ratio of it."""
        return not self.gap_examples >= MIN_ROW_GAP_EXAMPLES or self.small_gap_seeds > 0


def _pattern_counts(weak: np.ndarray, student: np.ndarray, ceiling: np.ndarray) -> np.ndarray:
    """How many test examples show each of the 8 right/wrong patterns: `[8]`."""
    code = weak.astype(int) * 4 + student.astype(int) * 2 + ceiling.astype(int)
    return np.bincount(code, minlength=8)


def pgr_of_means(runs: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n_boot: int = 4000, level: float = 0.95,
                 seed: int = 0, clusters: list[int] | None = None) -> PGREstimate:
    """PGR = (mean student - mean weak) / (mean ceiling - mean weak) over runs (seeds), each given as the
    per-example correctness `[n_test]` of weak, student and ceiling on its test set.

    The interval resamples what varies: seeds (with replacement), and within each drawn seed its test
    examples (with replacement, the three models paired on each example). A resample whose gap is not
    positive has no ratio; if more than half the tail mass is such, the interval is undefined (NaN).

    `clusters` (one id per run) adds a level above the runs: the clusters are resampled, and each drawn cluster
    brings all its runs, each with its test examples resampled (e.g. a researcher's seeds, each scored on several
    held-out runs). The means are then over clusters of their runs' means; `seeds` counts clusters.
    """
    if not runs:
        nan = float("nan")
        return PGREstimate(nan, nan, nan, nan, nan, nan, 0, 0, 0, nan)
    counts = np.stack([_pattern_counts(*r) for r in runs]).astype(float)  # [S, 8]
    sizes = counts.sum(1)  # [S] test examples per seed
    acc = (counts @ _PATTERNS) / sizes[:, None]  # [S, 3] weak, student, ceiling accuracies
    gaps = (acc[:, 2] - acc[:, 0]) * sizes  # [S] gap in test examples
    cluster_of = np.arange(len(runs)) if clusters is None else np.unique(np.asarray(clusters), return_inverse=True)[1]
    n_clusters = int(cluster_of.max()) + 1
    members = np.bincount(cluster_of, minlength=n_clusters)  # [C] runs per cluster
    cluster_acc = np.zeros((n_clusters, 3))
    np.add.at(cluster_acc, cluster_of, acc / members[cluster_of, None])
    weak, student, ceiling = cluster_acc.mean(0)
    point = (student - weak) / (ceiling - weak) if ceiling - weak > 0 else float("nan")
    rng = np.random.default_rng(seed)
    picked = rng.integers(0, n_clusters, size=(n_boot, n_clusters))  # [B, C] clusters (seeds) drawn per replicate
    uses_of = np.stack([(picked == c).sum(1) for c in range(n_clusters)])  # [C, B] draws of each cluster
    replicate = np.zeros((n_boot, 3))
    for s in range(len(runs)):
        uses = uses_of[cluster_of[s]]  # [B] how many times run s's cluster was drawn in each replicate
        draws = int(uses.sum())
        if draws == 0:
            continue
        # each draw of run s resamples its test examples: multinomial over the 8 patterns
        resampled = rng.multinomial(int(sizes[s]), counts[s] / sizes[s], size=draws) @ _PATTERNS / sizes[s]  # [draws, 3]
        owner = np.repeat(np.arange(n_boot), uses)  # which replicate each draw belongs to
        np.add.at(replicate, owner, resampled / members[cluster_of[s]])
    replicate /= n_clusters
    gap = replicate[:, 2] - replicate[:, 0]
    ratios = np.where(gap > 0, (replicate[:, 1] - replicate[:, 0]) / np.where(gap > 0, gap, 1), np.nan)
    alpha = (1 - level) / 2
    if np.isnan(ratios).mean() > alpha / 2:
        lo = hi = float("nan")
    else:
        # undefined replicates count at both extremes, so they widen the interval rather than vanish
        finite = np.sort(ratios[~np.isnan(ratios)])
        n_nan = int(np.isnan(ratios).sum())
        padded = np.concatenate([np.full(n_nan, -np.inf), finite, np.full(n_nan, np.inf)])
        lo, hi = float(np.quantile(padded, alpha)), float(np.quantile(padded, 1 - alpha))
    return PGREstimate(float(point), lo, hi, float(weak), float(student), float(ceiling), n_clusters,
                       int((gaps <= 0).sum()), int((gaps < SMALL_GAP_EXAMPLES).sum()), float(gaps.mean()))


def correctness(bits: str) -> np.ndarray:
    """A run record's per-example correctness string ("0110...") as a boolean array."""
    return np.frombuffer(bits.encode(), dtype=np.uint8) == ord("1")


def paired_accuracy_difference(runs: list[tuple[np.ndarray, np.ndarray]], n_boot: int = 4000, level: float = 0.95,
                               seed: int = 0) -> tuple[float, float, float]:
    """Mean over runs (seeds) of accuracy(a) - accuracy(b), each run given as the per-example correctness
    `[n_test]` of a and b on the same test examples, with an interval that resamples seeds and, within each
    drawn seed, its test examples (a and b paired on each example). With b all wrong it is a's accuracy."""
    if not runs:
        return float("nan"), float("nan"), float("nan")
    patterns = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)  # (a right, b right)
    counts = np.stack([np.bincount(a.astype(int) * 2 + b.astype(int), minlength=4) for a, b in runs]).astype(float)
    sizes = counts.sum(1)
    diff = (counts @ (patterns[:, 0] - patterns[:, 1])) / sizes  # [S]
    rng = np.random.default_rng(seed)
    picked = rng.integers(0, len(runs), size=(n_boot, len(runs)))
    replicate = np.zeros(n_boot)
    for s in range(len(runs)):
        uses = (picked == s).sum(1)
        if uses.sum() == 0:
            continue
        draws = rng.multinomial(int(sizes[s]), counts[s] / sizes[s], size=int(uses.sum()))  # [draws, 4]
        np.add.at(replicate, np.repeat(np.arange(n_boot), uses), draws @ (patterns[:, 0] - patterns[:, 1]) / sizes[s])
    replicate /= len(runs)
    alpha = (1 - level) / 2
    return float(diff.mean()), float(np.quantile(replicate, alpha)), float(np.quantile(replicate, 1 - alpha))
