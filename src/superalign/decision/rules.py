"""Decision rules: which plans are choosable, with a reason for every rejected one.

Static rules compare whole plans from one node: `eu`, `statewise`, `stochastic`, `timestep` (conditioning
on the button-press time) and `timestep-length` (conditioning on trajectory length: the flawed variant).
Dynamic rules say what an agent that chooses node by node ends up doing, with a static rule as its
base (default `stochastic`): `myopic`, `sophisticated`, `resolute`, `dsm` (Dynamic Strong Maximality).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from superalign.decision.plans import Plan, lottery, reached
from superalign.decision.relations import (expected_utility, stochastically_dominates, timestep_dominates,
                                           timestep_length_dominates)
from superalign.decision.tree import Chance, Decision, DecisionTree, Node, Terminal, walk
from superalign.errors import SuperalignError
from superalign.registry import Registry

STATIC = ("eu", "statewise", "stochastic", "timestep", "timestep-length")
DYNAMIC = ("myopic", "sophisticated", "resolute", "dsm")


@dataclass
class Verdict:
    chosen: list[Plan]
    rejected: dict[Plan, str] = field(default_factory=dict)


# --- static rules -----------------------------------------------------------------------------

def _by_dominance(plans: list[Plan], node: Node, dominates: Callable, name: str) -> Verdict:
    lots = {p: lottery(node, p) for p in plans}
    verdict = Verdict([])
    for p in plans:
        better = next((q for q in plans if q != p and dominates(lots[q], lots[p])), None)
        if better is None:
            verdict.chosen.append(p)
        else:
            verdict.rejected[p] = f"{name}-dominated by [{better.describe()}]"
    return verdict


def _states(node: Node) -> list[dict[str, str]]:
    """Every assignment of a branch label to each chance node below `node` (the states of the world)."""
    states = [{}]
    for chance in [n for n in walk(node) if isinstance(n, Chance)]:
        states = [{**s, chance.name: label} for s in states for label, _, _ in chance.branches]
    return states


def _outcome_in_state(node: Node, plan: Plan, state: dict[str, str]) -> str | None:
    """The outcome of a pure plan in a state; None where the plan randomises on the way."""
    while not isinstance(node, Terminal):
        if isinstance(node, Chance):
            node = next(child for label, _, child in node.branches if label == state[node.name])
        else:
            dist = plan.at(node.name)
            if len(dist) != 1:
                return None
            node = node.child(next(iter(dist)))
    return node.outcome


def _statewise(plans: list[Plan], node: Node, tree: DecisionTree) -> Verdict:
    states = _states(node)
    outcomes = {p: [_outcome_in_state(node, p, s) for s in states] for p in plans}
    prefs = tree.preferences

    def dominates(q: Plan, p: Plan) -> bool:
        a, b = outcomes[q], outcomes[p]
        if None in a or None in b:
            return False  # statewise comparison is defined for plans that do not randomise
        return all(prefs.at_least(x, y) for x, y in zip(a, b)) and any(prefs.better(x, y) for x, y in zip(a, b))

    verdict = Verdict([])
    for p in plans:
        better = next((q for q in plans if q != p and dominates(q, p)), None)
        if better is None:
            verdict.chosen.append(p)
        else:
            verdict.rejected[p] = f"statewise-dominated by [{better.describe()}]"
    return verdict


def _eu(plans: list[Plan], node: Node, tree: DecisionTree) -> Verdict:
    values = {p: expected_utility(lottery(node, p), tree.preferences) for p in plans}
    best = max(values.values())
    verdict = Verdict([p for p in plans if values[p] == best])
    for p in plans:
        if values[p] < best:
            verdict.rejected[p] = f"expected utility {values[p]} < {best}"
    return verdict


def static_verdict(rule: str, plans: list[Plan], node: Node, tree: DecisionTree) -> Verdict:
    if rule == "eu":
        return _eu(plans, node, tree)
    if rule == "statewise":
        return _statewise(plans, node, tree)
    if rule == "stochastic":
        return _by_dominance(plans, node, lambda x, y: stochastically_dominates(x, y, tree.preferences), "stochastically")
    if rule == "timestep":
        return _by_dominance(plans, node, timestep_dominates, "timestep")
    if rule == "timestep-length":
        return _by_dominance(plans, node, timestep_length_dominates, "timestep-length")
    raise SuperalignError(f"unknown static rule {rule!r}; use one of {', '.join(STATIC)}")


def strictly_dominates(base: str, tree: DecisionTree, node: Node, x: Plan, y: Plan) -> bool:
    """Whether plan x beats plan y from `node` under the base rule's relation."""
    lx, ly = lottery(node, x), lottery(node, y)
    if base == "eu":
        return expected_utility(lx, tree.preferences) > expected_utility(ly, tree.preferences)
    if base == "stochastic":
        return stochastically_dominates(lx, ly, tree.preferences)
    if base == "timestep":
        return timestep_dominates(lx, ly)
    if base == "timestep-length":
        return timestep_length_dominates(lx, ly)
    if base == "statewise":
        verdict = _statewise([x, y], node, tree)
        return y in verdict.rejected
    raise SuperalignError(f"unknown base rule {base!r}; use one of {', '.join(STATIC)}")


# --- dynamic rules ----------------------------------------------------------------------------

def _continuations(plans: list[Plan], tree: DecisionTree, node: str) -> dict[Plan, Plan]:
    """Each plan's restriction to the decision nodes at and below `node`."""
    below = [n.name for n in walk(tree.node(node)) if isinstance(n, Decision)]
    return {p: p.restricted(below) for p in plans}


def _unique(plans) -> list[Plan]:
    seen, out = set(), []
    for p in plans:
        if p.choices not in seen:
            seen.add(p.choices)
            out.append(p)
    return out


def _choice_at(plan: Plan, node: str) -> tuple:
    return tuple(sorted(plan.at(node).items()))


def _node_maximal(plans: list[Plan], tree: DecisionTree, base: str, consistent: Callable[[Plan], bool] | None = None):
    """For each decision node: the choices at that node of the base-rule-choosable continuations there."""
    allowed: dict[str, set[tuple]] = {}
    for d in tree.decision_nodes():
        conts = _unique(c for p, c in _continuations(plans, tree, d.name).items() if consistent is None or consistent(p))
        chosen = static_verdict(base, conts, d, tree).chosen
        allowed[d.name] = {_choice_at(c, d.name) for c in chosen}
    return allowed


def _follows(plan: Plan, allowed: dict[str, set[tuple]], tree: DecisionTree) -> bool:
    reach = reached(tree.root, plan)
    return all(_choice_at(plan, node) in allowed[node] for node, prob in reach.items() if prob > 0)


def dynamic_verdict(rule: str, plans: list[Plan], tree: DecisionTree, base: str = "stochastic") -> Verdict:
    if rule == "resolute":  # commit at the start to a plan the base rule allows, and follow it
        return static_verdict(base, plans, tree.root, tree)
    if rule == "myopic":  # at each node, choose as if committing from there, not foreseeing later re-choices
        allowed = _node_maximal(plans, tree, base)
    elif rule == "sophisticated":  # backward induction: only continuations the agent will in fact follow
        allowed = {}
        for d in reversed(tree.decision_nodes()):  # walk() is pre-order, so children come after parents
            below = [n.name for n in walk(d) if isinstance(n, Decision) and n.name != d.name]
            conts = _unique(c for c in _continuations(plans, tree, d.name).values()
                            if all(_choice_at(c, b) in allowed[b] for b in below))
            allowed[d.name] = {_choice_at(c, d.name) for c in static_verdict(base, conts, d, tree).chosen}
    elif rule == "dsm":
        return _dsm(plans, tree, base)
    else:
        raise SuperalignError(f"unknown rule {rule!r}; use one of {', '.join(STATIC + DYNAMIC)}")
    verdict = Verdict([])
    for p in plans:
        if _follows(p, allowed, tree):
            verdict.chosen.append(p)
        else:
            bad = next(n for n, pr in reached(tree.root, p).items() if pr > 0 and _choice_at(p, n) not in allowed[n])
            verdict.rejected[p] = f"{rule} choice at {bad!r} does not allow {dict(_choice_at(p, bad))}"
    return verdict


def _earlier_decision(node: Node, parent: str | None = None, out: dict | None = None) -> dict[str, str | None]:
    """Each decision node -> the nearest decision node above it (None for the first)."""
    out = {} if out is None else out
    if isinstance(node, Decision):
        out[node.name] = parent
        for _, child in node.options:
            _earlier_decision(child, node.name, out)
    elif isinstance(node, Chance):
        for _, _, child in node.branches:
            _earlier_decision(child, parent, out)
    return out


START = "<start>"


def _dsm(plans: list[Plan], tree: DecisionTree, base: str) -> Verdict:
    """Dynamic Strong Maximality, node by node (Thornley; Petersen's formal statement).

    At each decision node the permissible continuations are those maximal there under the base relation
    that continue a plan permissible at the decision node before it (or ex ante, at the start) and reaching
    this one; only where no such plan is maximal here does the agent fall back to everything maximal here,
    and only at this node (the global reading dropped the earlier plans everywhere once one node failed).
    """
    earlier = _earlier_decision(tree.root)
    # The start, before nature's first move, is a planning point too: the agent's first choice continues a
    # plan that was maximal ex ante (this is how DSM agents come to adopt the 4/9 plan, Thornley).
    permissible: dict[str, list[Plan]] = {START: static_verdict(base, plans, tree.root, tree).chosen}
    fell_back: set[str] = set()
    for d in tree.decision_nodes():  # pre-order: a node's earlier node is settled before it
        below = [n.name for n in walk(d) if isinstance(n, Decision)]
        maximal = static_verdict(base, _unique(_continuations(plans, tree, d.name).values()), d, tree).chosen
        before = earlier[d.name] or START
        start = tree.root if before == START else tree.node(before)
        carried = {c.restricted(below).choices for c in permissible[before] if reached(start, c).get(d.name, 0) > 0}
        kept = [c for c in maximal if c.choices in carried]
        if not kept:
            fell_back.add(d.name)
        permissible[d.name] = kept or maximal
    # The agent acts node by node: at each node it takes an action that some permissible continuation takes.
    allowed = {d.name: {_choice_at(c, d.name) for c in permissible[d.name]} for d in tree.decision_nodes()}
    verdict = Verdict([])
    for p in plans:
        if _follows(p, allowed, tree):
            verdict.chosen.append(p)
            continue
        bad = next(n for n, pr in reached(tree.root, p).items() if pr > 0 and _choice_at(p, n) not in allowed[n])
        why = "not maximal there" if bad in fell_back else "not maximal there, or not continuing a plan permissible before it"
        action = ", ".join(f"{a}: {q}" if q != 1 else a for a, q in _choice_at(p, bad))
        verdict.rejected[p] = f"dsm: '{action}' at {bad!r} is not permissible ({why})"
    return verdict


def decide(rule: str, plans: list[Plan], tree: DecisionTree, base: str = "stochastic") -> Verdict:
    if rule in STATIC:
        return static_verdict(rule, plans, tree.root, tree)
    return dynamic_verdict(rule, plans, tree, base)


RULES: Registry[str] = Registry("decision rule")
for _name in STATIC + DYNAMIC:
    RULES.add(_name, _name)
