"""Decision trees with exact (Fraction) probabilities, and preferences that may be incomplete.

Nodes:
    Decision(name, options: {action: node})        the agent chooses
    Chance(name, branches: [(label, p, node)])      nature chooses; p are Fractions summing to 1
    Terminal(outcome, length, total, shutdown,      an outcome with its trajectory length, its sum-total of
             pressed)                               per-timestep utility, whether the agent was shut down
                                                    there, and when the shutdown button was pressed on the
                                                    way ("never" if not; None in a tree without a button)
A chance node marked as the button (`button: true` in YAML) is the overseer pressing the shutdown button:
its branches say when (`press: 1`, `press: never`). It is exogenous, outside the agent's choice, which is
what timestep dominance conditions on (Thornley).
Preferences: a strict partial order over outcome names (pairs `a > b`, transitively closed, incomparable
pairs left out), or a utility per outcome (a complete order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from typing import Iterator, Union

from superalign.errors import SuperalignError

Node = Union["Decision", "Chance", "Terminal"]


@dataclass(frozen=True)
class Terminal:
    outcome: str
    length: int | None = None
    total: Fraction | None = None
    shutdown: bool = False
    pressed: str | None = None


@dataclass(frozen=True)
class Chance:
    name: str
    branches: tuple[tuple[str, Fraction, Node], ...]  # (label, probability, child)
    button: bool = False  # the overseer's shutdown button: branch labels are press times

    def __post_init__(self) -> None:
        total = sum(p for _, p, _ in self.branches)
        if total != 1 or any(p < 0 for _, p, _ in self.branches):
            raise SuperalignError(f"chance node {self.name!r}: probabilities must be >= 0 and sum to 1 (they sum to {total})")


@dataclass(frozen=True)
class Decision:
    name: str
    options: tuple[tuple[str, Node], ...]  # (action, child)

    def __post_init__(self) -> None:
        if not self.options:
            raise SuperalignError(f"decision node {self.name!r} has no options")

    def child(self, action: str) -> Node:
        for a, node in self.options:
            if a == action:
                return node
        raise SuperalignError(f"decision node {self.name!r} has no action {action!r}; it has {[a for a, _ in self.options]}")


@dataclass
class Preferences:
    """A strict partial order over outcome names, or a utility per outcome (which induces a complete order)."""

    strict: set[tuple[str, str]] = field(default_factory=set)  # (better, worse), transitively closed
    utility: dict[str, Fraction] | None = None

    @classmethod
    def from_pairs(cls, pairs) -> "Preferences":
        closed = set(pairs)
        changed = True
        while changed:  # transitive closure; the orders here are small
            changed = False
            for a, b in list(closed):
                for c, d in list(closed):
                    if b == c and (a, d) not in closed:
                        closed.add((a, d))
                        changed = True
        cyclic = [a for a, b in closed if a == b]
        if cyclic:
            raise SuperalignError(f"preferences are cyclic through {cyclic[0]!r}: a strict preference needs a partial order")
        return cls(strict=closed)

    @classmethod
    def from_utility(cls, utility: dict[str, Fraction]) -> "Preferences":
        pairs = {(a, b) for a in utility for b in utility if utility[a] > utility[b]}
        return cls(strict=pairs, utility=dict(utility))

    def better(self, a: str, b: str) -> bool:
        return (a, b) in self.strict

    def at_least(self, a: str, b: str) -> bool:
        return a == b or self.better(a, b)


@dataclass(frozen=True)
class DecisionTree:
    root: Node
    preferences: Preferences
    name: str = "tree"

    def decision_nodes(self) -> list[Decision]:
        return [n for n in walk(self.root) if isinstance(n, Decision)]

    def outcomes(self) -> list[str]:
        return sorted({n.outcome for n in walk(self.root) if isinstance(n, Terminal)})

    @property
    def has_button(self) -> bool:
        return any(isinstance(n, Chance) and n.button for n in walk(self.root))

    def node(self, name: str) -> Node:
        for n in walk(self.root):
            if not isinstance(n, Terminal) and n.name == name:
                return n
        raise SuperalignError(f"tree {self.name!r} has no node {name!r}")


def walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, Decision):
        for _, child in node.options:
            yield from walk(child)
    elif isinstance(node, Chance):
        for _, _, child in node.branches:
            yield from walk(child)
