import math

import numpy as np
import pytest

from superalign.evaluation.metrics import (accuracy, agreement, copied_mistakes, expected_calibration_error,
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
