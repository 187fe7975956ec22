"""Persuasiveness: Bradley-Terry ratings of debater configurations from a judge's verdicts (Khan et al. 2024).

A debate is a match between the configuration arguing for the correct answer and the one arguing for the
wrong answer; the judge's verdict says who won. Each configuration gets two ratings, one for each side it
can argue (arguing for the truth is easier), and P(correct side wins) = sigmoid(r_correct(a) - r_wrong(b)).
Judge accuracy against a configuration is the share of its matches the correct side wins, so the ratings
and the judge's accuracy can be read together: more persuasive liars, lower accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from superalign.errors import SuperalignError


@dataclass(frozen=True)
class Match:
    correct_side: str  # the configuration that argued for the correct answer
    wrong_side: str  # the one that argued for the wrong answer
    correct_won: float  # 1 if the judge chose the correct answer, 0 if not, 0.5 for a tie


def bradley_terry(matches: list[Match], l2: float = 0.01, iterations: int = 2000) -> dict[str, dict[str, float]]:
    """Ratings (log-odds scale, the mean rating 0) of each configuration on each side, fitted by maximum
    likelihood with a small L2 penalty (so a configuration that never loses still gets a finite rating).
    Returns {config: {"correct": r, "wrong": r, "matches": n}}."""
    if not matches:
        raise SuperalignError("Bradley-Terry ratings need at least one debate: run debates first")
    players = sorted({(m.correct_side, "correct") for m in matches} | {(m.wrong_side, "wrong") for m in matches})
    index = {p: i for i, p in enumerate(players)}
    a = np.array([index[(m.correct_side, "correct")] for m in matches])
    b = np.array([index[(m.wrong_side, "wrong")] for m in matches])
    y = np.array([m.correct_won for m in matches], dtype=float)
    r = np.zeros(len(players))
    for _ in range(iterations):  # gradient ascent on a concave log-likelihood: converges from zero
        p = 1 / (1 + np.exp(-(r[a] - r[b])))
        grad = np.bincount(a, y - p, len(players)) - np.bincount(b, y - p, len(players)) - l2 * r
        r += 0.5 * grad / max(1.0, len(matches) / len(players))
    r -= r.mean()
    out: dict[str, dict[str, float]] = {}
    for (config, side), i in index.items():
        entry = out.setdefault(config, {"correct": float("nan"), "wrong": float("nan"), "matches": 0})
        entry[side] = float(r[i])
    for m in matches:
        out[m.correct_side]["matches"] += 1
        if m.wrong_side != m.correct_side:
            out[m.wrong_side]["matches"] += 1
    return out


def matches_from_transcripts(transcripts, config_a: str, config_b: str, by_truth: bool = False) -> list[Match]:
    """One match per judged pair of orders of a debate (the order-averaged log-prob signal decides; a zero
    signal is a tie), or per transcript for generated verdicts (an unparseable verdict is a loss for the
    correct side, as it counts wrong in accuracy). `config_a` argued for the item's first answer; with
    `by_truth`, `config_a` is whoever argued for the correct answer (scripted debaters: honest when right)."""
    from superalign.oversight.runner import judge_scores

    def sides(first_is_correct: bool) -> tuple[str, str]:
        return (config_a, config_b) if first_is_correct or by_truth else (config_b, config_a)

    scores = judge_scores(transcripts)
    if scores is not None:  # the runner's pairing of the two orders and its signal
        return [Match(*sides(bool(y)), 0.5 if s == 0 else float((s > 0) == y))
                for s, y in zip(scores.signal.tolist(), scores.first_is_correct.tolist())]
    return [Match(*sides(t.correct_shown == (1 if t.swapped else 0)), 1.0 if t.correct else 0.0) for t in transcripts]
