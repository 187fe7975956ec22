"""The NLP tasks of weak-to-strong work, loaded with the real Hugging Face `datasets` code.

Formatting follows openai/weak-to-strong: each hub example becomes one binary example
(is this answer correct? is this the preferred reply?), with the candidate drawn by a seeded RNG.

Offline use: point `SUPERALIGN_HUB_DIR` at a folder that mirrors the hub layout
(`$SUPERALIGN_HUB_DIR/allenai/sciq/train.jsonl`, ...); the same `load_dataset` call then reads it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from superalign.data.registry import TASKS
from superalign.data.task import Task
from superalign.errors import MissingDependencyError, SuperalignError

Formatter = Callable[[dict, random.Random], tuple[str, int]]


def format_sciq(ex: dict, rng: random.Random) -> tuple[str, int]:
    correct = rng.random() < 0.5
    answer = ex["correct_answer"] if correct else rng.choice([ex["distractor1"], ex["distractor2"], ex["distractor3"]])
    return f"Q: {ex['question']} A: {answer}", int(correct)


def format_boolq(ex: dict, rng: random.Random) -> tuple[str, int]:
    return f"Passage: {ex['passage']}\nQuestion: {ex['question']}", int(bool(ex["answer"]))


def format_cosmos_qa(ex: dict, rng: random.Random) -> tuple[str, int]:
    answers = [ex[f"answer{i}"] for i in range(4)]
    true_answer = answers[int(ex["label"])]
    # "None of the above" as the true answer makes every other candidate wrong too: label it 0.
    correct = "None of the above choices" not in true_answer and rng.random() < 0.5
    answer = true_answer if correct else rng.choice([a for a in answers if a != true_answer])
    return f"Context: {ex['context']}\nQuestion: {ex['question']}\nAnswer: {answer}", int(correct)


def format_amazon_polarity(ex: dict, rng: random.Random) -> tuple[str, int]:
    return f"{ex['title']} {ex['content']}", int(ex["label"])


def format_anthropic_hh(ex: dict, rng: random.Random) -> tuple[str, int]:
    # Pairwise preference cast as binary: is this the chosen reply of its pair?
    chosen = rng.random() < 0.5
    return (ex["chosen"] if chosen else ex["rejected"]), int(chosen)


@dataclass(frozen=True)
class HubTask:
    name: str
    hub_id: str
    split: str
    formatter: Formatter
    label_names: tuple[str, str]
    max_examples: int = 4000  # the hub sets are large; a CPU probe run needs a few thousand

    def source(self) -> str:
        from superalign.settings import settings

        mirror = settings().hub_dir
        if mirror:
            local = Path(mirror) / self.hub_id
            if not local.is_dir():
                raise MissingDependencyError(
                    f"task {self.name!r}: SUPERALIGN_HUB_DIR is set but {local} does not exist; "
                    f"put the {self.hub_id} files there or unset SUPERALIGN_HUB_DIR to use the hub"
                )
            return str(local)
        return self.hub_id

    def __call__(self) -> Task:
        import datasets  # heavy; only hub tasks need it

        source = self.source()
        try:
            rows = datasets.load_dataset(source, split=f"{self.split}[:{self.max_examples}]")
        except Exception as exc:  # the hub raises many types: network, missing files, bad schema
            raise MissingDependencyError(
                f"task {self.name!r}: could not load {source!r} ({type(exc).__name__}: {str(exc).splitlines()[0][:160]}); "
                "with no internet, set SUPERALIGN_HUB_DIR to a local mirror of the hub files"
            ) from exc
        rng = random.Random(0)
        texts, labels = [], []
        for i, ex in enumerate(rows):
            try:
                text, label = self.formatter(ex, rng)
            except (KeyError, ValueError, TypeError) as exc:
                raise SuperalignError(
                    f"task {self.name!r}: row {i} of {source} does not fit the {self.hub_id} schema ({exc!r})"
                ) from exc
            texts.append(text)
            labels.append(label)
        return Task(self.name, texts, np.array(labels), list(self.label_names), "text",
                    f"{self.hub_id} ({self.split}), binary as in openai/weak-to-strong")


HUB_TASKS = [
    HubTask("sciq", "allenai/sciq", "train", format_sciq, ("wrong answer", "correct answer")),
    HubTask("boolq", "google/boolq", "train", format_boolq, ("no", "yes")),
    HubTask("cosmos-qa", "allenai/cosmos_qa", "train", format_cosmos_qa, ("wrong answer", "correct answer")),
    HubTask("amazon-polarity", "fancyzhx/amazon_polarity", "train", format_amazon_polarity, ("negative", "positive")),
    HubTask("anthropic-hh", "Anthropic/hh-rlhf", "train", format_anthropic_hh, ("rejected", "chosen")),
]
for _task in HUB_TASKS:
    TASKS.add(_task.name, _task, help=f"{_task.hub_id} from the Hugging Face hub (binary)")
