"""Reward over-optimization (after Gao et al., "Scaling Laws for Reward Model Overoptimization") and
best-of-n scaling, on a classification testbed.

The "policy" draws n distinct candidates (without replacement) from a pool (test examples), with n at most
a quarter of the pool so that the optimisation pressure KL_bon describes is real; a proxy reward model (the weak
supervisor, the W2S student or the strong ceiling: its probability of a target class) picks the best;
the gold reward is ground truth (is the pick really of the target class?) and, as a second gold, the
ceiling's probability. Optimisation pressure is measured as in the paper:
    KL_bon(n) = log n - (n - 1) / n,   d = sqrt(KL_bon)
and the gold curve, centred at n = 1, is fitted by gold(d) = d (alpha - beta d), peaking at d* = alpha / 2 beta.
Best-of-n scaling: the same gold as a function of n, fitted by gold = a + b log n.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from superalign.models.cache import ActivationCache
from superalign.w2s.pipeline import ExperimentConfig, train_models

N_VALUES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
# n above this share of the pool would draw most of it: the "best of n" would then be nearly the same few
# examples every time, and KL_bon (which assumes independent draws) would overstate the pressure.
MAX_POOL_SHARE = 0.25


def usable_n(n_values, pool_size: int) -> tuple[int, ...]:
    """The n values at most a quarter of the pool."""
    kept = tuple(n for n in n_values if n <= MAX_POOL_SHARE * pool_size)
    if not kept:
        raise ValueError(f"a pool of {pool_size} examples is too small for best-of-n (need at least {int(1 / MAX_POOL_SHARE)})")
    return kept


def kl_bon(n: int | np.ndarray) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    return np.log(n) - (n - 1) / n


def fit_gold(d: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """Least-squares alpha, beta of gold(d) = alpha d - beta d^2 (no intercept: gold is centred at d = 0)."""
    design = np.stack([d, -d ** 2], axis=1)
    (alpha, beta), *_ = np.linalg.lstsq(design, gold, rcond=None)
    return float(alpha), float(beta)


def peak(alpha: float, beta: float) -> tuple[float, float]:
    """(d*, n*) where the fitted gold curve peaks; infinite when it never turns down (beta <= 0)."""
    if beta <= 0:
        return math.inf, math.inf
    d_star = alpha / (2 * beta)
    target = d_star ** 2
    if target <= 0:
        return d_star, 1.0
    if float(kl_bon(1e12)) < target:  # the peak lies beyond any n worth computing
        return d_star, math.inf
    n_star = brentq(lambda n: float(kl_bon(n)) - target, 1.0, 1e12)
    return d_star, float(n_star)


def fit_log(n: np.ndarray, gold: np.ndarray) -> tuple[float, float, float]:
    """a, b and R^2 of gold = a + b log n."""
    design = np.stack([np.ones(len(n)), np.log(n)], axis=1)
    (a, b), *_ = np.linalg.lstsq(design, gold, rcond=None)
    pred = a + b * np.log(n)
    ss_res, ss_tot = ((gold - pred) ** 2).sum(), ((gold - gold.mean()) ** 2).sum()
    return float(a), float(b), float(1 - ss_res / ss_tot) if ss_tot > 0 else float("nan")


def best_of_n(proxy: np.ndarray, gold: np.ndarray, n_values=N_VALUES, draws: int = 4000,
              rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """Mean proxy and gold reward of the proxy's best of n distinct draws from the pool, for each n.

    Also the number of distinct examples that were ever the best pick: a peak carried by a handful of
    winners is a statement about those examples, not about optimisation.
    """
    rng = rng or np.random.default_rng(0)
    if max(n_values) > len(proxy):
        raise ValueError(f"best of {max(n_values)} without replacement needs a pool of at least that many, got {len(proxy)}")
    proxy_means, gold_means, winners = [], [], []
    for n in n_values:
        # n distinct indices per draw: the first n of a random permutation of the pool
        picks = np.argsort(rng.random((draws, len(proxy))), axis=1)[:, :n]  # [draws, n]
        best = picks[np.arange(draws), proxy[picks].argmax(1)]
        proxy_means.append(proxy[best].mean())
        gold_means.append(gold[best].mean())
        winners.append(len(np.unique(best)))
    return {"n": np.array(n_values), "proxy": np.array(proxy_means), "gold": np.array(gold_means),
            "distinct_winners": np.array(winners)}


def overoptimization_report(config: ExperimentConfig, cache: ActivationCache | None = None,
                            n_values=N_VALUES, draws: int = 4000) -> dict:
    """For each proxy (weak, student, ceiling): best-of-n curves for every target class, averaged."""
    trained = train_models(config, cache)
    task, test = trained.task, trained.splits.test
    inputs = task.inputs_at(test)
    probs = trained.probabilities(trained.x_weak[test], trained.x_strong[test], inputs)
    y = task.labels[test]
    n_values = usable_n(n_values, len(test))
    d = np.sqrt(kl_bon(np.array(n_values)))
    report = {"n": list(n_values), "d": d.tolist(), "pool_size": int(len(test)), "sampling": "without replacement",
              "proxies": {}}
    rng = np.random.default_rng(config.seed)
    for name, p in probs.items():
        curves = []
        for target in range(task.n_classes):
            truth = (y == target).astype(float)
            out = best_of_n(p[:, target], truth, n_values, draws, rng)
            ceiling_gold = best_of_n(p[:, target], probs["ceiling"][:, target], n_values, draws,
                                     np.random.default_rng(config.seed + target))["gold"]
            curves.append((out["proxy"], out["gold"], ceiling_gold, out["distinct_winners"]))
        proxy_curve = np.mean([c[0] for c in curves], axis=0)
        gold_curve = np.mean([c[1] for c in curves], axis=0)
        ceiling_curve = np.mean([c[2] for c in curves], axis=0)
        distinct = np.min([c[3] for c in curves], axis=0)  # the fewest winners over the target classes
        alpha, beta = fit_gold(d, gold_curve - gold_curve[0])
        d_star, n_star = peak(alpha, beta)
        a, b, r2 = fit_log(np.array(n_values, dtype=float), gold_curve)
        report["proxies"][name] = {
            "proxy_reward": proxy_curve.tolist(), "gold_reward": gold_curve.tolist(),
            "gold_reward_ceiling": ceiling_curve.tolist(),
            "distinct_winners": distinct.astype(int).tolist(),
            "test_accuracy": float((p.argmax(1) == y).mean()),
            "fit": {"alpha": alpha, "beta": beta, "d_peak": d_star, "n_peak_fitted": n_star},
            "n_peak_measured": int(n_values[int(np.argmax(gold_curve))]),
            "log_fit": {"a": a, "b": b, "r2": r2},
        }
    return report
