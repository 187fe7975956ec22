"""Money pumps and shutdown manipulation.

A pump: a plan that a rule produces node by node, while another available plan strictly dominates it
ex ante (the agent could have been sure to do better, and its own choices led it elsewhere).
Shutdown manipulation: the agent's probability of shutting down differs between observations, i.e. it
moves shutdown probability toward the branches it likes least.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from superalign.decision.plans import Plan, lottery
from superalign.decision.rules import decide, strictly_dominates
from superalign.decision.tree import Chance, DecisionTree, Node


@dataclass
class Pump:
    chosen: Plan
    dominating: Plan
    relation: str


def find_pumps(tree: DecisionTree, rule: str, plans: list[Plan], base: str = "stochastic",
               relations: tuple[str, ...] = ("stochastic", "timestep")) -> list[Pump]:
    """Plans the rule chooses that another candidate plan strictly dominates ex ante."""
    pumps = []
    for chosen in decide(rule, plans, tree, base).chosen:
        for relation in relations:
            try:
                better = next((q for q in plans if strictly_dominates(relation, tree, tree.root, q, chosen)), None)
            except Exception:  # a relation the tree cannot support (no totals for timestep dominance)
                better = None
            if better is not None:
                pumps.append(Pump(chosen, better, relation))
    return pumps


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
