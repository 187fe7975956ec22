"""The hub tasks' real `datasets.load_dataset` code, on local files in each hub schema."""

import json

import numpy as np
import pytest

from superalign.data.registry import load_task
from superalign.errors import MissingDependencyError
from superalign.settings import configure

ROWS = {
    "allenai/sciq": lambda i: {"question": f"What gas do plants absorb {i}?", "distractor1": "oxygen",
                               "distractor2": "helium", "distractor3": "argon", "correct_answer": "carbon dioxide",
                               "support": "Plants absorb carbon dioxide."},
    "google/boolq": lambda i: {"question": f"is water wet {i}", "answer": i % 2 == 0, "passage": "Water is a liquid."},
    "allenai/cosmos_qa": lambda i: {"id": str(i), "context": "She missed the bus.", "question": "Why was she late?",
                                    "answer0": "The bus left early.", "answer1": "She flew.", "answer2": "It rained.",
                                    "answer3": "None of the above choices ." if i % 10 == 0 else "She slept.",
                                    "label": 3 if i % 10 == 0 else 0},
    "fancyzhx/amazon_polarity": lambda i: {"label": i % 2, "title": f"Review {i}", "content": "good" if i % 2 else "bad"},
    "Anthropic/hh-rlhf": lambda i: {"chosen": f"\n\nHuman: hi {i}\n\nAssistant: Hello, how can I help?",
                                    "rejected": f"\n\nHuman: hi {i}\n\nAssistant: Go away."},
}
TASK_OF = {"allenai/sciq": "sciq", "google/boolq": "boolq", "allenai/cosmos_qa": "cosmos-qa",
           "fancyzhx/amazon_polarity": "amazon-polarity", "Anthropic/hh-rlhf": "anthropic-hh"}


@pytest.fixture
def hub_mirror(tmp_path, monkeypatch):
    for hub_id, make in ROWS.items():
        folder = tmp_path / hub_id
        folder.mkdir(parents=True)
        with open(folder / "train.jsonl", "w") as f:
            for i in range(60):
                f.write(json.dumps(make(i)) + "\n")
    monkeypatch.setenv("SUPERALIGN_HUB_DIR", str(tmp_path))
    configure()  # settings are read once: read them again
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    return tmp_path


@pytest.mark.parametrize("hub_id", list(ROWS))
def test_hub_task_loads_local_files_in_hub_schema(hub_mirror, hub_id):
    task = load_task(TASK_OF[hub_id])
    assert len(task) == 60 and task.n_classes == 2
    assert 5 < task.labels.sum() < 55  # both classes present
    assert all(isinstance(t, str) and t for t in task.inputs)


def test_formatting_follows_weak_to_strong(hub_mirror):
    sciq = load_task("sciq")
    for text, label in zip(sciq.inputs, sciq.labels):
        assert text.startswith("Q: What gas") and (("carbon dioxide" in text) == bool(label))
    cosmos = load_task("cosmos-qa")
    none_rows = [i for i in range(60) if i % 10 == 0]
    assert (cosmos.labels[none_rows] == 0).all()  # "None of the above" true answers are labelled 0
    boolq = load_task("boolq")
    assert np.array_equal(boolq.labels, np.array([int(i % 2 == 0) for i in range(60)]))


def test_missing_mirror_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERALIGN_HUB_DIR", str(tmp_path / "nowhere"))
    configure()  # settings are read once: read them again
    with pytest.raises(MissingDependencyError, match="SUPERALIGN_HUB_DIR"):
        load_task("sciq")
