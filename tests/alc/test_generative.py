"""The generative attacker: rewrites that change a computed label are rejected; valid ones that flip the learner
come first; the loop labels them through the critic and the oracle like any query."""

import re

import numpy as np
import pytest

from superalign.alc.attackers import AttackContext
from superalign.alc.generative import PROMPTS, GenerativeAttacker, apply, clean
from superalign.alc.loop import ALCConfig, run_alc
from superalign.alc.queries import Pool
from superalign.chat.client import CHAT_MODELS, MockChat
from superalign.data.computed import arithmetic_label
from superalign.errors import SuperalignError


def _rewrite(messages) -> str:
    """Rewrites of 12 + 30 = 42 keep their claim; the paraphrase of 11 * 11 = 121 (deliberately) changes the stated
    result; negations insert "not"; the distractor on cooking is clean, any other has a number in it."""
    prompt = messages[-1]["content"]
    if prompt.startswith("Write one short sentence"):
        return "Sentence: The sky is blue." if "cooking" in prompt else "I have 3 apples."
    kind = next(k for k, p in PROMPTS.items() if prompt.startswith(p))
    a, op, b, c = re.search(r"(\d+) (\S) (\d+) = (-?\d+)", prompt.split("Text: ", 1)[1]).groups()
    if kind == "paraphrase":
        stated = int(c) + (a == "11")
        return f"Rewritten text: Is it correct that {a} {op} {b} equals {stated}? Answer: yes."
    return f'"Claim: {a} {op} {b} is not {c}. Is the claim true?"'


if "test-rewriter" not in CHAT_MODELS:
    CHAT_MODELS.add("test-rewriter", lambda: MockChat(_rewrite, name="test-rewriter"))


class _Learner:
    """Answers 1 ("true") for inputs whose first feature is positive."""

    def predict_proba(self, x):
        p = (x[:, 0] > 0).astype(float)
        return np.stack([1 - p, p], 1)


def test_clean_takes_the_rewrite_out_of_a_reply_without_its_answer():
    assert clean('Rewritten text: "Is 3 + 4 = 7?"\n\nI kept the numbers.') == "Is 3 + 4 = 7?"
    assert clean("Claim: 29 - 39 = 0. Is the claim true? Answer: **No**.") == "Claim: 29 - 39 = 0. Is the claim true?"
    assert apply("distractor", "Claim: 1 + 1 = 2.", "Sentence: The sky is blue.") == "The sky is blue. Claim: 1 + 1 = 2."
    assert apply("distractor", "Claim: 1 + 1 = 2.", "I ate 3 eggs.") == ""  # a number in a distractor: no rewrite


def test_rewrites_that_change_the_computed_label_are_rejected():
    claims = ["Claim: 12 + 30 = 42. Is the claim true?", "Claim: 11 * 11 = 121. Is the claim true?"]  # both true

    def encode(texts):
        # the learner keeps its answer on every rewrite of the first claim (so its negation fools it) and
        # answers the negation of the second claim the other way (as it should)
        x = np.array([[1.0 if "42" in t or ("not" in t and "121" in t) else -1.0] for t in texts])
        return x, x

    pool = Pool(claims, np.array([[1.0], [-1.0]]), np.array([[1.0], [-1.0]]), np.array([[0.2, 0.8], [0.6, 0.4]]))
    attacker = GenerativeAttacker(name="generative", model="test-rewriter", sources="random")
    context = AttackContext(pool, np.ones(2, bool), _Learner(), None, np.random.default_rng(0), encode, arithmetic_label)
    queries = attacker.propose(context, 6)
    stats = attacker.describe_round()
    assert stats["attempts"] == 6 and stats["rejected_empty"] == 1  # a distractor with a number
    assert stats["rejected_computed"] == 1  # the paraphrase that made 11 * 11 = 121 false
    assert stats["valid"] == 4 == len(queries)
    assert sorted(queries.kind) == ["distractor", "negation", "negation", "paraphrase"]
    for text, source, flipped in zip(queries.inputs, queries.source, queries.flipped):
        expected = arithmetic_label(claims[source])
        assert arithmetic_label(text) == (1 - expected if flipped else expected)
    # the negation of 12 + 30 = 42 kept the learner's "true": it fooled the learner, so it is queried first
    assert stats["flipped_learner"] == 1 and queries.kind[0] == "negation" and "12" in queries.inputs[0]


def test_the_loop_runs_generated_queries_through_critic_and_oracle():
    config = ALCConfig(task="arithmetic-claims", weak="minilm-l3", strong="minilm-l3", max_examples=400,
                       rounds=1, queries=6, expert_budget=3, strategies=["loop"], eval_attacker="knn",
                       attacker={"name": "generative", "model": "test-rewriter"})
    loop = run_alc(config)["strategies"]["loop"]
    round_ = loop["rounds"][0]
    assert round_["attempts"] == 6 and round_["rejected_empty"] == 1  # the distractor with a number
    assert round_["queries"] == 6 - round_["rejected_empty"] - round_["rejected_computed"]
    assert loop["expert_labels"] == 3
    assert {c["kind"] for c in loop["critiques"]} <= {"paraphrase", "negation", "distractor"}
    assert not any(c["input"].endswith("Answer: yes.") for c in loop["critiques"])  # answers are cut off
    # expert labels of rewrites are their computed labels
    for c in loop["critiques"]:
        if c["expert"] is not None:
            assert c["expert"] == arithmetic_label(c["input"])


def test_a_generative_attack_needs_pretrained_encoders():
    config = ALCConfig(task="arithmetic-claims", weak="tfidf", strong="minilm-l3", max_examples=400, rounds=1,
                       queries=3, expert_budget=1, strategies=["loop"],
                       attacker={"name": "generative", "model": "test-rewriter"})
    with pytest.raises(SuperalignError, match="fitted on a task's own inputs"):
        run_alc(config)
