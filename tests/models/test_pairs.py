"""`bt:BASE`: pair features phi(prompt + A) - phi(prompt + B), so that a logistic head is a Bradley-Terry reward
model and the weak-to-strong pipeline runs on preference tasks unchanged (real encoders; a constructed preference
file, for plumbing: the preference is learnable by construction)."""

import json
import random

import numpy as np
import pytest

from superalign.data.preferences import PreferencePair
from superalign.errors import SuperalignError
from superalign.models.encoder import get_encoder
from superalign.w2s.pipeline import ExperimentConfig, run_experiment

TOPICS = ["taxes", "gardening", "the moon", "python lists", "bread", "chess", "sleep", "rain", "bicycles", "tea",
          "volcanoes", "jazz", "maps", "glaciers", "fungi", "kites", "ink", "clocks", "owls", "salt"]


def _preference_file(path, n=400, seed=0):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        topic = rng.choice(TOPICS)
        helpful = rng.choice(["Certainly! Here is a clear, step by step explanation of {t}.",
                              "Happy to help: the key facts about {t}, explained simply.",
                              "Good question. {t} works like this, with an example."]).format(t=topic)
        unhelpful = rng.choice(["No. Look up {t} yourself.", "I don't care about {t}.",
                                "Whatever, {t} is boring."]).format(t=topic)
        rows.append({"prompt": f"Please explain {topic} ({i}).", "chosen": helpful, "rejected": unhelpful})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_pair_features_are_antisymmetric_so_a_linear_head_is_bradley_terry():
    encoder = get_encoder("bt:minilm-l3")
    forward = PreferencePair("Explain tea.", "Tea is brewed leaves.", "No.", 0).text
    backward = PreferencePair("Explain tea.", "No.", "Tea is brewed leaves.", 1).text
    f = encoder.encode([forward, backward])
    assert np.allclose(f[0], -f[1], atol=1e-5) and np.abs(f[0]).sum() > 0
    with pytest.raises(SuperalignError, match="preference pairs"):
        encoder.encode(["a plain text"])


def test_weak_to_strong_runs_on_a_preference_task_with_bradley_terry_heads(tmp_path, runs_dir):
    path = _preference_file(tmp_path / "prefs.jsonl")
    result = run_experiment(ExperimentConfig(task=f"prefs:file:{path}", weak="bt:tfidf", strong="bt:minilm-l6",
                                             method="naive", seed=0))
    metrics = result["metrics"]
    assert metrics["ceiling"]["accuracy"] > 0.95  # pairwise accuracy of the strong reward model on ground truth
    assert 0 <= metrics["weak"]["accuracy"] <= 1 and "pgr" in result
