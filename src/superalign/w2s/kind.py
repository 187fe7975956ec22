"""Weak-to-strong classification as a kind on the engine (`kind: w2s` in a spec).

One run is an `ExperimentConfig` (task, weak and strong encoders, method, seed, ...); its result is the record's
metrics, PGR, budget and per-example test correctness. Every (task, encoder) is featurized once in the parent
before dispatch, so workers only read the activation cache. The key of a run is the hash of its keyed fields, the
same as before the engine existed: stores written by earlier versions are read as they are.
"""

from __future__ import annotations

from typing import Callable

from superalign.engine.kind import Kind, Table
from superalign.w2s.pipeline import ExperimentConfig, keyed_fields, run_experiment
from superalign.w2s.setting import prepare_task


def featurize_pairs(configs: list[ExperimentConfig]) -> list[tuple[str, int, str]]:
    """The distinct (task, subset size, encoder) triples that the configs need."""
    return sorted({(c.task, c.max_examples, enc) for c in configs for enc in [c.weak, c.strong, *c.intermediate]})


def prefeaturize(configs: list[ExperimentConfig], progress: Callable[[], None] = lambda: None) -> int:
    """Computes every (task, encoder) once, in this process, so workers only read the cache."""
    from superalign.models.cache import ActivationCache
    from superalign.models.encoder import get_encoder

    cache = ActivationCache()
    pairs = featurize_pairs(configs)
    for (task_name, max_examples, encoder_name) in pairs:
        config = ExperimentConfig(task=task_name, max_examples=max_examples)
        cache.featurize(prepare_task(config), get_encoder(encoder_name))
        progress()
    return len(pairs)


def _prepare(configs: list[ExperimentConfig], progress) -> None:
    prefeaturize(configs, progress("featurizing", len(featurize_pairs(configs))))


def _check(configs: list[ExperimentConfig]) -> None:
    from superalign.w2s.grid import validate_names

    validate_names(configs)


def summarize_records(records: list[dict]) -> Table:
    from superalign.w2s.summary import HEADER, flatten, summarize, table_rows

    summary = summarize(flatten(records))
    notes = []
    if summary["flagged"].any():
        notes.append("⚑ gap under 15 test examples (or a seed's under 3): the ratio is not a measurement there")
    return Table("weak-to-strong (test accuracy; PGR = ratio of mean accuracies)", HEADER, table_rows(summary), notes)


def _sugar(spec: dict, where: str) -> dict:
    from superalign.w2s.grid import ladder_sugar

    return ladder_sugar(spec, where)


def _resources(config: dict) -> dict[str, float]:
    """A run whose method trains a model (lora-rm, finetune) gets SUPERALIGN_GPUS_PER_RUN GPUs from Ray."""
    from superalign.settings import settings
    from superalign.w2s.method import METHODS

    trains = METHODS.get(config["method"]).trains_model
    return {"cpus": 1.0, "gpus": settings().gpus_per_run if trains else 0.0}


KIND = Kind("w2s", ExperimentConfig, run_experiment, summarize_records, keyed=keyed_fields, check=_check,
            prepare=_prepare, sugar=_sugar, resources=_resources, help="weak-to-strong generalization of a classifier (PGR of test accuracy)")
