import math

import numpy as np
import pytest

from superalign.metrics import (accuracy, agreement, copied_mistakes, expected_calibration_error,
                                           mean_and_ci, pgr)


def test_pgr_and_its_edge_cases():
    assert pgr(0.6, 0.7, 0.8) == pytest.approx(0.5)
    assert pgr(0.6, 0.5, 0.8) == pytest.approx(-0.5)
    assert math.isnan(pgr(0.8, 0.9, 0.8))  # no gap: reported, not divided by
    assert math.isnan(pgr(0.8, 0.9, 0.7))  # ceiling below weak


def test_calibration_error():
    labels = np.array([0, 1, 1, 0])
    perfect = np.eye(2)[labels]
    assert expected_calibration_error(perfect, labels) == 0
    overconfident = np.array([[0.99, 0.01]] * 4)  # always says class 0 with 99%; right half the time
    assert expected_calibration_error(overconfident, labels) == pytest.approx(0.49)


def test_agreement_and_copied_mistakes():
    labels = np.array([0, 0, 1, 1])
    weak = np.eye(2)[[0, 1, 0, 1]]  # wrong on items 1 and 2
    student = np.eye(2)[[0, 1, 1, 1]]  # copies the mistake on 1, fixes 2
    assert accuracy(student, labels) == 0.75
    assert agreement(student, weak) == 0.75
    assert copied_mistakes(student, weak, labels) == 0.5


def test_mean_and_bootstrap_interval():
    mean, lo, hi = mean_and_ci([0.1, 0.2, 0.3, 0.4])
    assert mean == pytest.approx(0.25) and lo < mean < hi
    assert mean_and_ci([0.5]) == (0.5, 0.5, 0.5)
    assert mean_and_ci([float("nan"), 0.2])[0] == pytest.approx(0.2)


def _runs(spec, n=200):
    """Runs with exact accuracies: spec = [(weak, student, ceiling), ...] as counts of right answers out of n."""
    out = []
    for w, s, c in spec:
        out.append(tuple(np.arange(n) < k for k in (w, s, c)))
    return out


def test_pgr_of_means_is_a_ratio_of_means_not_a_mean_of_ratios():
    from superalign.metrics import pgr_of_means

    # seed 1: gap 40 examples, recovers half; seed 2: gap 1 example, student loses 6 (its own PGR is -6)
    est = pgr_of_means(_runs([(100, 120, 140), (150, 144, 151)]))
    assert est.pgr == pytest.approx(((120 + 144) / 2 - (100 + 150) / 2) / ((140 + 151) / 2 - (100 + 150) / 2))
    assert est.small_gap_seeds == 1 and est.undefined_seeds == 0 and est.flagged
    # a quarter of the seed resamples draw only the no-gap seed: the ratio has no interval, and says so
    assert math.isnan(est.lo) and math.isnan(est.hi)
    five = pgr_of_means(_runs([(100, 120, 140), (102, 118, 141), (99, 125, 139), (100, 121, 142), (101, 119, 140)]))
    assert five.lo < five.pgr < five.hi and not five.flagged


def test_pgr_of_means_counts_undefined_seeds_and_flags_small_gaps():
    from superalign.metrics import pgr_of_means

    est = pgr_of_means(_runs([(100, 130, 160), (100, 130, 160), (150, 150, 140)]))
    assert est.seeds == 3 and est.undefined_seeds == 1 and est.small_gap_seeds == 1  # counted, not dropped
    wide = pgr_of_means(_runs([(100, 130, 160)] * 5))
    assert not wide.flagged and wide.gap_examples == pytest.approx(60)
    assert wide.lo < 0.5 < wide.hi  # test examples are resampled even when every seed agrees exactly
    tiny = pgr_of_means(_runs([(100, 101, 102)] * 5))
    assert tiny.flagged and tiny.small_gap_seeds == 5  # a 2-example gap is flagged whatever its interval


def test_few_seeds_get_a_t_interval_not_a_bootstrap_of_a_handful():
    """A percentile bootstrap of 3 values is about [min, max] (some 74% coverage); under 10 values the interval is
    Student's t, which is wider than the range here and covers 95% of normal draws."""
    import numpy as np

    values = [0.70, 0.72, 0.75]
    mean, lo, hi = mean_and_ci(values)
    assert lo < min(values) and hi > max(values)
    rng = np.random.default_rng(0)
    draws = rng.normal(0.5, 0.1, size=(2000, 3))
    covered = np.mean([lo <= 0.5 <= hi for lo, hi in (mean_and_ci(d)[1:] for d in draws)])
    assert 0.93 < covered < 0.97
    many = rng.normal(0.5, 0.1, size=40)
    assert mean_and_ci(many)[1] < 0.5 < mean_and_ci(many)[2]  # the bootstrap from 10 values on


def test_pgr_of_means_with_clusters_resamples_clusters_not_runs():
    from superalign.metrics import pgr_of_means

    rng = np.random.default_rng(0)

    def run(weak, student, ceiling, n=400):
        return tuple(rng.random(n) < p for p in (weak, student, ceiling))

    # two researcher seeds that chose very different methods, each scored on five held-out runs
    runs = [run(0.6, 0.65, 0.9) for _ in range(5)] + [run(0.6, 0.85, 0.9) for _ in range(5)]
    flat = pgr_of_means(runs)
    clustered = pgr_of_means(runs, clusters=[0] * 5 + [1] * 5)
    assert clustered.seeds == 2 and flat.seeds == 10
    assert abs(clustered.pgr - flat.pgr) < 1e-9  # equal cluster sizes: the same point
    # the runs of one seed are not independent evidence: the clustered interval is much wider
    assert (clustered.hi - clustered.lo) > 1.4 * (flat.hi - flat.lo)
