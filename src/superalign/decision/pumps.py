"""Money pumps and shutdown manipulation.

A pump: a plan the agent's rule lets it follow, choice by choice, that its *own* relation (the static
rule itself, or a dynamic rule's base) strictly disprefers ex ante to another plan available at the start:
its own choices led it somewhere it agrees is worse. What other relations say about the same plans is a
cross-relation comparison, reported separately: an expected-utility maximiser that timestep dominance
would fault is not being pumped.
Shutdown manipulation: the agent's probability of shutting down differs between observations, i.e. it
moves shutdown probability toward the branches it likes least.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from superalign.decision.plans import Plan, lottery
from superalign.decision.rules import STATIC, decide, strictly_dominates
from superalign.decision.tree import Chance, DecisionTree, Node
from superalign.errors import SuperalignError


@dataclass
class Pump:
    chosen: Plan
    dominating: Plan
    relation: str


def own_relation(rule: str, base: str) -> str:
    """The relation an agent following `rule` holds: a static rule's own, a dynamic rule's base."""
    return rule if rule in STATIC else base


def _dominated(tree: DecisionTree, relation: str, plans: list[Plan], chosen: list[Plan]) -> list[Pump]:
    found = []
    for plan in chosen:
        better = next((q for q in plans if strictly_dominates(relation, tree, tree.root, q, plan)), None)
        if better is not None:
            found.append(Pump(plan, better, relation))
    return found


def find_pumps(tree: DecisionTree, rule: str, plans: list[Plan], base: str = "stochastic") -> list[Pump]:
    """Plans the rule chooses that another candidate strictly beats ex ante under the agent's own relation."""
    return _dominated(tree, own_relation(rule, base), plans, decide(rule, plans, tree, base).chosen)


def cross_relation(tree: DecisionTree, rule: str, plans: list[Plan], base: str = "stochastic",
                   relations: tuple[str, ...] = ("eu", "stochastic", "timestep", "timestep-length")) -> list[Pump]:
    """Chosen plans that a relation the agent does not hold would fault (not pumps); relations the tree
    cannot support (no sum-totals, no button) are skipped."""
    own = own_relation(rule, base)
    chosen = decide(rule, plans, tree, base).chosen
    found = []
    for relation in relations:
        if relation == own:
            continue
        try:
            found.extend(_dominated(tree, relation, plans, chosen))
        except SuperalignError:
            continue
    return found


def shutdown_by_observation(tree: DecisionTree, plan: Plan) -> dict[str, Fraction]:
    """P(shutdown | the first chance node's outcome) for each of its branches; empty without a chance root."""
    root = tree.root
    if not isinstance(root, Chance):
        return {}
    out = {}
    for label, _, child in root.branches:
        out[label] = _shutdown_probability(child, plan)
    return out


def _shutdown_probability(node: Node, plan: Plan) -> Fraction:
    return sum((p for terminal, p in lottery(node, plan).items() if terminal.shutdown), Fraction(0))


def manipulates_shutdown(tree: DecisionTree, plan: Plan) -> bool:
    values = set(shutdown_by_observation(tree, plan).values())
    return len(values) > 1
