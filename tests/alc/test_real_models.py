"""The language-model parts of the loop on the real packaged Qwen models (slow: minutes on a CPU)."""

import numpy as np
import pytest

from superalign.alc.critics import LMCritic
from superalign.alc.queries import Queries, Supervision
from superalign.data.registry import load_task
from superalign.metrics import auroc

pytestmark = pytest.mark.slow


def test_a_qwen_critic_tells_bbc_business_from_the_rest_and_writes_a_critique():
    """32 balanced items, calibrated on 32 others."""
    pytest.importorskip("llama_cpp")
    task = load_task("bbc-business-vs-rest")
    # a balanced draw, so that AUROC rests on both classes
    rng = np.random.default_rng(0)
    business, rest = (rng.permutation(np.flatnonzero(task.labels == c)) for c in (1, 0))
    calibrate, judged = np.r_[business[:16], rest[:16]], np.r_[business[16:32], rest[16:32]]
    supervision = Supervision([task.inputs[i] for i in calibrate], None, task.labels[calibrate], task.label_names,
                              task.description)
    critic = LMCritic(name="lm", model="qwen-1.5b", answers=["other", "business"], calibration=32, critique_tokens=40,
                      instruction="Which topic is this news story: business or other? Reply with one word.")
    critic.fit(supervision, None, 0)
    probs = critic.probabilities([task.inputs[i] for i in judged])
    # measured: AUROC 0.97 (the 0.5B model: 0.35-0.48 with this or a yes/no question, below chance)
    assert auroc(probs, task.labels[judged]) > 0.8
    one = Queries([task.inputs[judged[0]]], np.zeros((1, 1)), np.zeros((1, 1)), [0])
    critique = critic.critique(one, np.array([[0.1, 0.9]]))
    assert critique.probs.shape == (1, 2) and len(critique.texts[0].split()) > 8  # a generated critique
