"""Consistency checks, over-optimization and calibration: known answers, then real runs."""

import math

import numpy as np
import pytest

from superalign.errors import SuperalignError
from superalign.evaluation.calibration import calibration_report, reliability
from superalign.evaluation.consistency import (consistency_report, monotonicity_violation, negation_violation,
                                               tv_distance)
from superalign.evaluation.overoptimization import best_of_n, fit_gold, fit_log, kl_bon, overoptimization_report, peak
from superalign.evaluation.transforms import TEXT_PARAPHRASES, shift
from superalign.w2s.pipeline import ExperimentConfig


def test_a_consistent_model_has_no_violations_and_an_inconsistent_one_is_caught():
    p = np.random.default_rng(0).dirichlet(np.ones(3), size=50)
    assert tv_distance(p, p).max() == 0
    assert negation_violation(p[:, 0], 1 - p[:, 0]).max() < 1e-12
    assert monotonicity_violation(p, p, p.argmax(1)).max() == 0
    flipped = p[:, ::-1]  # a model that answers differently on reworded inputs
    assert (tv_distance(p, flipped) > 0.1).mean() > 0.5
    assert negation_violation(p[:, 0], p[:, 0]).mean() > 0.1  # P(A) + P(A) != 1
    weaker = p.copy()
    weaker[np.arange(50), p.argmax(1)] -= 0.05  # more evidence, less confidence: a violation
    assert np.allclose(monotonicity_violation(p, weaker, p.argmax(1)), 0.05)


def test_transformations():
    image = np.arange(9).reshape(1, 3, 3)
    assert shift(image, 0, 1)[0].tolist() == [[0, 0, 1], [0, 3, 4], [0, 6, 7]]
    assert TEXT_PARAPHRASES["swap-headline"]("Title here. First sentence.") == "First sentence. Title here."


def test_kl_bon_and_the_gold_fit_recover_a_synthetic_curve():
    assert kl_bon(1) == 0 and kl_bon(2) == pytest.approx(math.log(2) - 0.5)
    n = np.array([1, 2, 4, 8, 16, 64, 256, 1024])
    d = np.sqrt(kl_bon(n))
    alpha, beta = fit_gold(d, d * (0.8 - 0.2 * d))
    assert alpha == pytest.approx(0.8) and beta == pytest.approx(0.2)
    d_star, n_star = peak(alpha, beta)
    assert d_star == pytest.approx(2.0) and kl_bon(n_star) == pytest.approx(4.0)
    assert peak(0.5, 0.0) == (math.inf, math.inf)
    a, b, r2 = fit_log(n.astype(float), 0.3 + 0.1 * np.log(n))
    assert (a, b, r2) == pytest.approx((0.3, 0.1, 1.0))


def test_best_of_n_with_a_perfect_and_a_useless_proxy():
    gold = (np.arange(1000) % 10 == 0).astype(float)
    perfect = best_of_n(gold + 0.0, gold, n_values=(1, 64), draws=2000)
    # A proxy unrelated to gold: over many such proxies, best-of-n gains nothing on average.
    useless = np.mean([best_of_n(np.random.default_rng(s).random(1000), gold, n_values=(1, 64), draws=500)["gold"][1]
                       for s in range(30)])
    assert perfect["gold"][1] > 0.99 and perfect["gold"][0] == pytest.approx(0.1, abs=0.03)
    assert useless == pytest.approx(0.1, abs=0.03)


def test_best_of_n_draws_distinct_candidates_and_stays_well_below_the_pool():
    from superalign.evaluation.overoptimization import usable_n

    # a pool of 8 with one good example: best of 8 distinct draws always finds it (with replacement: 66%)
    gold = np.zeros(8)
    gold[3] = 1
    out = best_of_n(gold, gold, n_values=(8,), draws=500)
    assert out["gold"][0] == 1.0 and out["distinct_winners"][0] == 1
    assert usable_n((1, 2, 4, 8, 16, 32, 64, 128, 256, 512), 359) == (1, 2, 4, 8, 16, 32, 64)  # n <= pool / 4
    with pytest.raises(ValueError, match="pool"):
        best_of_n(gold, gold, n_values=(9,))


def test_consistency_predicts_error_on_a_real_task():
    report = consistency_report(ExperimentConfig(task="bbc-news", weak="minilm-l3", strong="minilm-l6"))
    weak = report["models"]["weak"]
    assert set(weak["mean_violation"]) == {f"paraphrase:{n}" for n in TEXT_PARAPHRASES} | {"monotonicity"}
    assert weak["auroc_inconsistency_predicts_error"] > 0.6  # inconsistency flags errors better than chance
    assert 0 < weak["error_rate"] < 0.3


def test_consistency_on_images_and_refusal_on_tables():
    report = consistency_report(ExperimentConfig(task="digits", weak="pca:4", strong="raw"))
    assert set(report["models"]["ceiling"]["mean_violation"]) == {"paraphrase:shift-right", "paraphrase:shift-down",
                                                                  "paraphrase:shift-left"}
    with pytest.raises(SuperalignError, match="tabular"):
        consistency_report(ExperimentConfig(task="breast-cancer", weak="pca:1", strong="raw"))


def test_overoptimization_end_to_end_on_an_offline_task():
    report = overoptimization_report(ExperimentConfig(task="digits", weak="pca:2", strong="raw"), draws=1000)
    for name in ("weak", "student", "ceiling"):
        r = report["proxies"][name]
        assert r["gold_reward"][0] == pytest.approx(0.1, abs=0.03)  # n = 1: the base rate of a target class
        assert np.all(np.diff(r["proxy_reward"]) >= -1e-9)  # the proxy's own reward only grows with n
    assert report["proxies"]["ceiling"]["gold_reward"][-1] > report["proxies"]["weak"]["gold_reward"][-1]
    assert max(report["n"]) <= report["pool_size"] / 4 and report["sampling"] == "without replacement"
    assert all(len(r["distinct_winners"]) == len(report["n"]) for r in report["proxies"].values())


def test_calibration_report():
    report = calibration_report(ExperimentConfig(task="digits", weak="pca:4", strong="raw"))
    for r in report["models"].values():
        assert 0 <= r["ece"] <= 1 and sum(r["reliability"]["count"]) > 0
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    rel = reliability(probs, np.array([0, 1, 1]), n_bins=5)
    assert sum(rel["count"]) == 3 and rel["accuracy"][4] == 1.0
