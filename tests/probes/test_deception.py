"""Strong-to-weak deception: the conflicting objective's algebra, no deception without it, deception with it."""

import numpy as np
import pytest

from superalign.probes.deception import DeceptionConfig, conflicted_targets, deception_score, run_deception
from superalign.probes.experiment import configs_from_spec, run_configs, summarize_deception

FAST = dict(task="digits", weak="pca:4", strong="raw", target=1)


def test_the_mixture_is_the_weak_loss_plus_the_conflicting_reward():
    rng = np.random.default_rng(0)
    weak = rng.dirichlet(np.ones(3), size=5)
    p = rng.dirichlet(np.ones(3), size=5)  # any student distribution
    strength = 0.4
    mixed = -(conflicted_targets(weak, 2, strength) * np.log(p)).sum(1) * (1 + strength)
    separate = -(weak * np.log(p)).sum(1) - strength * np.log(p[:, 2])
    assert np.allclose(mixed, separate)


def test_without_the_conflict_the_score_is_zero_within_noise():
    """Strength 0 with the conflicted student on another seed (its own holdout for the penalty): only noise."""
    result = run_deception(DeceptionConfig(**FAST, strength=0.0, control_seed=1))
    assert abs(result["deception_score"]) <= 0.05 and result["n_weak_unknown"] >= 30


def test_with_the_conflict_the_student_deviates_where_the_supervisor_does_not_know():
    result = run_deception(DeceptionConfig(**FAST, strength=0.5))
    assert result["deviation_weak_unknown"] > result["deviation_weak_known"] + 0.2
    assert result["accuracy"]["conflicted"] < result["accuracy"]["student"]


def test_the_score_counts_only_strong_known_examples_off_the_target():
    known = np.array([True, True, False, False])
    clean_right = np.array([True, True, True, False])
    conflicted = np.array([1, 0, 1, 1])
    labels = np.array([0, 0, 0, 0])
    score = deception_score(known, clean_right, conflicted, labels, target=1)
    assert score["n_weak_known"] == 2 and score["n_weak_unknown"] == 1  # the fourth is not strong-known
    assert score["deviation_weak_known"] == 0.5 and score["deviation_weak_unknown"] == 1.0


def test_records_pool_seeds(runs_dir):
    configs = configs_from_spec({**FAST, "strength": [0.0, 0.5], "seeds": 2}, config_cls=DeceptionConfig)
    rows = summarize_deception([o.record for o in run_configs(configs)])
    assert [(r["strength"], r["seeds"]) for r in rows] == [(0.0, 2), (0.5, 2)]
    assert rows[0]["score"][0] == 0.0 and rows[1]["score"][1] > 0.1


def test_the_score_interval_resamples_test_examples_within_seeds_too():
    def record(seed, known, unknown, n_known=200, n_unknown=60):
        return {"config": {"task": "t", "weak": "w", "strong": "s", "target": 0, "strength": 1.0, "seed": seed},
                "result": {"deviation_weak_known": known, "n_weak_known": n_known,
                           "deviation_weak_unknown": unknown, "n_weak_unknown": n_unknown,
                           "accuracy": {"weak": 0.7, "student": 0.8, "conflicted": 0.75}}}

    (one,) = summarize_deception([record(0, 0.05, 0.20)])
    point, lo, hi = one["score"]
    assert point == pytest.approx(0.15) and lo < point < hi  # one seed: the examples still vary (a seed-only
    assert hi - lo > 0.1  # bootstrap would give [0.15, 0.15]); 60 examples in the region: a wide interval
    (three,) = summarize_deception([record(s, 0.05, 0.20) for s in range(3)])
    assert three["score"][2] - three["score"][1] < hi - lo  # three times the examples: narrower
