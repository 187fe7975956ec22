"""DReST for language models: scenarios, the closed-form expected return, metrics, and a real model trained a few
steps (SmolLM2-135M, packaged)."""

from __future__ import annotations

import numpy as np
import pytest

from superalign.engine import expand, run_grid
from superalign.errors import SuperalignError
from superalign.shutdown.lm_choice import (TEST_THEMES, TRAIN_THEMES, LetterPolicy, causal_lm_path, choice_metrics,
                                           expected_return, influence_metrics, scenarios)


def test_scenarios_are_deterministic_and_held_out_themes_are_never_trained_on():
    a, b = scenarios("choice", "train", 30, seed=3), scenarios("choice", "train", 30, seed=3)
    assert [s.user for s in a] == [s.user for s in b]
    assert scenarios("choice", "train", 5, seed=4)[0].user != a[0].user
    assert not {t[0] for t in TRAIN_THEMES} & {t[0] for t in TEST_THEMES}
    train_text = " ".join(s.system for s in a)
    assert all(role not in train_text for role, *_ in TEST_THEMES)
    for s in a:  # two plans per length, the best plan of each length recorded, letters shuffled
        assert sorted(s.lengths.count(t) for t in s.best) == [2, 2]
        assert all(s.best[t] == max(r for tt, r in zip(s.lengths, s.rewards) if tt == t) for t in s.best)
    # which length holds the better plan is drawn, so neither is favoured across scenarios
    longer_better = np.mean([s.best[max(s.best)] > s.best[min(s.best)] for s in scenarios("choice", "train", 400, 0)])
    assert 0.3 < longer_better < 0.6
    for s in scenarios("influence", "test", 50, seed=0):
        assert sum(s.influence) == 2 and len(s.rewards) == 3
        work = s.influence.index(False)
        short, long = sorted(s.best)
        for i, pays in enumerate(s.influence):  # paying gives less than working at the length it buys
            if pays:
                assert s.rewards[i] < s.best[s.lengths[i]]
        assert s.rewards[work] == s.best[short]


def test_the_closed_form_return_is_the_mean_of_sampled_meta_episodes():
    """J(p) against meta-episodes sampled the way DReST scores them (lambda^(n - E/k) * reward / best)."""
    s = scenarios("choice", "train", 1, seed=1)[0]
    p = np.array([0.1, 0.2, 0.3, 0.4])
    E, lam = 8, 0.9
    rng = np.random.default_rng(0)
    totals = []
    for _ in range(20_000):
        counts, total = {t: 0 for t in s.best}, 0.0
        for option in rng.choice(4, size=E, p=p):
            length = s.lengths[option]
            total += lam ** (counts[length] - E / 2) * s.rewards[option] / s.best[length]
            counts[length] += 1
        totals.append(total / E)
    assert expected_return(p, s, "drest", E, lam) == pytest.approx(np.mean(totals), abs=3 * np.std(totals) / np.sqrt(len(totals)))


def test_drest_is_best_neutral_and_useful_while_the_default_reward_is_best_fixed():
    s = scenarios("choice", "train", 1, seed=2)[0]
    best = {t: next(i for i, (tt, r) in enumerate(zip(s.lengths, s.rewards)) if tt == t and r == s.best[t])
            for t in s.best}
    short, long = sorted(s.best)

    def policy(p_long: float, useful: bool = True) -> np.ndarray:
        p = np.zeros(4)
        for t, mass in ((short, 1 - p_long), (long, p_long)):
            i = best[t] if useful else next(i for i, tt in enumerate(s.lengths) if tt == t and i != best[t])
            p[i] = mass
        return p

    J = {q: expected_return(policy(q), s, "drest", 32, 0.9) for q in np.linspace(0, 1, 11)}
    assert max(J, key=J.get) == pytest.approx(0.5)
    assert J[0.5] > expected_return(policy(0.5, useful=False), s, "drest", 32, 0.9)
    better = long if s.best[long] > s.best[short] else short
    default = {q: expected_return(policy(q), s, "default", 32, 0.9) for q in (0.0, 0.5, 1.0)}
    assert max(default, key=default.get) == (1.0 if better == long else 0.0)
    m = choice_metrics(policy(0.5), s)
    assert m["usefulness"] == pytest.approx(1.0) and m["neutrality"] == pytest.approx(1.0) and m["p_long"] == 0.5
    assert choice_metrics(policy(1.0, useful=False), s)["neutrality"] == 0.0


def test_influence_is_the_mass_on_paying_options():
    s = scenarios("influence", "test", 1, seed=0)[0]
    p = np.array([0.2, 0.3, 0.5])
    m = influence_metrics(p, s)
    assert m["p_influence"] == pytest.approx(float(p[np.array(s.influence)].sum()))
    assert m["modal_influence"] == float(s.influence[2])


def test_unknown_models_are_one_clear_error_and_prompted_runs_share_one_key(runs_dir):
    with pytest.raises(SuperalignError, match="unknown model 'gpt-9'"):
        causal_lm_path("gpt-9")
    _, configs = expand({"kind": "shutdown-lm", "model": "smollm2", "reward": "none", "steps": [5, 60]})
    assert {c.steps for c in configs} == {0}


@pytest.fixture(scope="module")
def smollm2_path():
    return causal_lm_path("smollm2")


def test_a_real_model_gives_a_distribution_over_the_letters(smollm2_path):
    policy = LetterPolicy(smollm2_path)
    items = scenarios("choice", "test", 3, 0) + scenarios("influence", "test", 2, 0)
    for (p, mass), s in zip(policy.evaluate(items), items):
        assert p.shape == (len(s.rewards),) and p.sum() == pytest.approx(1.0) and 0 < mass <= 1


def test_drest_steps_on_a_real_model_raise_its_expected_return(smollm2_path):
    import torch

    policy = LetterPolicy(smollm2_path, lora_rank=8)
    batch = scenarios("choice", "train", 4, 0)
    optimizer = torch.optim.AdamW([p for p in policy.model.parameters() if p.requires_grad], lr=5e-4)

    def objective():
        return torch.stack([expected_return(p, s, "drest", 32, 0.9)
                            for (p, _), s in zip(policy.probabilities(batch), batch)]).mean()

    with torch.no_grad():
        before = float(objective())
    for _ in range(4):
        loss = -objective()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    with torch.no_grad():
        assert float(objective()) > before + 0.05  # measured: 1.96 -> 2.23


def test_the_kind_runs_on_the_engine_and_tables_before_and_after(runs_dir):
    kind, configs = expand({"kind": "shutdown-lm", "model": "smollm2", "reward": ["none", "drest"], "steps": 2,
                            "batch_size": 2, "test_choice": 4, "test_influence": 4})
    result = run_grid(kind, configs)
    assert not result.failures, result.failures
    table = kind.summarize(result.records)
    assert [row[1] for row in table.rows] == ["prompted", "drest, 2 steps"]
    trained = next(r for r in result.records if r["config"]["reward"] == "drest")["result"]
    assert len(trained["train_curve"]) == 2 and len(trained["choice"]) == 4
