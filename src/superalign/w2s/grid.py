"""Many weak-to-strong configs at once: ladder pairs, grids, YAML configs, and a name check before any work."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Iterable

from pydantic import ValidationError

from superalign.errors import SuperalignError
from superalign.io import read_yaml
from superalign.models.encoder import get_encoder
from superalign.w2s.method import METHODS, method_config
from superalign.w2s.pipeline import ExperimentConfig

# The offline default: pairs whose weak-to-ceiling gap rests on 20-75 test examples per seed (measured
# over seeds 0-4), so a ratio of it is a measurement (MiniLM-L3 -> L6 is left out: one seed in five has a
# gap under 3 examples). BBC News (5 topics; headline + first sentence, so each encoder featurizes 2,225
# short texts once, about 40 s cold on 2 cores) shows weak-to-strong generalization; digits on a PCA -> raw
# pixels ladder is the contrast where it fails (the student's features contain the supervisor's, so it
# learns the supervisor's function back). The binary one-vs-rest BBC tasks are not in the default: their
# gaps are 1-12 test examples.
DEFAULT_PAIRS = [("bbc-news", "tfidf", "minilm-l6"), ("bbc-news", "minilm-l3", "mpnet"),
                 ("bbc-news", "tfidf", "mpnet"), ("digits", "pca:4", "raw")]
DEFAULT_TASKS = ["bbc-news"]  # with --ladder or --weak/--strong but no --task
DEFAULT_LADDER = ["minilm-l3", "minilm-l6", "mpnet"]  # with --task but no ladder
DEFAULT_METHODS = ["naive", "aux-conf"]
DEFAULT_SEEDS = [0, 1, 2, 3, 4]


def default_configs(methods: list[str], seeds: list[int], **common: Any) -> list[ExperimentConfig]:
    """The offline default plan: `DEFAULT_PAIRS` x methods x seeds."""
    return [c for task, weak, strong in DEFAULT_PAIRS for c in grid([task], [weak, strong], methods, seeds, **common)]


def ladder_pairs(ladder: list[str]) -> list[tuple[str, str, list[str]]]:
    """Every (weak, strong) pair with weak below strong on the ladder, and the rungs between them."""
    return [(ladder[i], ladder[j], ladder[i + 1:j]) for i, j in itertools.combinations(range(len(ladder)), 2)]


def grid(tasks: list[str], ladder: list[str], methods: list[str], seeds: list[int],
         **common: Any) -> list[ExperimentConfig]:
    configs = []
    for task, (weak, strong, between), method, seed in itertools.product(tasks, ladder_pairs(ladder), methods, seeds):
        needs_rungs = METHODS.get(method).needs_rungs
        if needs_rungs and not between:
            continue  # e.g. bootstrapping needs a rung between weak and strong
        configs.append(make_config(task=task, weak=weak, strong=strong, method=method, seed=seed,
                                   intermediate=between if needs_rungs else [], **common))
    return configs


LADDER_KEYS = ("tasks", "ladder", "ladders", "methods", "include")


def ladder_sugar(spec: dict[str, Any], where: str = "spec") -> dict[str, Any]:
    """The w2s kind's shorthand, rewritten into `runs:` rows of the one spec format:

        tasks: [bbc-news, digits]                # or task:
        ladder: [minilm-l3, minilm-l6, mpnet]    # every weak < strong pair by ladder order
        ladders: {digits: [pca:4, pca:16, raw]}  # a task's own ladder instead
        methods: [naive, bootstrap]              # or method:; a method that needs rungs gets the ones between
                                                 # weak and strong (and skips adjacent pairs)
        include: [{task: bbc-news, weak: tfidf, strong: mpnet}]   # extra rows (method: naive unless given)

    A spec without `ladder`/`ladders` is returned unchanged (apart from `tasks`/`methods` read as lists)."""
    if not any(key in spec for key in LADDER_KEYS):
        return spec
    for key in ("tasks", "methods", "ladder"):
        if key in spec and not isinstance(spec[key], list):
            raise SuperalignError(f"{where}: {key}: {spec[key]!r} is not a list; write e.g. {key}: [a, b]")
    for plural, field in (("tasks", "task"), ("methods", "method")):
        if plural in spec and field in spec:
            raise SuperalignError(f"{where}: give {plural}: or {field}:, not both")
    ladders = spec.pop("ladders", None) or {}
    if not isinstance(ladders, dict):
        raise SuperalignError(f"{where}: ladders: a mapping of task to its ladder, e.g. ladders: {{digits: [pca:4, raw]}}")
    include = spec.pop("include", None) or []
    if not isinstance(include, list) or not all(isinstance(r, dict) for r in include):
        raise SuperalignError(f"{where}: include: {include!r} is not a list of mappings; write e.g. "
                              "include: [{task: digits, weak: pca:4, strong: raw}]")
    tasks = _as_list(spec.pop("tasks", spec.pop("task", [])))
    methods = _as_list(spec.pop("methods", spec.pop("method", ["naive"])))
    ladder = spec.pop("ladder", None)
    rows = []
    for task in tasks:
        steps = ladders.get(task, ladder)
        if not steps or len(steps) < 2:
            raise SuperalignError(f"{where}: task {task!r} needs a ladder of at least two encoders")
        for (weak, strong, between), method in itertools.product(ladder_pairs(list(steps)), methods):
            needs_rungs = METHODS.get(method).needs_rungs
            if needs_rungs and not between:
                continue  # e.g. bootstrapping needs a rung between weak and strong
            rows.append({"task": task, "weak": weak, "strong": strong, "method": method,
                         "intermediate": between if needs_rungs else []})
    rows += [{"method": "naive", **extra} for extra in include]
    if not rows:
        raise SuperalignError(f"{where}: the spec expands to no runs; check tasks, ladder and methods")
    if spec.get("runs"):
        raise SuperalignError(f"{where}: give a ladder (tasks, ladder, methods, include) or runs:, not both")
    return {**spec, "runs": rows}


def make_config(**fields: Any) -> ExperimentConfig:
    try:
        return ExperimentConfig(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SuperalignError(f"config field {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc


def configs_from_yaml(path: Path) -> list[ExperimentConfig]:
    """A YAML file with `tasks`, `ladder` (or `weak` + `strong`), `methods`, `seeds` and any config field: the w2s
    kind's ladder shorthand with the defaults of `superalign run` (bbc-news, MiniLM-L3 < L6 < MPNet, naive and
    aux-conf, five seeds), expanded by the engine's one spec format."""
    from superalign.engine import expand

    spec = read_yaml(path, "config")
    if spec is None:  # an empty file would otherwise start the whole default grid
        raise SuperalignError(f"{path}: the config is empty; give at least tasks and a ladder (or weak and strong)")
    if not isinstance(spec, dict):
        raise SuperalignError(f"{path}: expected a mapping of settings at the top level")
    spec = dict(spec)
    if "seed" in spec and "seeds" not in spec:
        spec["seeds"] = _as_list(spec.pop("seed"))
    spec.setdefault("seeds", DEFAULT_SEEDS)
    if "task" not in spec:
        spec.setdefault("tasks", DEFAULT_TASKS)
    if "method" not in spec:
        spec.setdefault("methods", DEFAULT_METHODS)
    if "ladder" not in spec and "ladders" not in spec:
        spec["ladder"] = [spec.pop("weak"), spec.pop("strong")] if "weak" in spec and "strong" in spec else DEFAULT_LADDER
    return expand({**spec, "kind": "w2s"}, where=str(path))[1]


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def validate_names(configs: Iterable[ExperimentConfig]) -> None:
    """Fail fast, before any work, on an unknown task, encoder, method or supervisor name, or a bad method option."""
    from superalign.data.registry import TASKS
    from superalign.w2s.supervisor import SUPERVISORS

    for config in configs:
        if not config.task.startswith("file:"):
            TASKS.get(config.task)
        for name in [config.weak, config.strong, *config.intermediate]:
            get_encoder(name)
        method_config(config.method, config.method_options)
        SUPERVISORS.get(config.supervisor).validate(config.supervisor_options)
