"""One spec format for every kind: a YAML file (or the dict a command's flags build) becomes validated configs.

    kind: w2s                      # which kind (an unknown name gets the list of the registered ones)
    task: [digits, breast-cancer]  # a list on a field makes a grid axis ...
    weak: pca:4
    strong: raw
    intermediate: [pca:16]         # ... except on a field that is itself a list: there a list of lists is the axis
    method: [naive, aux-conf]
    seeds: 3                       # seeds 0, 1, 2 (every kind); or a list: [0, 7]
    exclude: [{task: breast-cancer, method: aux-conf}]     # drop grid points matching every field given
    runs: [{method: naive}, {method: bootstrap, intermediate: [pca:16], seeds: 1}]   # irregular rows: each one
                                   # merged over the fields above (its own win, seeds too), then expanded
    name: my-grid                  # optional label

Every bad value is one line naming the field, the value and what is allowed.
"""

from __future__ import annotations

import itertools
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from superalign.engine.kind import KINDS, Kind
from superalign.errors import SuperalignError
from superalign.io import read_yaml

SPEC_KEYS = {"kind", "seeds", "runs", "exclude", "name"}


def parse_seeds(value: Any, where: str) -> list[int]:
    """`seeds: N` means seeds 0..N-1, a list names them; anything else is one clear error."""
    if isinstance(value, bool) or not isinstance(value, (int, list, tuple)):
        raise SuperalignError(f"{where}: seeds: {value!r} is not a number of seeds or a list of seeds; "
                              "write e.g. seeds: 3 (seeds 0, 1, 2) or seeds: [0, 7]")
    if isinstance(value, int):
        if value < 1:
            raise SuperalignError(f"{where}: seeds: {value} runs nothing; give at least 1")
        return list(range(value))
    if not value or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value):
        raise SuperalignError(f"{where}: seeds: {value!r}: a list of seeds holds whole numbers >= 0, e.g. [0, 7]")
    return list(value)


def _is_list_field(model: type[BaseModel], name: str) -> bool:
    annotation = model.model_fields[name].annotation
    optional = typing.get_origin(annotation) in (typing.Union, types.UnionType)  # list[str] | None
    options = typing.get_args(annotation) if optional else (annotation,)
    return any(typing.get_origin(a) in (list, tuple, set) or a in (list, tuple, set) for a in options)


def _axes(model: type[BaseModel], fields: dict[str, Any]) -> dict[str, list]:
    """Each field's values: a one-element list for a fixed value, several for a grid axis."""
    axes = {}
    for name, value in fields.items():
        if name in model.model_fields and _is_list_field(model, name):
            grid = isinstance(value, list) and bool(value) and all(isinstance(v, list) for v in value)
        else:
            grid = isinstance(value, list)
        if grid and not value:
            raise SuperalignError(f"{name}: an empty list makes a grid of nothing; give at least one value")
        axes[name] = list(value) if grid else [value]
    return axes


def _validated(kind: Kind, fields: dict[str, Any], where: str) -> BaseModel:
    try:
        return kind.config(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(map(str, first["loc"])) or "(config)"
        value = first.get("input")
        shown = "" if isinstance(value, dict) else f" = {value!r}"
        raise SuperalignError(f"{where}: {field}{shown}: {first['msg']} (kind {kind.name})") from None
    except SuperalignError as exc:
        raise SuperalignError(f"{where}: {exc}") from None


def expand(spec: dict[str, Any], where: str = "spec") -> tuple[Kind, list[BaseModel]]:
    """The kind named by the spec and its validated configs (grid x runs x seeds, less `exclude`), each once."""
    if not isinstance(spec, dict):
        raise SuperalignError(f"{where}: a spec is a mapping with kind: and the fields of its configs")
    if "kind" not in spec:
        raise SuperalignError(f"{where}: no kind: given; known kinds: {', '.join(sorted(KINDS.names()))}")
    kind = KINDS.get(str(spec["kind"]))
    if kind.sugar is not None:
        spec = kind.sugar(dict(spec), where)
    model = kind.config
    fixed = {k: v for k, v in spec.items() if k not in SPEC_KEYS}
    unknown = sorted(set(fixed) - set(model.model_fields))
    if unknown:
        raise SuperalignError(f"{where}: unknown field(s) {unknown} for kind {kind.name}; "
                              f"known: {', '.join(sorted(model.model_fields))}")
    has_seed = "seed" in model.model_fields
    if "seeds" in spec and not has_seed:
        raise SuperalignError(f"{where}: seeds: kind {kind.name} has no seed field")
    seeds = parse_seeds(spec["seeds"], where) if "seeds" in spec else None
    if seeds is not None and "seed" in fixed:
        raise SuperalignError(f"{where}: give seeds: or seed:, not both")
    for key in ("runs", "exclude"):
        rules = spec.get(key) or []
        if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
            raise SuperalignError(f"{where}: {key}: {rules!r} is not a list of mappings; write e.g. "
                                  f"{key}: [{{field: value}}]")
    points = []
    for run in spec.get("runs") or [{}]:  # irregular rows: each merged over the fixed fields, then expanded
        run = dict(run)
        own = parse_seeds(run.pop("seeds"), where) if "seeds" in run else seeds  # a costly row may have fewer
        if unknown := sorted(set(run) - set(model.model_fields)):
            raise SuperalignError(f"{where}: runs: unknown field(s) {unknown} for kind {kind.name}")
        axes = _axes(model, {**fixed, **run})
        for values in itertools.product(*axes.values()):
            point = dict(zip(axes, values))
            points += [{**point, "seed": s} for s in own] if own is not None else [point]
    excludes = spec.get("exclude") or []
    for rule in excludes:
        if unknown := sorted(set(rule) - set(model.model_fields)):
            raise SuperalignError(f"{where}: exclude rule {rule} names unknown field(s) {unknown}")
    configs = {}
    for point in points:
        config = _validated(kind, point, where)
        dumped = config.model_dump(mode="json")
        if any(all(dumped.get(k) == v for k, v in rule.items()) for rule in excludes):
            continue
        configs.setdefault(config_key(kind, config), config)
    if not configs:
        raise SuperalignError(f"{where}: the spec expands to no runs; check its lists and excludes")
    return kind, list(configs.values())


def load_spec(path: Path) -> tuple[Kind, list[BaseModel], str]:
    """(kind, configs, name) of a spec file."""
    path = Path(path)
    spec = read_yaml(path, "spec")
    if spec is None:
        raise SuperalignError(f"{path}: the spec is empty; it needs at least kind: and the fields of its runs")
    kind, configs = expand(spec, where=str(path))
    return kind, configs, str(spec.get("name", path.stem))


def config_key(kind: Kind, config: BaseModel) -> str:
    """The run's key in the store, one format for every kind: a stable hash of its keyed config fields."""
    from superalign.io import stable_hash

    return stable_hash(kind.keyed(config.model_dump(mode="json")), length=16)
