"""The loop and its equal-budget baselines, run on the same splits, features, learner head and budget.

Each strategy starts from the naive weak-to-strong learner (a head on strong features of the transfer set,
trained on the weak supervisor's soft labels) and runs `rounds` rounds; in each it may buy `budget / rounds`
expert labels, and the learner is refitted on everything it has (weak labels, critic labels, expert labels):

    naive                 no rounds: the zero setting (no expert labels)
    random-experts        expert labels on random transfer rows (active learning with random queries)
    uncertainty-experts   expert labels on the learner's smallest margins (uncertainty sampling)
    experts-only          a head on the random experts' labels alone: what the budget alone buys
    loop                  attack -> critique (critic labels replace weak labels on the queries) -> expert labels
                          where the critic is least sure -> refit
    loop-no-experts       the loop with no expert labels: its own zero setting

Labels read: the weak supervisor reads weak_train ground truth (as in every W2S run) and so may the critic;
transfer ground truth only through the oracle, within the budget; test labels only by `evaluate`, after
training, and by the fresh attacker's score. The ceiling (a head on transfer ground truth) is a reference only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from pydantic import Field, field_validator, model_validator

from superalign.alc.attackers import AttackContext, make_attacker
from superalign.alc.critics import make_critic
from superalign.alc.oracle import ExpertOracle
from superalign.alc.queries import Pool, Queries, Supervision
from superalign.alc.spec import spec_name
from superalign.data.task import Splits, Task
from superalign.errors import SuperalignError
from superalign.io import stable_hash
from superalign.models.cache import ActivationCache
from superalign.w2s.heads import make_head
from superalign.w2s.setting import SettingConfig, prepare_setting

STRATEGIES = ("naive", "random-experts", "uncertainty-experts", "experts-only", "loop-no-experts", "loop")
LOOPS = ("loop", "loop-no-experts")


class ALCConfig(SettingConfig):
    """One attacker-learner-critic run (every strategy on one seed); its hash keys the run store. The setting's
    fields (task, weak, strong, head, seed, splits, max_examples) come from `SettingConfig`."""

    rounds: int = Field(3, ge=1)
    queries: int = Field(40, ge=1, description="attacker queries per round")
    expert_budget: float = Field(0.02, ge=0, description="expert labels: a fraction of transfer (< 1) or a count")
    expert_weight: float = Field(1.0, gt=0, description="loss weight of an expert-labelled row (weak rows: 1)")
    attacker: str | dict[str, Any] = "disagreement"
    critic: str | dict[str, Any] = "weak"
    eval_attacker: str | dict[str, Any] = Field("knn", description="the fresh attacker of the final evaluation")
    eval_queries: int = Field(40, ge=1)
    strategies: list[str] = Field(default_factory=lambda: list(STRATEGIES))

    @field_validator("strategies")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in STRATEGIES]
        if unknown:
            raise ValueError(f"unknown strategies {unknown}; choose from {', '.join(STRATEGIES)}")
        return value

    @model_validator(mode="after")
    def _fresh_attacker(self) -> "ALCConfig":
        if spec_name(self.eval_attacker) == spec_name(self.attacker):
            raise ValueError(f"eval_attacker {spec_name(self.eval_attacker)!r} is the loop's own attacker; measure the "
                             "final learner with a fresh one (random, uncertainty, knn, disagreement)")
        return self

    def config_hash(self) -> str:
        return stable_hash({"kind": "alc", **self.model_dump(mode="json")}, length=16)

    def budget(self, n_transfer: int) -> int:
        return int(round(self.expert_budget * n_transfer)) if self.expert_budget < 1 else int(self.expert_budget)


@dataclass
class Learner:
    """A head on strong features, refitted on the current targets: soft weak labels, critic labels, experts."""

    head_kind: str
    n_classes: int
    seed: int
    x: np.ndarray  # [n, d] strong features of the rows it trains on
    targets: np.ndarray  # [n, k]
    weights: np.ndarray  # [n]
    head: Any = None

    def fit(self) -> "Learner":
        keep = self.weights > 0
        self.head = make_head(self.head_kind, self.n_classes, self.seed).fit(self.x[keep], self.targets[keep],
                                                                            sample_weight=self.weights[keep])
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.head.predict_proba(x)

    def add(self, x: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Appends rows (generated queries); returns their indices."""
        start = len(self.x)
        self.x = np.concatenate([self.x, x])
        self.targets = np.concatenate([self.targets, targets])
        self.weights = np.concatenate([self.weights, weights])
        return np.arange(start, len(self.x))


@dataclass
class Setting:
    """Everything the strategies share: pool, supervision, the weak head, the evaluator's labels."""

    config: ALCConfig
    task: Task
    pool: Pool
    supervision: Supervision
    weak_head: Any
    x_test_weak: np.ndarray
    x_test_strong: np.ndarray
    test_inputs: list[Any]
    encode: Callable[[list[str]], tuple[np.ndarray, np.ndarray]] | None
    computed_label: Callable[[str], int | None] | None
    # evaluation only (never handed to a strategy): test labels, and transfer labels to score attacks
    y_test: np.ndarray = field(repr=False, default=None)
    y_transfer: np.ndarray = field(repr=False, default=None)

    def true_labels(self, queries: Queries) -> np.ndarray:
        """For scoring attacks only: a pool query's transfer label; a rewrite's computed label, or its source's
        (flipped for a negation)."""
        labels = self.y_transfer[queries.source].copy()
        labels[queries.flipped] = 1 - labels[queries.flipped]
        if self.computed_label is not None and queries.generated.any():
            for i in np.flatnonzero(queries.generated):
                labels[i] = self.computed_label(queries.inputs[i])
        return labels


def prepare(config: ALCConfig, cache: ActivationCache | None = None, task: Task | None = None,
            splits: Splits | None = None) -> Setting:
    """`task` and `splits` override what the config names (tests use them to tamper with labels)."""
    prepared = prepare_setting(config, cache, task, splits)
    task, splits, cache, x_weak, x_strong = prepared.task, prepared.splits, prepared.cache, prepared.x_weak, prepared.x_strong
    weak_encoder, strong_encoder = prepared.weak_encoder, prepared.strong_encoder
    y, wt, tr, te = task.labels, splits.weak_train, splits.transfer, splits.test
    weak_head = prepared.fit_weak_head()
    pool = Pool(list(task.inputs_at(tr)), x_weak[tr], x_strong[tr], weak_head.predict_proba(x_weak[tr]))
    supervision = Supervision(list(task.inputs_at(wt)), x_weak[wt], y[wt], list(task.label_names), task.description)

    def encode(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Features of new inputs, cached by content like any task's."""
        for encoder in (weak_encoder, strong_encoder):
            if encoder.fitted_on_inputs:
                raise SuperalignError(f"encoder {encoder.name!r} is fitted on a task's own inputs and cannot place "
                                      "new ones beside them; attackers that write inputs need pretrained encoders "
                                      "(minilm-l6, mpnet, qwen-0.5b, ...)")
        name = f"{task.name} rewrites"
        return (np.asarray(cache.featurize_texts(texts, weak_encoder, name)),
                np.asarray(cache.featurize_texts(texts, strong_encoder, name)))

    from superalign.data.computed import computed_labeller

    return Setting(config, task, pool, supervision, weak_head, x_weak[te], x_strong[te], list(task.inputs_at(te)),
                   encode if task.modality == "text" else None, computed_labeller(task.name), y[te], y[tr])


def _one_hot(labels: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k, dtype=np.float32)[np.asarray(labels, dtype=int)]


def _least_sure(confidence: np.ndarray, n: int) -> np.ndarray:
    return np.argsort(confidence, kind="stable")[:n]


def run_strategy(setting: Setting, strategy: str, oracle: ExpertOracle) -> dict[str, Any]:
    """One strategy's rounds; returns its final learner and per-round statistics (and the loop's critiques)."""
    config, pool, k = setting.config, setting.pool, setting.task.n_classes
    rng = np.random.default_rng([config.seed, STRATEGIES.index(strategy)])
    learner = Learner(config.head, k, config.seed, pool.x_strong.copy(), pool.weak_probs.astype(np.float32).copy(),
                      np.ones(len(pool), dtype=np.float32)).fit()
    rounds, critiques = [], []
    if strategy == "experts-only":  # the random experts' labels alone: one head, no weak labels
        rows = rng.permutation(len(pool))[: oracle.budget]
        learner.targets[rows] = _one_hot(oracle.label_pool(rows), k)
        learner.weights[:] = 0
        learner.weights[rows] = 1
        learner.fit()
    elif strategy != "naive":
        loop = strategy in LOOPS
        attacker = make_attacker(config.attacker if loop else strategy.removesuffix("-experts"))
        critic = make_critic(config.critic).fit(setting.supervision, setting.weak_head, config.seed) if loop else None
        available = np.ones(len(pool), dtype=bool)
        per_round = oracle.budget // config.rounds
        for r in range(config.rounds):
            allowance = 0 if strategy == "loop-no-experts" else (
                oracle.left if r == config.rounds - 1 else min(per_round, oracle.left))
            context = AttackContext(pool, available, learner, critic, rng, setting.encode, setting.computed_label)
            if loop:
                stats, notes = _loop_round(setting, learner, oracle, context, attacker, critic, allowance)
                critiques += [{"round": r + 1, **note} for note in notes]
            else:  # the active-learning baselines: expert labels on the attacker's first `allowance` rows
                rows = attacker.rank(context)[:allowance]
                stats = _expert_round(setting, learner, oracle, rows)
                available[rows] = False
            learner.fit()
            stats.update(round=r + 1, expert_labels_spent=oracle.spent,
                         test_accuracy=float((learner.predict_proba(setting.x_test_strong).argmax(1) == setting.y_test).mean()))
            rounds.append(stats)
    return {"learner": learner, "rounds": rounds, "critiques": critiques, "expert_labels": oracle.spent}


def _expert_round(setting: Setting, learner: Learner, oracle: ExpertOracle, rows: np.ndarray) -> dict[str, Any]:
    """Expert labels on pool rows (the caller takes them out of the pool)."""
    stats = _attack_stats(setting, setting.pool.queries(rows), learner.predict_proba(setting.pool.x_strong[rows]))
    learner.targets[rows] = _one_hot(oracle.label_pool(rows), setting.task.n_classes)
    learner.weights[rows] = setting.config.expert_weight
    return stats


def _loop_round(setting: Setting, learner: Learner, oracle: ExpertOracle, context: AttackContext, attacker: Any,
                critic: Any, allowance: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Attack, critique, expert labels where the critic is least sure, and the learner's new targets."""
    config, k = setting.config, setting.task.n_classes
    queries = attacker.propose(context, config.queries)
    if not len(queries):
        return {"queries": 0, **attacker.describe_round()}, []
    learner_probs = learner.predict_proba(queries.x_strong)
    stats = {**_attack_stats(setting, queries, learner_probs), **attacker.describe_round()}
    critique = critic.critique(queries, learner_probs)
    stats["critic_accuracy"] = float((critique.labels == setting.true_labels(queries)).mean())  # scoring only
    experts = _least_sure(critique.confidence, min(allowance, len(queries)))
    expert_labels = _expert_labels(oracle, queries, experts)
    targets, weights = critique.probs.astype(np.float32), np.ones(len(queries), dtype=np.float32)
    targets[experts], weights[experts] = _one_hot(expert_labels, k), config.expert_weight
    pool_rows = ~queries.generated
    learner.targets[queries.source[pool_rows]] = targets[pool_rows]
    learner.weights[queries.source[pool_rows]] = weights[pool_rows]
    if (~pool_rows).any():
        learner.add(queries.x_strong[~pool_rows], targets[~pool_rows], weights[~pool_rows])
    context.available[queries.source[pool_rows]] = False
    bought = dict(zip(experts.tolist(), expert_labels.tolist()))
    notes = [{"input": str(queries.inputs[i])[:300], "kind": queries.kind[i], "learner": int(learner_probs[i].argmax()),
              "critic": int(critique.labels[i]), "confidence": round(float(critique.confidence[i]), 4),
              "critique": critique.texts[i], "expert": bought.get(i)} for i in range(len(queries))]
    return stats, notes


def _expert_labels(oracle: ExpertOracle, queries: Queries, rows: np.ndarray) -> np.ndarray:
    labels = np.zeros(len(rows), dtype=int)
    generated = queries.generated[rows]
    if (~generated).any():
        labels[~generated] = oracle.label_pool(queries.source[rows[~generated]])
    if generated.any():
        chosen = rows[generated]
        labels[generated] = oracle.label_generated([queries.inputs[i] for i in chosen], queries.source[chosen],
                                                   queries.flipped[chosen])
    return labels


def _attack_stats(setting: Setting, queries: Queries, learner_probs: np.ndarray) -> dict[str, Any]:
    """How often the learner, before this round's update (its `[m, k]` probabilities on the queries), is wrong
    on the round's queries (scoring only)."""
    if not len(queries):
        return {"queries": 0}
    wrong = learner_probs.argmax(1) != setting.true_labels(queries)
    return {"queries": len(queries), "attack_success": float(wrong.mean())}


def fresh_attack(setting: Setting, learner: Learner) -> dict[str, Any]:
    """The final learner against the fresh attacker, on test inputs (its queries scored with test labels),
    beside the learner's error on all of test (what a random attacker would find)."""
    config = setting.config
    test_pool = Pool(setting.test_inputs, setting.x_test_weak, setting.x_test_strong,
                     setting.weak_head.predict_proba(setting.x_test_weak))
    attacker = make_attacker(config.eval_attacker)
    context = AttackContext(test_pool, np.ones(len(test_pool), dtype=bool), learner, None,
                            np.random.default_rng([config.seed, 99]), None)
    rows = attacker.rank(context)[: config.eval_queries]
    predictions = learner.predict_proba(setting.x_test_strong).argmax(1)
    return {"attacker": spec_name(config.eval_attacker), "queries": int(len(rows)),
            "success": float((predictions[rows] != setting.y_test[rows]).mean()),
            "random_success": float((predictions != setting.y_test).mean())}


def run_alc(config: ALCConfig, cache: ActivationCache | None = None, task: Task | None = None,
            splits: Splits | None = None, progress: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Every strategy of `config` on one seed; the result a run record holds."""
    setting = prepare(config, cache, task, splits)
    budget = config.budget(len(setting.pool))
    if budget > len(setting.pool):
        raise SuperalignError(f"expert_budget {budget} exceeds the {len(setting.pool)} transfer examples")
    y_test, k = setting.y_test, setting.task.n_classes
    weak_correct = setting.weak_head.predict_proba(setting.x_test_weak).argmax(1) == y_test
    ceiling = make_head(config.head, k, config.seed).fit(setting.pool.x_strong, setting.y_transfer)
    ceiling_correct = ceiling.predict_proba(setting.x_test_strong).argmax(1) == y_test
    result: dict[str, Any] = {
        "budget": budget, "n": {"transfer": len(setting.pool), "test": int(len(y_test)),
                                 "weak_train": int(len(setting.supervision.labels))},
        "labels_read": {"weak supervisor and critic": "weak_train ground truth",
                        "strategies": f"transfer ground truth through the oracle, at most {budget} labels",
                        "test": "evaluation and the fresh attacker's score only"},
        "weak": {"accuracy": float(weak_correct.mean()), "test_correct": _bits(weak_correct)},
        "ceiling": {"accuracy": float(ceiling_correct.mean()), "test_correct": _bits(ceiling_correct)},
        "strategies": {},
    }
    for strategy in config.strategies:
        progress(strategy)
        oracle = ExpertOracle(setting.y_transfer, budget, setting.computed_label)
        run = run_strategy(setting, strategy, oracle)
        predictions = run["learner"].predict_proba(setting.x_test_strong).argmax(1)
        assert oracle.spent <= budget
        result["strategies"][strategy] = {
            "test_accuracy": float((predictions == y_test).mean()),
            "test_correct": _bits(predictions == y_test),
            "test_predictions": predictions.tolist(),
            "expert_labels": run["expert_labels"],
            "rounds": run["rounds"],
            "critiques": run["critiques"],
            "fresh_attack": fresh_attack(setting, run["learner"]),
        }
    return result


def _bits(correct: np.ndarray) -> str:
    return "".join("1" if c else "0" for c in correct)
