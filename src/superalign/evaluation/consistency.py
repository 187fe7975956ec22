"""Consistency checks for models we cannot label (after Fluri et al., "Evaluating Superhuman Models with
Consistency Checks"): violation rates of logical constraints, computed without labels, and whether a
model's inconsistency predicts its actual error.

Checks:
  paraphrase    label-preserving rewordings / shifts must not change the prediction
                (per example: mean total-variation distance between the two distributions)
  monotonicity  appending a second text the model itself assigns to the predicted class must not
                lower that class's probability (per example: the drop, if any)
  negation      P(A) + P(not A) = 1 on negated inputs (a function for tasks that can negate inputs;
                the offline topic tasks cannot, so it is not part of their report)
Labels are used only afterwards, to ask how well inconsistency predicts error.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from superalign.data.task import Task
from superalign.errors import SuperalignError
from superalign.metrics import auroc
from superalign.evaluation.transforms import TEXT_PARAPHRASES, image_transforms
from superalign.models.cache import ActivationCache
from superalign.w2s.pipeline import ExperimentConfig, TrainedModels, train_models


def tv_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per-row total-variation distance between distributions `[n, k]`."""
    return 0.5 * np.abs(p - q).sum(1)


def negation_violation(p_a: np.ndarray, p_not_a: np.ndarray) -> np.ndarray:
    """|P(A) + P(not A) - 1| per example (binary probabilities of A and of its negation)."""
    return np.abs(p_a + p_not_a - 1)


def monotonicity_violation(p_base: np.ndarray, p_more: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """How much the probability of `cls` drops when evidence for it is added (0 when it does not)."""
    rows = np.arange(len(cls))
    return np.maximum(0.0, p_base[rows, cls] - p_more[rows, cls])


def _variant(task: Task, indices: np.ndarray, inputs, name: str) -> Task:
    return Task(f"{task.name}~{name}", inputs, task.labels[indices], task.label_names, task.modality,
                f"{task.name} test split, transformed: {name}")


def _probabilities(trained: TrainedModels, variant: Task, cache: ActivationCache) -> dict[str, np.ndarray]:
    x_weak = np.asarray(cache.featurize(variant, trained.weak_encoder))
    x_strong = np.asarray(cache.featurize(variant, trained.strong_encoder))
    inputs = variant.inputs if variant.modality == "text" else None
    return trained.probabilities(x_weak, x_strong, inputs)


def consistency_report(config: ExperimentConfig, cache: ActivationCache | None = None) -> dict:
    """Trains weak, student and ceiling as in the experiment, then checks them on transformed test inputs."""
    cache = cache or ActivationCache()
    trained = train_models(config, cache)
    task, test = trained.task, trained.splits.test
    if task.modality == "tabular":
        raise SuperalignError(f"task {task.name!r} is tabular: no label-preserving transformations are defined; "
                              "use a text or image task")
    base_inputs = task.inputs_at(test)
    base = trained.probabilities(trained.x_weak[test], trained.x_strong[test],
                                 base_inputs if task.modality == "text" else None)
    per_example: dict[str, dict[str, np.ndarray]] = {m: {} for m in base}
    if task.modality == "text":
        transforms = {name: [f(t) for t in base_inputs] for name, f in TEXT_PARAPHRASES.items()}
    else:
        transforms = {name: f(np.asarray(base_inputs)) for name, f in image_transforms(task.name).items()}
    for name, inputs in transforms.items():
        probs = _probabilities(trained, _variant(task, test, inputs, name), cache)
        for model in base:
            per_example[model][f"paraphrase:{name}"] = tv_distance(base[model], probs[model])
    if task.modality == "text":
        # Monotonicity: append another test text that the same model puts in the same class (label-free).
        rng = np.random.default_rng(config.seed)
        for model in base:
            predicted = base[model].argmax(1)
            partners = np.array([rng.choice(np.flatnonzero(predicted == c)) for c in predicted])
            more = [f"{base_inputs[i]} {base_inputs[j]}" for i, j in enumerate(partners)]
            probs = _probabilities(trained, _variant(task, test, more, f"evidence-{model}"), cache)
            per_example[model]["monotonicity"] = monotonicity_violation(base[model], probs[model], predicted)
    y = task.labels[test]
    report = {"models": {}}
    for model in base:
        checks = per_example[model]
        inconsistency = np.mean(np.stack(list(checks.values())), axis=0)  # [n_test]
        error = (base[model].argmax(1) != y).astype(int)
        rho = spearmanr(inconsistency, error).statistic if error.min() != error.max() else float("nan")
        report["models"][model] = {
            "error_rate": float(error.mean()),
            "mean_inconsistency": float(inconsistency.mean()),
            "violation_rates": {name: float((v > 0.1).mean()) for name, v in checks.items()},
            "mean_violation": {name: float(v.mean()) for name, v in checks.items()},
            "spearman_inconsistency_error": float(rho),
            "auroc_inconsistency_predicts_error": auroc(np.stack([1 - inconsistency, inconsistency], 1), error),
        }
    models = report["models"]
    incons = [models[m]["mean_inconsistency"] for m in models]
    errors = [models[m]["error_rate"] for m in models]
    report["spearman_across_models"] = float(spearmanr(incons, errors).statistic) if len(set(errors)) > 1 else float("nan")
    return report
