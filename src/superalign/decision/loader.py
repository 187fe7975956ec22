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


def _has_button(spec: Any) -> bool:
    if isinstance(spec, dict):
        return bool(spec.get("button")) or any(_has_button(v) for v in spec.values())
    if isinstance(spec, list):
        return any(_has_button(v) for v in spec)
    return False


def build_node(spec: Any, where: str, pressed: str | None = None) -> Node:
    """`pressed`: when the button was pressed on the way here ("never" until a button node says otherwise,
    in a tree that has one; None in a tree without a button)."""
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
                        None if total is None else number(total, where), bool(spec.get("shutdown", False)), pressed)
    if "decision" in spec:
        options = spec.get("options") or {}
        return Decision(str(spec["decision"]),
                        tuple((str(a), build_node(n, f"{where}/{a}", pressed)) for a, n in options.items()))
    if "chance" in spec:
        button = bool(spec.get("button", False))
        branches = []
        for i, b in enumerate(spec.get("branches") or []):
            label = str(b.get("label", b.get("press", i)))
            press = pressed
            if button:
                if "press" not in b:
                    raise SuperalignError(f"{where}/{label}: a branch of the button node needs 'press' "
                                          "(the timestep the button is pressed, or 'never')")
                press = str(b["press"])
            branches.append((label, number(b.get("p"), f"{where}/{label}"), build_node(b.get("then"), f"{where}/{label}", press)))
        return Chance(str(spec["chance"]), tuple(branches), button)
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


MAX_DEPTH = 200  # far deeper than any tree an exact analysis can enumerate plans of


def _check_shape(node: Any, where: Path) -> None:
    """Refuses a tree that refers to itself (a YAML anchor used inside itself) or is nested beyond MAX_DEPTH,
    before anything recurses into it."""
    stack = [(node, 0, frozenset())]
    while stack:
        item, depth, ancestors = stack.pop()
        if not isinstance(item, (dict, list)):
            continue
        if id(item) in ancestors:
            raise SuperalignError(f"{where}: the tree contains itself (a YAML anchor used inside its own node); "
                                  "write the repeated subtree out")
        if depth > MAX_DEPTH:
            raise SuperalignError(f"{where}: the tree is nested more than {MAX_DEPTH} levels deep; "
                                  "exact analysis needs a smaller tree")
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1, ancestors | {id(item)}) for child in children)


def load_tree(path: Path) -> tuple[DecisionTree, list[Plan]]:
    """The tree and the named plans of a YAML file."""
    path = Path(path)
    spec = read_yaml(path, "decision tree")
    if not isinstance(spec, dict) or "tree" not in spec:
        raise SuperalignError(f"{path}: expected a mapping with 'tree' (and 'preferences', optional 'plans')")
    _check_shape(spec, path)
    tree = DecisionTree(build_node(spec["tree"], "tree", "never" if _has_button(spec["tree"]) else None), build_preferences(spec.get("preferences")),
                        name=str(spec.get("name", path.stem)))
    names = [d.name for d in tree.decision_nodes()]
    if len(set(names)) != len(names):
        raise SuperalignError(f"{path}: decision node names must be unique ({names})")
    plans = [build_plan(p, label) for label, p in (spec.get("plans") or {}).items()]
    return tree, plans
