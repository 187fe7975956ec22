"""`superalign decide TREE.yaml --rule RULE`: choosable plans, their lotteries, pumps and shutdown manipulation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from superalign.cli.console import out
from superalign.decision.loader import load_tree
from superalign.decision.plans import candidate_plans, lottery, outcome_lottery
from superalign.decision.pumps import (cross_relation, find_pumps, manipulates_shutdown, own_relation,
                                       shutdown_by_observation)
from superalign.decision.rules import RULES, STATIC, decide


def _fmt(dist) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(dist.items())) or "-"


def decide_command(
    tree_file: Annotated[Path, typer.Argument(help="decision tree YAML (see examples/decision/)")],
    rule: Annotated[str, typer.Option(help="eu, statewise, stochastic, timestep, timestep-length, myopic, sophisticated, resolute, dsm")] = "dsm",
    base: Annotated[str, typer.Option(help="the static rule a dynamic rule applies at each node")] = "stochastic",
    grid: Annotated[int, typer.Option(min=0, help="also consider mixed plans with probabilities i/q, q <= GRID (0 = none)")] = 0,
) -> None:
    """Apply a decision rule to a tree: which plans are choosable, why the others are not, and any money pump."""
    RULES.get(rule)
    RULES.get(base)
    tree, named = load_tree(tree_file)
    plans = candidate_plans(tree.root, named, grid)
    verdict = decide(rule, plans, tree, base)
    table = Table("plan", "choosable", "outcome lottery", "P(shutdown | observation)", "why not",
                  title=f"{tree.name}: rule {rule}" + (f" (base {base})" if rule not in STATIC else ""))
    shown = verdict.chosen + [p for p in plans if p in verdict.rejected]
    for plan in shown[:60]:
        table.add_row(escape(plan.describe()), "yes" if plan in verdict.chosen else "no",
                      _fmt(outcome_lottery(lottery(tree.root, plan))), _fmt(shutdown_by_observation(tree, plan)),
                      escape(verdict.rejected.get(plan, "")))
    out.print(table)
    if len(shown) > 60:
        out.print(f"... {len(shown) - 60} more plans not shown")
    own = own_relation(rule, base)
    pumps = find_pumps(tree, rule, plans, base)
    for pump in pumps:
        out.print(f"[bold red]pump[/] (by the agent's own relation, {own}): the rule allows "
                  f"{escape(pump.chosen.describe())!r}, which {escape(pump.dominating.describe())!r} beats ex ante")
    if not pumps:
        out.print(f"no pump: by the agent's own relation ({own}) no candidate beats a plan the rule allows ex ante")
    for other in cross_relation(tree, rule, plans, base):
        out.print(f"cross-relation (not a pump; the agent does not hold {other.relation}): "
                  f"{escape(other.dominating.describe())!r} {other.relation}-dominates the allowed {escape(other.chosen.describe())!r}")
    manipulating = [p for p in verdict.chosen if manipulates_shutdown(tree, p)]
    if manipulating:
        out.print(f"shutdown manipulation: {len(manipulating)} choosable plan(s) make P(shutdown) depend on what the "
                  f"agent observed, e.g. {escape(manipulating[0].describe())!r}: {_fmt(shutdown_by_observation(tree, manipulating[0]))}")
