"""Decision theory: the known results, every rule on small trees solved by hand, and properties."""

from fractions import Fraction as F
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from superalign.decision.loader import load_tree
from superalign.decision.plans import Plan, candidate_plans, lottery, mixed_plans, outcome_lottery, pure_plans
from superalign.decision.pumps import cross_relation, find_pumps, manipulates_shutdown, shutdown_by_observation
from superalign.decision.relations import (expected_utility, stochastically_dominates, timestep_dominates,
                                           timestep_length_dominates)
from superalign.decision.rules import decide
from superalign.decision.tree import Chance, Decision, DecisionTree, Preferences, Terminal
from superalign.errors import SuperalignError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "decision"


def _names(verdict):
    return {p.describe() for p in verdict.chosen}


# --- the two known results -------------------------------------------------------------------

@pytest.fixture
def shutdown():
    tree, plans = load_tree(EXAMPLES / "shutdown-manipulation.yaml")
    return tree, {p.label: p for p in plans}


def test_shutdown_manipulation_lotteries_are_exact(shutdown):
    tree, plans = shutdown
    assert outcome_lottery(lottery(tree.root, plans["half-half"])) == {"L": F(9, 20), "U": F(1, 20), "S": F(1, 2)}
    assert outcome_lottery(lottery(tree.root, plans["manipulate"])) == {"L": F(1, 2), "S": F(1, 2)}


def test_manipulating_plan_dominates_under_stochastic_and_length_conditioned_relations(shutdown):
    """Conditional totals at length 2: 'manipulate' 3 (only L), 'half-half' (9/20*3 + 1/20*2)/(1/2) = 29/10."""
    tree, plans = shutdown
    x, y = lottery(tree.root, plans["manipulate"]), lottery(tree.root, plans["half-half"])
    assert stochastically_dominates(x, y, tree.preferences) and not stochastically_dominates(y, x, tree.preferences)
    assert timestep_length_dominates(x, y) and not timestep_length_dominates(y, x)
    assert _names(decide("timestep-length", [plans["manipulate"], plans["half-half"]], tree)) == {"manipulate"}


def test_timestep_dominance_needs_the_exogenous_button(shutdown):
    """Here the agent chooses its own length: there is no press time to condition on, and the error says so."""
    tree, plans = shutdown
    with pytest.raises(SuperalignError, match="button: true"):
        decide("timestep", list(plans.values()), tree)


@pytest.fixture
def button():
    tree, plans = load_tree(EXAMPLES / "shutdown-button.yaml")
    return tree, {p.label: p for p in plans}


def test_exogenous_button_timestep_dominance_rejects_manipulation(button):
    """Conditional on a press at 1: leave-alone 1, manipulate 9/10. Never pressed: leave-alone
    (9/20*3 + 1/20*2)/(1/2) = 29/10, manipulate (81/100*29/10 + 1/100*19/10)/(82/100) = 1184/410 < 29/10."""
    tree, plans = button
    candidates = candidate_plans(tree.root, plans.values())
    leave, manipulate = lottery(tree.root, plans["leave-alone"]), lottery(tree.root, plans["manipulate"])
    assert timestep_dominates(leave, manipulate) and not timestep_dominates(manipulate, leave)
    static = decide("timestep", candidates, tree)
    assert plans["manipulate"] in static.rejected and plans["leave-alone"] in static.chosen
    # Conditioning on the press time alone still lets the whole-plan comparison reward inviting the press
    # after bad news (it raises the never-pressed average by selection); node by node, paying is dominated.
    assert "after-lucky=leave, after-unlucky=invite" in _names(static)
    for rule in ("dsm", "myopic", "sophisticated"):
        assert _names(decide(rule, candidates, tree, base="timestep")) == {"leave-alone"}, rule


def test_pumps_use_the_agents_own_relation(shutdown):
    """An EU maximiser that timestep dominance faults is not pumped; nor is DSM by a relation it does not hold."""
    tree, _ = load_tree(EXAMPLES / "timestep-vs-eu.yaml")
    plans = pure_plans(tree.root)
    assert find_pumps(tree, "eu", plans) == []
    assert [(p.chosen.describe(), p.dominating.describe(), p.relation) for p in cross_relation(tree, "eu", plans)] == \
        [("start=block", "start=leave", "timestep-length")]
    tree, named = shutdown
    candidates = pure_plans(tree.root) + list(named.values())
    assert find_pumps(tree, "dsm", candidates) == []
    assert all(p.relation != "stochastic" for p in cross_relation(tree, "dsm", candidates))


@pytest.mark.parametrize("rule", ["dsm", "resolute"])
def test_dsm_and_resolute_adopt_the_manipulating_plan(shutdown, rule):
    tree, plans = shutdown
    verdict = decide(rule, pure_plans(tree.root) + list(plans.values()), tree)
    assert plans["manipulate"] in verdict.chosen
    assert plans["half-half"] in verdict.rejected
    assert manipulates_shutdown(tree, plans["manipulate"])
    assert shutdown_by_observation(tree, plans["manipulate"]) == {"lucky": F(4, 9), "unlucky": F(1)}
    assert not manipulates_shutdown(tree, plans["half-half"])


def test_myopic_agent_is_pumped_by_the_manipulating_plan(shutdown):
    tree, plans = shutdown
    candidates = pure_plans(tree.root) + list(plans.values())
    assert plans["half-half"] in decide("myopic", candidates, tree).chosen
    pumps = find_pumps(tree, "myopic", candidates)
    assert any(p.chosen == plans["half-half"] and p.dominating == plans["manipulate"] for p in pumps)


def test_grid_search_finds_the_4_9_plan(shutdown):
    tree, plans = shutdown
    half = lottery(tree.root, plans["half-half"])
    dominating = [p for p in mixed_plans(tree.root, 9)
                  if stochastically_dominates(lottery(tree.root, p), half, tree.preferences)
                  and outcome_lottery(lottery(tree.root, p)).get("S") == F(1, 2)]
    assert any(p.at("after-lucky") == {"shutdown": F(4, 9), "continue": F(5, 9)} and
               p.at("after-unlucky") == {"shutdown": F(1)} for p in dominating)


def test_timestep_dominance_versus_expected_utility():
    tree, _ = load_tree(EXAMPLES / "timestep-vs-eu.yaml")
    leave, block = Plan.make({"start": "leave"}), Plan.make({"start": "block"})
    assert expected_utility(lottery(tree.root, leave), tree.preferences) == F(6, 5)
    assert expected_utility(lottery(tree.root, block), tree.preferences) == F(9, 5)
    assert _names(decide("eu", [leave, block], tree)) == {"start=block"}
    assert _names(decide("timestep-length", [leave, block], tree)) == {"start=leave"}
    assert timestep_length_dominates(lottery(tree.root, leave), lottery(tree.root, block))


# --- each rule on small trees solved by hand ---------------------------------------------------

def _sweetening():
    tree, _ = load_tree(EXAMPLES / "sweetening.yaml")
    return tree, pure_plans(tree.root)


def test_dynamic_rules_on_the_sweetening_tree():
    """Hand solution: at 'second', B and A are incomparable, so both are maximal there; at 'first', A+ beats A.
    myopic and sophisticated may end with A (trade, trade-for-A); resolute and DSM never do."""
    tree, plans = _sweetening()
    bad = "first=trade, second=trade-for-A"
    assert bad in _names(decide("myopic", plans, tree))
    assert bad in _names(decide("sophisticated", plans, tree))
    assert bad not in _names(decide("resolute", plans, tree))
    assert bad not in _names(decide("dsm", plans, tree))
    pump = find_pumps(tree, "myopic", plans)
    assert [(p.chosen.describe(), p.relation) for p in pump] == [(bad, "stochastic")]
    assert find_pumps(tree, "dsm", plans) == []


def _deep_button_tree():
    """Three decision nodes; every option ends at the button (press at 1 or never), totals as given."""
    def button(name, p, short, long):
        return Chance(name, (("1", p, Terminal("o", 1, F(short), True, "1")),
                             ("never", 1 - p, Terminal("o", 2, F(long), False, "never"))), button=True)
    d4 = Decision("d4", (("x", button("b5", F(2, 5), 3, 6)), ("y", button("b6", F(2, 5), 6, 1))))
    d7 = Decision("d7", (("x", button("b8", F(7, 10), 0, 6)), ("y", button("b9", F(9, 10), 5, 5))))
    root = Decision("d1", (("x", button("b2", F(3, 10), 1, 5)), ("y", Chance("c3", (("h", F(7, 10), d4), ("t", F(3, 10), d7))))))
    return DecisionTree(root, Preferences())


def test_dsm_is_applied_node_by_node():
    """Timestep base. Ex ante (from d1) only plans taking 'y' are maximal, and at d4 none of their
    continuations is maximal there (mixing d4 and d7 by chance changes the conditional averages), so the
    agent falls back to what is maximal at d4, at d4 only; at d7 it still continues a plan maximal ex ante.
    The global reading (fall back everywhere once one node fails) also allowed d1=y, d4=x, d7=x."""
    tree = _deep_button_tree()
    plans = pure_plans(tree.root)
    assert _names(decide("dsm", plans, tree, base="timestep")) == {
        "d1=y, d4=y, d7=x", "d1=y, d4=x, d7=y", "d1=y, d4=x, d7=x", "d1=y, d4=y, d7=y"}


def test_sophisticated_differs_from_myopic_when_the_future_self_is_predictable():
    """Utility A=3, B=2, C=1 at 'second' -> the agent will take A; so from 'first' trading leads to A (3) > keep (2).
    Myopic evaluates 'trade' as the whole subtree anyway; with complete preferences both agree: trade then A."""
    prefs = Preferences.from_utility({"A": F(3), "B": F(2), "C": F(1)})
    tree = DecisionTree(Decision("first", (("keep", Terminal("B")),
                                           ("trade", Decision("second", (("a", Terminal("A")), ("c", Terminal("C"))))))), prefs)
    plans = pure_plans(tree.root)
    for rule in ("myopic", "sophisticated", "resolute", "dsm"):
        assert _names(decide(rule, plans, tree, base="eu")) == {"first=trade, second=a"}, rule


def test_statewise_dominance_by_hand():
    """Umbrella: state rain/dry. 'take' gives dry-walk in both; 'leave' gives wet in rain, dry-walk when dry."""
    prefs = Preferences.from_pairs([("dry-walk", "wet")])
    tree = DecisionTree(Decision("go", (
        ("take", Chance("weather", (("rain", F(1, 2), Terminal("dry-walk")), ("dry", F(1, 2), Terminal("dry-walk"))))),
        ("leave", Chance("weather2", (("rain", F(1, 2), Terminal("wet")), ("dry", F(1, 2), Terminal("dry-walk"))))),
    )), prefs)
    plans = pure_plans(tree.root)
    assert _names(decide("statewise", plans, tree)) == {"go=take"}
    assert _names(decide("stochastic", plans, tree)) == {"go=take"}


def test_stochastic_dominance_needs_every_consistent_utility():
    """A > B only; C incomparable. X = {A: 1/2, C: 1/2}, Y = {B: 1/2, C: 1/2}: X dominates Y.
    Z = {A: 1}: incomparable with Y (a utility with C huge prefers Y)."""
    prefs = Preferences.from_pairs([("A", "B")])
    t = {name: Terminal(name) for name in "ABC"}
    x, y, z = {t["A"]: F(1, 2), t["C"]: F(1, 2)}, {t["B"]: F(1, 2), t["C"]: F(1, 2)}, {t["A"]: F(1)}
    assert stochastically_dominates(x, y, prefs) and not stochastically_dominates(y, x, prefs)
    assert not stochastically_dominates(z, y, prefs) and not stochastically_dominates(y, z, prefs)
    assert not stochastically_dominates(x, x, prefs)  # strict


def test_bad_inputs_are_named(tmp_path):
    with pytest.raises(SuperalignError, match="cyclic"):
        Preferences.from_pairs([("A", "B"), ("B", "A")])
    with pytest.raises(SuperalignError, match="sum to 1"):
        Chance("c", (("x", F(1, 2), Terminal("A")), ("y", F(1, 3), Terminal("B"))))
    bad = tmp_path / "t.yaml"
    bad.write_text("tree:\n  chance: c\n  branches:\n    - {label: a, p: nine, then: {outcome: A}}\n")
    with pytest.raises(SuperalignError, match="not a number"):
        load_tree(bad)


# --- properties ---------------------------------------------------------------------------------

utilities = st.lists(st.integers(0, 5), min_size=3, max_size=3)
probabilities = st.integers(1, 9)


@settings(max_examples=60, deadline=None)
@given(utilities, probabilities, probabilities)
def test_with_complete_preferences_eu_optimal_plans_are_never_dominated(u, p1, p2):
    names = ["A", "B", "C"]
    prefs = Preferences.from_utility({n: F(v) for n, v in zip(names, u)})
    tree = DecisionTree(Chance("nature", (
        ("h", F(p1, 10), Decision("d1", (("x", Terminal("A")), ("y", Terminal("B"))))),
        ("t", 1 - F(p1, 10), Decision("d2", (("x", Terminal("B")), ("y", Chance("inner", (
            ("i", F(p2, 10), Terminal("C")), ("j", 1 - F(p2, 10), Terminal("A")))))))))), prefs)
    plans = candidate_plans(tree.root, grid=2)
    eu = decide("eu", plans, tree)
    sd = decide("stochastic", plans, tree)
    assert set(eu.chosen) <= set(sd.chosen)  # the EU-optimal plans are SD-undominated
    for rejected in sd.rejected:  # its dominator is at least as good under the (consistent) utility
        value = expected_utility(lottery(tree.root, rejected), prefs)
        dominators = [q for q in plans if stochastically_dominates(lottery(tree.root, q), lottery(tree.root, rejected), prefs)]
        assert dominators and all(expected_utility(lottery(tree.root, q), prefs) >= value for q in dominators)
    for rule in ("eu", "statewise", "stochastic", "myopic", "sophisticated", "resolute", "dsm"):
        verdict = decide(rule, plans, tree)
        assert not set(verdict.chosen) & set(verdict.rejected)  # never choose what it marks dominated
        assert len(verdict.chosen) + len(verdict.rejected) == len(plans) and verdict.chosen
