"""Decision trees from YAML (see examples/decision/). Numbers may be written as fractions: `9/10`."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any


from superalign.decision.plans import Plan
from superalign.decision.tree import Chance, Decision, DecisionTree, Node, Preferences, Terminal
from superalign.errors import SuperalignError
from superalign.io import read_yaml


def number(value: Any, where: str) -> Fraction:
    try:
        return Fraction(str(value))
    except (ValueError, ZeroDivisionError) as exc:
        raise SuperalignError(f"{where}: {value!r} is not a number or fraction like 9/10") from exc


def build_node(spec: Any, where: str) -> Node:
    if not isinstance(spec, dict):
        raise SuperalignError(f"{where}: a node must be a mapping with 'decision', 'chance' or 'outcome'")
    if "outcome" in spec:
        length = spec.get("length")
        total = spec.get("total")
        if total is None and "per_step" in spec:
            if length is None:
                raise SuperalignError(f"{where}: 'per_step' needs a 'length'")
            total = number(spec["per_step"], where) * int(length)
        return Terminal(str(spec["outcome"]), None if length is None else int(length),
                        None if total is None else number(total, where), bool(spec.get("shutdown", False)))
    if "decision" in spec:
        options = spec.get("options") or {}
        return Decision(str(spec["decision"]), tuple((str(a), build_node(n, f"{where}/{a}")) for a, n in options.items()))
    if "chance" in spec:
        branches = []
        for i, b in enumerate(spec.get("branches") or []):
            label = str(b.get("label", i))
            branches.append((label, number(b.get("p"), f"{where}/{label}"), build_node(b.get("then"), f"{where}/{label}")))
        return Chance(str(spec["chance"]), tuple(branches))
    raise SuperalignError(f"{where}: a node needs one of 'decision', 'chance' or 'outcome' (keys: {sorted(spec)})")


def build_preferences(spec: dict | None) -> Preferences:
    spec = spec or {}
    if "utility" in spec:
        return Preferences.from_utility({str(k): number(v, "preferences.utility") for k, v in spec["utility"].items()})
    pairs = []
    for item in spec.get("strict", []):
        parts = [p.strip() for p in str(item).split(">")]
        if len(parts) < 2 or not all(parts):
            raise SuperalignError(f"preferences.strict: {item!r} should read like 'L > U' (or 'A > B > C')")
        pairs.extend(zip(parts, parts[1:]))
    return Preferences.from_pairs(pairs)


def build_plan(spec: dict, label: str) -> Plan:
    choices = {}
    for node, choice in spec.items():
        if isinstance(choice, dict):
            choices[str(node)] = {str(a): number(p, f"plan {label}/{node}") for a, p in choice.items()}
        else:
            choices[str(node)] = str(choice)
    return Plan.make(choices, label=label)


def load_tree(path: Path) -> tuple[DecisionTree, list[Plan]]:
    """The tree and the named plans of a YAML file."""
    path = Path(path)
    spec = read_yaml(path, "decision tree")
    if not isinstance(spec, dict) or "tree" not in spec:
        raise SuperalignError(f"{path}: expected a mapping with 'tree' (and 'preferences', optional 'plans')")
    tree = DecisionTree(build_node(spec["tree"], "tree"), build_preferences(spec.get("preferences")),
                        name=str(spec.get("name", path.stem)))
    names = [d.name for d in tree.decision_nodes()]
    if len(set(names)) != len(names):
        raise SuperalignError(f"{path}: decision node names must be unique ({names})")
    plans = [build_plan(p, label) for label, p in (spec.get("plans") or {}).items()]
    return tree, plans
