"""Oversight items with information asymmetry: the debaters read a source the judge never sees.

Offline: `bbc-topics` — "which of these two topics is this article about?"; the source is the full
article, the judge sees only the question, the two topics, and what the debaters say (with quotes checked).
With internet (or a local mirror, SUPERALIGN_HUB_DIR): QuALITY and QuAIL reading comprehension, cast as
two answers (the correct one and a seeded distractor).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from superalign.errors import MissingDependencyError, SuperalignError
from superalign.registry import Registry


@dataclass(frozen=True)
class OversightItem:
    id: str
    question: str
    answers: tuple[str, str]
    correct: int  # index into answers
    source: str  # what the debaters/consultants read; hidden from the judge


ITEM_SETS: Registry = Registry("oversight task", entry_points="superalign.oversight_tasks")


def bbc_topics(n: int = 20, seed: int = 0, max_chars: int = 1200) -> list[OversightItem]:
    from superalign.data.bbc import TOPICS, _FOLDERS, _data_dir

    rng = random.Random(seed)
    root = _data_dir()
    items = []
    files = [(topic, path) for topic in TOPICS for path in sorted((root / _FOLDERS[topic]).iterdir())]
    for topic, path in rng.sample(files, n):
        other = rng.choice([t for t in TOPICS if t != topic])
        answers = [topic, other]
        rng.shuffle(answers)
        article = " ".join(path.read_text(errors="ignore").split())[:max_chars]
        items.append(OversightItem(f"bbc/{topic}/{path.stem}", "Which topic is this news article about?",
                                   (answers[0], answers[1]), answers.index(topic), article))
    return items


def _hub_rows(hub_id: str, split: str, n: int):
    import datasets

    from superalign.settings import settings

    mirror = settings().hub_dir
    source = str(Path(mirror) / hub_id) if mirror else hub_id
    try:
        return datasets.load_dataset(source, split=f"{split}[:{n}]")
    except Exception as exc:
        raise MissingDependencyError(f"could not load {source!r} ({type(exc).__name__}); with no internet, "
                                     "set SUPERALIGN_HUB_DIR to a local mirror of the hub files") from exc


def _two_answers(options: list[str], gold: int, rng: random.Random) -> tuple[tuple[str, str], int]:
    distractor = rng.choice([o for i, o in enumerate(options) if i != gold])
    pair = [options[gold], distractor]
    rng.shuffle(pair)
    return (pair[0], pair[1]), pair.index(options[gold])


def quality(n: int = 20, seed: int = 0) -> list[OversightItem]:
    """QuALITY (emozilla/quality): article, question, options, gold_label (1-based)."""
    rng = random.Random(seed)
    items = []
    for i, row in enumerate(_hub_rows("emozilla/quality", "validation", n)):
        answers, correct = _two_answers(list(row["options"]), int(row["gold_label"]) - 1, rng)
        items.append(OversightItem(f"quality/{i}", row["question"], answers, correct, row["article"]))
    return items


def quail(n: int = 20, seed: int = 0) -> list[OversightItem]:
    """QuAIL (textmachinelab/quail): context, question, answers, correct_answer_id (0-based)."""
    rng = random.Random(seed)
    items = []
    for i, row in enumerate(_hub_rows("textmachinelab/quail", "validation", n)):
        answers, correct = _two_answers(list(row["answers"]), int(row["correct_answer_id"]), rng)
        items.append(OversightItem(f"quail/{i}", row["question"], answers, correct, row["context"]))
    return items


ITEM_SETS.add("bbc-topics", bbc_topics, help="BBC article, two candidate topics (offline)")
ITEM_SETS.add("quality", quality, help="QuALITY long-document QA, two answers (hub)")
ITEM_SETS.add("quail", quail, help="QuAIL reading comprehension, two answers (hub)")


def load_items(name: str, n: int, seed: int = 0) -> list[OversightItem]:
    if n < 1:
        raise SuperalignError("the number of items must be at least 1")
    return ITEM_SETS.get(name)(n=n, seed=seed)
