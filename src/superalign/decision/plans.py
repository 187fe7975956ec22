"""Plans and the lotteries they induce.

A plan gives, at each decision node, a probability for each action (a pure plan puts 1 on one action).
Decision nodes come after the chance nodes they follow, so a plan already conditions on what the agent
has observed there. A lottery maps terminals to exact probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import product
from typing import Iterable

from superalign.decision.tree import Chance, Decision, Node, Terminal, walk
from superalign.errors import SuperalignError

Lottery = dict[Terminal, Fraction]


@dataclass(frozen=True)
class Plan:
    choices: tuple[tuple[str, tuple[tuple[str, Fraction], ...]], ...]  # (node, ((action, prob), ...))
    label: str = ""

    @classmethod
    def make(cls, choices: dict[str, dict[str, Fraction] | str], label: str = "") -> "Plan":
        items = []
        for node, choice in sorted(choices.items()):
            dist = {choice: Fraction(1)} if isinstance(choice, str) else {a: Fraction(p) for a, p in choice.items()}
            if sum(dist.values()) != 1 or any(p < 0 for p in dist.values()):
                raise SuperalignError(f"plan {label or ''} at node {node!r}: action probabilities must sum to 1")
            items.append((node, tuple(sorted((a, p) for a, p in dist.items() if p > 0))))
        return cls(tuple(items), label)

    def at(self, node: str) -> dict[str, Fraction]:
        for name, dist in self.choices:
            if name == node:
                return dict(dist)
        raise SuperalignError(f"plan {self.describe()} says nothing about decision node {node!r}")

    def describe(self) -> str:
        if self.label:
            return self.label
        parts = []
        for node, dist in self.choices:
            if len(dist) == 1:
                parts.append(f"{node}={dist[0][0]}")
            else:
                parts.append(f"{node}=" + "/".join(f"{a}:{p}" for a, p in dist))
        return ", ".join(parts)

    def restricted(self, nodes: Iterable[str]) -> "Plan":
        keep = set(nodes)
        return Plan(tuple((n, d) for n, d in self.choices if n in keep))


def lottery(node: Node, plan: Plan) -> Lottery:
    """The exact distribution over terminals that following `plan` from `node` induces."""
    out: Lottery = {}
    _accumulate(node, plan, Fraction(1), out)
    return out


def _accumulate(node: Node, plan: Plan, prob: Fraction, out: Lottery) -> None:
    if prob == 0:
        return
    if isinstance(node, Terminal):
        out[node] = out.get(node, Fraction(0)) + prob
    elif isinstance(node, Chance):
        for _, p, child in node.branches:
            _accumulate(child, plan, prob * p, out)
    else:
        for action, p in plan.at(node.name).items():
            _accumulate(node.child(action), plan, prob * p, out)


def outcome_lottery(lot: Lottery) -> dict[str, Fraction]:
    out: dict[str, Fraction] = {}
    for terminal, p in lot.items():
        out[terminal.outcome] = out.get(terminal.outcome, Fraction(0)) + p
    return out


def pure_plans(node: Node) -> list[Plan]:
    """Every pure plan from `node`: one action at each decision node reachable from it."""
    decisions = [n for n in walk(node) if isinstance(n, Decision)]
    return [Plan.make({d.name: a for d, a in zip(decisions, actions)})
            for actions in product(*[[a for a, _ in d.options] for d in decisions])]


def mixed_plans(node: Node, denominator: int) -> list[Plan]:
    """A grid of mixed plans: at each binary decision node, probabilities i/q for every q <= denominator."""
    decisions = [n for n in walk(node) if isinstance(n, Decision)]
    grid = sorted({Fraction(i, q) for q in range(1, denominator + 1) for i in range(q + 1)})
    per_node = []
    for d in decisions:
        actions = [a for a, _ in d.options]
        if len(actions) == 1:
            per_node.append([{actions[0]: Fraction(1)}])
        elif len(actions) == 2:
            per_node.append([{actions[0]: p, actions[1]: 1 - p} for p in grid])
        else:
            raise SuperalignError(f"mixed-plan grids support nodes with at most 2 actions; {d.name!r} has {len(actions)}")
    return [Plan.make(dict(zip([d.name for d in decisions], combo))) for combo in product(*per_node)]


def reached(node: Node, plan: Plan, prob: Fraction = Fraction(1)) -> dict[str, Fraction]:
    """Probability that following `plan` from `node` reaches each decision node."""
    out: dict[str, Fraction] = {}
    if prob == 0 or isinstance(node, Terminal):
        return out
    if isinstance(node, Chance):
        for _, p, child in node.branches:
            for name, q in reached(child, plan, prob * p).items():
                out[name] = out.get(name, Fraction(0)) + q
        return out
    out[node.name] = out.get(node.name, Fraction(0)) + prob
    for action, p in plan.at(node.name).items():
        for name, q in reached(node.child(action), plan, prob * p).items():
            out[name] = out.get(name, Fraction(0)) + q
    return out


def candidate_plans(node: Node, named: Iterable[Plan] = (), grid: int = 0) -> list[Plan]:
    """Named plans, then every pure plan, then (with `grid`) mixed plans; each behaviour listed once."""
    seen, out = set(), []
    for plan in [*named, *pure_plans(node), *(mixed_plans(node, grid) if grid else [])]:
        if plan.choices not in seen:
            seen.add(plan.choices)
            out.append(plan)
    return out
