"""The weak-to-strong experiment: weak supervisor -> weak labels -> strong student, with a strong ceiling.

    1. weak supervisor: fitted on `weak_train` ground truth; by default a head on weak features, or another
       supervisor (`superalign.w2s.supervisor`: a language-model judge under an oversight protocol)
    2. weak labels: its soft predictions on `transfer` (and on `val`, for the student's own choices)
    3. student: the method, on strong features of `transfer` with the weak labels, and exactly the ground
       truth its declared budget allows (see `superalign.w2s.method`)
    4. ceiling: the same head (or, for methods that train the model itself, the same recipe) trained on
       `transfer` ground truth
    5. evaluation of all three on `test`; test labels are read only here.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from superalign.data.task import Splits, Task
from superalign.metrics import agreement, classification_metrics, copied_mistakes, pgr
from superalign.io import stable_hash
from superalign.models.cache import ActivationCache
from superalign.models.sizes import param_count
from superalign.w2s.method import METHODS, LabelledSplit, Method, MethodContext, StudentSplit, budget_rank, make_method
from superalign.w2s.setting import SettingConfig, prepare_setting, prepare_task
from superalign.w2s.supervisor import DEFAULT_SUPERVISOR, Supervisor, make_supervisor


class ExperimentConfig(SettingConfig):
    """Everything that determines one weak-to-strong run; its hash keys the run store. The setting's fields
    (task, weak, strong, head, seed, splits, max_examples) come from `SettingConfig`."""

    method: str = Field("naive", description="weak-to-strong method")
    method_options: dict[str, Any] = Field(default_factory=dict)
    intermediate: list[str] = Field(default_factory=list, description="rungs between weak and strong (bootstrap)")
    gt_validation: bool = Field(False, description="opt in to ground-truth labels on val (recorded as such)")
    supervisor: str = Field(DEFAULT_SUPERVISOR, description="where the weak labels come from (superalign.w2s.supervisor)")
    supervisor_options: dict[str, Any] = Field(default_factory=dict)

    def config_hash(self) -> str:
        return stable_hash(keyed_fields(self.model_dump(mode="json")), length=16)


def keyed_fields(config: dict[str, Any]) -> dict[str, Any]:
    """The fields of a config (as recorded) that key a run: the supervisor is left out at its default, so that
    every run recorded before the field existed keeps its key and its group."""
    if config.get("supervisor", DEFAULT_SUPERVISOR) == DEFAULT_SUPERVISOR and not config.get("supervisor_options"):
        return {k: v for k, v in config.items() if k not in ("supervisor", "supervisor_options")}
    return config


class Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        yield
        self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 4)


@dataclass
class TrainedModels:
    """The three trained models of one experiment, with what is needed to query them on new inputs."""

    config: ExperimentConfig
    task: Task
    splits: Splits
    weak_encoder: Any
    strong_encoder: Any
    weak_head: Supervisor  # (weak features, inputs) -> probabilities
    student: Method  # a fitted method: StudentSplit -> probabilities
    ceiling: Method  # the ceiling, fitted on transfer ground truth: StudentSplit -> probabilities
    weak_transfer: np.ndarray  # [n_transfer, k] the weak labels the student learned from
    x_weak: np.ndarray  # [n, d_weak]
    x_strong: np.ndarray  # [n, d_strong]

    def probabilities(self, x_weak: np.ndarray, x_strong: np.ndarray, inputs=None) -> dict[str, np.ndarray]:
        """Each model's `[n, k]` probabilities for inputs given by their weak and strong features."""
        return {"weak": self.weak_head.predict_proba(x_weak, inputs),
                "student": self.student.predict_proba(StudentSplit(x_strong, inputs, None)),
                "ceiling": self.ceiling.predict_proba(StudentSplit(x_strong, inputs, None))}


def labelled_split(budget: str, x_strong: np.ndarray, x_weak: np.ndarray, y: np.ndarray) -> LabelledSplit | None:
    """The supervisor's ground-truth data, cut to what `budget` allows: nothing, weak features, or both."""
    if budget_rank(budget) < budget_rank("supervisor-gt-weak"):
        return None
    strong = x_strong if budget_rank(budget) >= budget_rank("supervisor-gt-strong") else None
    return LabelledSplit(strong, x_weak, y)


def fit_ceiling(config: ExperimentConfig, method_cls: type[Method], context: MethodContext,
                transfer: StudentSplit, val: StudentSplit, labels: np.ndarray) -> Method:
    """The ceiling: `naive` on transfer ground truth (one-hot labels: the same head as every student), or, for
    methods that train the model itself (`ceiling = "self"`), the same method and options on ground truth."""
    truth = StudentSplit(transfer.features, transfer.inputs, np.eye(context.n_classes, dtype=np.float32)[labels],
                         transfer.rung_features, weak_features=transfer.weak_features)
    name, options = (config.method, config.method_options) if method_cls.ceiling == "self" else ("naive", {})
    ceiling_context = MethodContext(n_classes=context.n_classes, seed=context.seed, head=context.head,
                                    strong_encoder=context.strong_encoder)
    return make_method(name, options, ceiling_context).fit(truth, val)


def train_models(config: ExperimentConfig, cache: ActivationCache | None = None, task: Task | None = None,
                 splits: Splits | None = None, timer: Timer | None = None) -> TrainedModels:
    """Steps 1-4: weak supervisor, weak labels, student, ceiling. Test labels are not read here."""
    cache = cache or ActivationCache()
    timer = timer or Timer()
    with timer.stage("load_task"):
        task = task or prepare_task(config)
    with timer.stage("featurize"):
        setting = prepare_setting(config, cache, task, splits)
        rungs = {name: setting.features(name) for name in config.intermediate}
    splits, x_weak, x_strong = setting.splits, setting.x_weak, setting.x_strong  # [n, d_weak], [n, d_strong]
    weak_encoder, strong_encoder = setting.weak_encoder, setting.strong_encoder
    y = task.labels
    k = task.n_classes
    wt, tr, va = splits.weak_train, splits.transfer, splits.val

    with timer.stage("weak"):
        weak_head = make_supervisor(config.supervisor, config.supervisor_options, k, task.label_names,
                                    config.head, config.seed).fit(x_weak[wt], task.inputs_at(wt), y[wt])
        weak_transfer = weak_head.predict_proba(x_weak[tr], task.inputs_at(tr))  # [n_transfer, k]
        weak_val = weak_head.predict_proba(x_weak[va], task.inputs_at(va))

    def student_split(idx: np.ndarray, weak_probs: np.ndarray | None) -> StudentSplit:
        return StudentSplit(x_strong[idx], task.inputs_at(idx), weak_probs, {r: f[idx] for r, f in rungs.items()},
                            weak_features=x_weak[idx])

    method_cls = METHODS.get(config.method)
    context = MethodContext(n_classes=k, seed=config.seed, head=config.head, intermediate=list(config.intermediate),
                            strong_encoder=strong_encoder,
                            labelled=labelled_split(method_cls.budget, x_strong[wt], x_weak[wt], y[wt]))
    # a method of budget "none" reads no labels at all: not even the weak supervisor's
    weak_seen = method_cls.budget != "none"
    val_split = student_split(va, weak_val if weak_seen else None)
    if config.gt_validation:
        val_split.true_labels = y[va]  # explicit opt-in; the record says validation = ground-truth
    transfer_split = student_split(tr, weak_transfer if weak_seen else None)
    with timer.stage("student"):
        method = make_method(config.method, config.method_options, context)
        if method_cls.budget == "transfer-gt":
            transfer_split.true_labels = y[tr]  # oracle variants only; recorded
        student = method.fit(transfer_split, val_split)
    with timer.stage("ceiling"):
        ceiling = fit_ceiling(config, method_cls, context, student_split(tr, weak_transfer), val_split, y[tr])
    return TrainedModels(config, task, splits, weak_encoder, strong_encoder, weak_head, student, ceiling,
                         weak_transfer, x_weak, x_strong)


def _tied(probs: np.ndarray) -> np.ndarray:
    """[n] whether the largest probability of a row is shared by another class."""
    return (probs >= probs.max(1, keepdims=True) - 1e-9).sum(1) > 1


def run_experiment(config: ExperimentConfig, cache: ActivationCache | None = None,
                   task: Task | None = None, splits: Splits | None = None) -> dict[str, Any]:
    """Runs one experiment and returns its metrics, diagnostics and stage timings (no I/O besides caches).

    `task` and `splits` override what the config names (tests use them to tamper with labels).
    """
    timer = Timer()
    trained = train_models(config, cache, task, splits, timer)
    task, splits, student = trained.task, trained.splits, trained.student
    method_cls = type(student)
    x_weak, x_strong, weak_transfer = trained.x_weak, trained.x_strong, trained.weak_transfer
    weak_encoder, strong_encoder = trained.weak_encoder, trained.strong_encoder
    y, tr, te = task.labels, splits.transfer, splits.test
    with timer.stage("predict"):
        probs = trained.probabilities(x_weak[te], x_strong[te], task.inputs_at(te))
        weak_test, student_test, ceiling_test = probs["weak"], probs["student"], probs["ceiling"]

    with timer.stage("evaluate"):
        y_test = y[te]  # the only place test labels are read
        metrics = {
            "weak": classification_metrics(weak_test, y_test),
            "student": classification_metrics(student_test, y_test),
            "ceiling": classification_metrics(ceiling_test, y_test),
        }
        result = {
            "metrics": metrics,
            "pgr": pgr(metrics["weak"]["accuracy"], metrics["student"]["accuracy"], metrics["ceiling"]["accuracy"]),
            "pgr_auroc": pgr(metrics["weak"]["auroc"], metrics["student"]["auroc"], metrics["ceiling"]["auroc"]),
            "gap": metrics["ceiling"]["accuracy"] - metrics["weak"]["accuracy"],
            "student_weak_agreement": agreement(student_test, weak_test),
            "copied_weak_mistakes": copied_mistakes(student_test, weak_test, y_test),
            # Diagnostics on transfer (its ground truth trains the ceiling anyway; nothing is selected on it).
            # A label whose top probability is shared (0.5/0.5) is an abstention: counted wrong, not as class 0.
            "weak_label_accuracy": float(((weak_transfer.argmax(1) == y[tr]) & ~_tied(weak_transfer)).mean()),
            "weak_label_abstained": float(_tied(weak_transfer).mean()),
            "n": {name: int(len(idx)) for name, idx in splits.items()},
            "validation": "ground-truth" if config.gt_validation else "weak-labels",
            # which labels the student read (see superalign.w2s.method); oracle = transfer ground truth
            "budget": method_cls.budget,
            "supervisor": {"name": config.supervisor, "reads": type(trained.weak_head).reads,
                           **trained.weak_head.diagnostics()},
            "oracle": method_cls.budget == "transfer-gt",
            "ceiling": "same recipe on ground truth" if method_cls.ceiling == "self" else "head on ground truth",
            # Model sizes, so reports can plot against them without loading any model; parameter-free
            # encoders (raw values, PCA) are sized by their feature dimension instead.
            "params": {"weak": param_count(weak_encoder), "strong": param_count(strong_encoder)},
            "dims": {"weak": int(x_weak.shape[1]), "strong": int(x_strong.shape[1])},
        }
        result["method_diagnostics"] = student.diagnostics(y[tr])  # with transfer ground truth, record only
    result["timings"] = timer.seconds
    result["test_predictions"] = {"student": student_test.argmax(1).tolist()}
    # Per-example correctness on test ("0"/"1" per example), so summaries can resample test examples.
    result["test_correct"] = {name: "".join("1" if c else "0" for c in (p.argmax(1) == y_test))
                              for name, p in probs.items()}
    return result
