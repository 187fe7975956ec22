"""Attackers: each round, choose (or write) the queries most likely to be the learner's errors. No labels.

Pool attackers choose among transfer rows not yet queried:
    random        uniform: the control
    uncertainty   the learner's smallest margins (top probability minus the second)
    disagreement  where the learner's label differs from the weak supervisor's, the more confident both the
                  earlier; then the smallest margins
    knn           where the learner's label differs from the weak supervisor's labels of the query's nearest
                  neighbours in the learner's own (strong) feature space, the larger the share the earlier
The generative attacker (a language model rewriting inputs) is in `superalign.alc.generative`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from superalign.alc.queries import Pool, Queries
from superalign.alc.spec import Component, build
from superalign.registry import Registry
from superalign.w2s.knn import knn_indices


@dataclass
class AttackContext:
    """What an attacker may look at: the pool (features, weak labels), which rows are still unqueried, the
    learner (query access: probabilities of any input) and the critic (for attackers that check validity)."""

    pool: Pool
    available: np.ndarray  # [n] bool
    learner: Any  # .predict_proba(x_strong) -> [m, k]
    critic: Any
    rng: np.random.Generator
    encode: Any = None  # (texts) -> (x_weak, x_strong), for attackers that write new inputs
    computed_label: Any = None  # (text) -> label or None, for tasks that compute labels (validity checks)

    def learner_probs(self) -> np.ndarray:
        return self.learner.predict_proba(self.pool.x_strong)


class Attacker(Component):
    def propose(self, context: AttackContext, m: int) -> Queries:
        rows = self.rank(context)
        return context.pool.queries(rows[:m])

    def rank(self, context: AttackContext) -> np.ndarray:
        """Available pool rows, most promising first."""
        raise NotImplementedError

    def describe_round(self) -> dict[str, Any]:
        """Per-round statistics of the attack itself (generative attackers: attempts, valid, rejected)."""
        return {}


ATTACKERS: Registry[type[Attacker]] = Registry("attacker", entry_points="superalign.attackers")


def make_attacker(spec: str | dict[str, Any]) -> Attacker:
    import superalign.alc.generative  # noqa: F401  (registers itself; it imports the chat layer only when it runs)

    return build(ATTACKERS, spec)


def _margin(probs: np.ndarray) -> np.ndarray:
    top = np.sort(probs, axis=1)
    return top[:, -1] - top[:, -2]


def _ordered(rows: np.ndarray, score: np.ndarray) -> np.ndarray:
    """`rows` by descending `score`, ties by row (stable)."""
    return rows[np.argsort(-score[rows], kind="stable")]


@ATTACKERS.register("random", help="uniform over unqueried transfer rows (the control)")
class RandomAttacker(Attacker):
    def rank(self, context: AttackContext) -> np.ndarray:
        return context.rng.permutation(np.flatnonzero(context.available))


@ATTACKERS.register("uncertainty", help="the learner's smallest margins")
class UncertaintyAttacker(Attacker):
    def rank(self, context: AttackContext) -> np.ndarray:
        return _ordered(np.flatnonzero(context.available), -_margin(context.learner_probs()))


@ATTACKERS.register("disagreement", help="learner and weak supervisor disagree, most confident first")
class DisagreementAttacker(Attacker):
    def rank(self, context: AttackContext) -> np.ndarray:
        learner, weak = context.learner_probs(), context.pool.weak_probs
        differ = learner.argmax(1) != weak.argmax(1)
        # disagreements first (ranked by how sure both sides are), then the learner's smallest margins
        score = np.where(differ, 1.0 + weak.max(1) * learner.max(1), 1.0 - _margin(learner))
        return _ordered(np.flatnonzero(context.available), score)


@ATTACKERS.register("knn", help="the learner's label against its strong-space neighbours' weak labels")
class KnnAttacker(Attacker):
    neighbours: int = Field(10, ge=1)

    def rank(self, context: AttackContext) -> np.ndarray:
        x = context.pool.x_strong.astype(np.float32)
        nearest = knn_indices((x - x.mean(0)) / np.maximum(x.std(0), 1e-6), self.neighbours)  # [n, k]
        learner = context.learner_probs().argmax(1)
        weak = context.pool.weak_probs.argmax(1)
        share = (weak[nearest] != learner[:, None]).mean(1)
        return _ordered(np.flatnonzero(context.available), share - 1e-3 * _margin(context.learner_probs()))
