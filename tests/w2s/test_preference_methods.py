"""Methods for preference tasks: the zero-shot judge (budget none: counterbalanced, reads no labels, on a real model)
and the confidence filter, through the pipeline on a preference task."""

import json
import re

import numpy as np
import pytest

from superalign.chat.client import CHAT_MODELS, MockChat
from superalign.errors import SuperalignError
from superalign.w2s.method import METHODS, MethodContext, StudentSplit, make_method
from superalign.w2s.methods.confidence import confident_mask
from superalign.oversight.pair_judge import preference_probs


def _always_a(messages):
    return "A"


def _checks_sums(messages):
    """Answers with the letter of the response whose final number is right (the problem is 'What is X + Y?')."""
    text = messages[-1]["content"]
    x, y = map(int, re.search(r"What is (\d+) \+ (\d+)\?", text).groups())
    first = int(re.search(r"Response A: .*?Answer: (-?\d+)", text).group(1))
    return "A" if first == x + y else "B"


CHAT_MODELS.add("test-always-a", lambda: MockChat(_always_a, name="always-a"))
CHAT_MODELS.add("test-sum-checker", lambda: MockChat(_checks_sums, name="sum-checker"))


def _pairs(n):
    return [(f"What is {i} + {i + 1}?", f"So. Answer: {2 * i + 1}", f"So. Answer: {2 * i + 2}") for i in range(n)]


def test_the_judge_averages_both_orders_so_a_position_bias_cancels():
    np.testing.assert_allclose(preference_probs(_pairs(5), "test-always-a"), 0.5)


def test_the_judge_prefers_what_its_model_prefers_in_either_position():
    pairs = _pairs(6)
    swapped = [(p, b, a) for p, a, b in pairs]
    assert (preference_probs(pairs, "test-sum-checker")[:, 0] > 0.99).all()
    assert (preference_probs(swapped, "test-sum-checker")[:, 1] > 0.99).all()


def test_the_judge_refuses_a_task_that_is_not_of_pairs():
    judge = make_method("lm-judge", {"model": "test-always-a"}, MethodContext(n_classes=2, seed=0))
    split = StudentSplit(np.zeros((2, 3), np.float32), ["a plain text", "another"], None)
    with pytest.raises(SuperalignError, match="prefs task"):
        judge.fit(split, split)


def _prefs_file(tmp_path, n=200):
    rows = [{"prompt": p, "chosen": a, "rejected": b} for p, a, b in _pairs(n)]
    path = tmp_path / "sums.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_the_pipeline_hands_a_budget_none_method_no_labels(tmp_path, monkeypatch):
    """Through the whole pipeline on a preference task: the judge is fitted with no weak labels on transfer or
    val, and its test accuracy is that of its model (the scripted checker is always right)."""
    from superalign.oversight.pair_judge import LmJudge
    from superalign.w2s.pipeline import ExperimentConfig, run_experiment

    seen = []
    original = LmJudge.fit
    monkeypatch.setattr(LmJudge, "fit", lambda self, transfer, val: seen.append((transfer.weak_probs, val.weak_probs))
                        or original(self, transfer, val))
    config = ExperimentConfig(task=f"prefs:file:{_prefs_file(tmp_path)}", weak="bt:tfidf", strong="bt:tfidf",
                              method="lm-judge", method_options={"model": "test-sum-checker"})
    result = run_experiment(config)
    assert seen == [(None, None)]
    assert result["budget"] == "none" and result["metrics"]["student"]["accuracy"] == 1.0


def test_confident_mask_keeps_the_most_confident_share_of_each_weak_class():
    p = np.array([0.9, 0.6, 0.8, 0.55, 0.3, 0.1, 0.45, 0.2])
    mask = confident_mask(np.stack([1 - p, p], 1), keep=0.5)
    assert mask.tolist() == [True, False, True, False, False, True, False, True]


def test_confidence_filter_is_registered_with_the_weak_labels_budget():
    assert METHODS.get("confidence-filter").budget == "weak-labels"
    assert METHODS.get("lm-judge").budget == "none"


@pytest.mark.slow
def test_a_real_judge_scores_the_bundled_pairs():
    """Qwen2.5-Coder-0.5B as a zero-shot judge of 40 worked-arithmetic pairs: real probabilities in (0, 1) that
    differ between pairs. Its letter is mostly position ("A"): averaged over both orders that cancels, leaving
    margins near zero, which is why its accuracy on the docs' table is what it is."""
    from superalign.data.registry import load_task

    prefs = load_task("prefs-arithmetic")
    pairs = [(p.prompt, p.response_a, p.response_b) for p in prefs.pairs[:40]]
    probs = preference_probs(pairs, "qwen-0.5b")
    assert probs.shape == (40, 2) and np.allclose(probs.sum(1), 1) and len(np.unique(probs[:, 0])) > 20
    accuracy = float((probs.argmax(1) == prefs.labels[:40]).mean())
    assert 0.0 <= accuracy <= 1.0
