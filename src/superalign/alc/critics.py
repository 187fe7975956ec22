"""Critics: a label, a confidence and a short critique for each (query, learner answer) pair.

    weak      the weak supervisor, with a consistency check: its label must agree with the labels of the
              query's nearest neighbours among the supervisor's own labelled examples; the confidence is the
              lower of its probability and that agreement
    lm        a language model: the probability of each class's answer word (cloze log-probs, one forward pass
              each), calibrated on the supervisor's labelled examples; optionally a generated paragraph of
              critique of the learner's answer
    ensemble  the mean of its members' probabilities; their critiques joined

Labels read: only the supervisor's ground truth (weak_train), which the weak supervisor is trained on anyway.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from pydantic import Field, PrivateAttr

from superalign.alc.queries import Queries, Supervision
from superalign.alc.spec import Component, build, spec_of
from superalign.errors import SuperalignError
from superalign.registry import Registry


@dataclass
class Critique:
    probs: np.ndarray  # [m, k] the critic's label distribution
    confidence: np.ndarray  # [m] in [0, 1]: how sure the critic is of its label
    texts: list[str]  # [m] the critique, kept in the records

    @property
    def labels(self) -> np.ndarray:
        return self.probs.argmax(1)


class Critic(Component):
    def fit(self, supervision: Supervision, weak_head: Any, seed: int) -> "Critic":
        return self

    def critique(self, queries: Queries, learner_probs: np.ndarray) -> Critique:
        raise NotImplementedError

    def identity(self) -> dict[str, Any]:
        return spec_of(self)


CRITICS: Registry[type[Critic]] = Registry("critic", entry_points="superalign.critics")


def make_critic(spec: str | dict[str, Any]) -> Critic:
    return build(CRITICS, spec)


@lru_cache(maxsize=4)
def chat_client(model: str) -> Any:
    """One client per chat model in a process: the strategies of a run (and its critic and attacker) share the
    loaded weights instead of loading them again."""
    from superalign.chat.client import get_chat_model

    return get_chat_model(model)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)


@CRITICS.register("weak", help="the weak supervisor, checked against its labelled nearest neighbours")
class WeakCritic(Critic):
    neighbours: int = Field(10, ge=1, description="labelled neighbours of the consistency check (0: no check)")
    consistency: bool = True
    _head: Any = PrivateAttr(None)
    _reference: np.ndarray | None = PrivateAttr(None)
    _labels: np.ndarray | None = PrivateAttr(None)
    _names: list[str] = PrivateAttr(default_factory=list)

    def fit(self, supervision: Supervision, weak_head: Any, seed: int) -> "WeakCritic":
        self._head, self._names = weak_head, supervision.label_names
        self._reference, self._labels = _unit_rows(supervision.x_weak), np.asarray(supervision.labels)
        return self

    def neighbour_share(self, x_weak: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Share of each query's nearest labelled neighbours (cosine, weak features) whose label is `labels`."""
        k = min(self.neighbours, len(self._labels))
        similarity = _unit_rows(x_weak) @ self._reference.T  # [m, n_supervision]
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        return (self._labels[nearest] == labels[:, None]).mean(1)

    def critique(self, queries: Queries, learner_probs: np.ndarray) -> Critique:
        probs = self._head.predict_proba(queries.x_weak)
        labels = probs.argmax(1)
        confidence = probs.max(1)
        share = self.neighbour_share(queries.x_weak, labels) if self.consistency else np.ones(len(labels))
        if self.consistency:
            confidence = np.minimum(confidence, share)
        learner = learner_probs.argmax(1)
        texts = [f"weak supervisor: {self._names[c]} (p={p:.2f}); {s:.0%} of its nearest labelled examples agree; "
                 f"the learner's {self._names[a]} {'agrees' if a == c else 'disagrees'}"
                 for c, p, s, a in zip(labels, probs.max(1), share, learner)]
        return Critique(probs, confidence, texts)


@CRITICS.register("lm", help="a language model: calibrated cloze probabilities of each class, and a critique")
class LMCritic(Critic):
    model: str = Field("qwen-0.5b", description="chat model (superalign oversight models; any OpenAI-compatible)")
    answers: list[str] = Field(default_factory=list, description="the answer word of each class (default: label names)")
    instruction: str = Field("", description="system prompt (default: the task description and the answer words)")
    calibration: int = Field(100, ge=0, description="supervisor examples the probabilities are calibrated on (0: none)")
    critique_tokens: int = Field(0, ge=0, description="tokens of generated critique per query (0: the scores only)")
    _client: Any = PrivateAttr(None)
    _calibrator: Any = PrivateAttr(None)
    _names: list[str] = PrivateAttr(default_factory=list)
    _system: str = PrivateAttr("")

    def _messages(self, text: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": self._system}, {"role": "user", "content": str(text)}]

    def _scores(self, texts: list[Any]) -> np.ndarray:
        """`[m, k]` log-probs of each class's answer word as the reply (cached by the request cache)."""
        async def all_scores():
            rows = await asyncio.gather(*(self._client.answer_logprobs(self._messages(t), "", self.answers)
                                          for t in texts))
            return [[row[a] for a in self.answers] for row in rows]

        return np.asarray(asyncio.run(all_scores()), dtype=float).reshape(len(texts), len(self.answers))

    def fit(self, supervision: Supervision, weak_head: Any, seed: int, client: Any = None) -> "LMCritic":
        self._names = list(supervision.label_names)
        if not self.answers:
            self.answers = list(self._names)
        if len(self.answers) != len(self._names):
            raise SuperalignError(f"critic lm: {len(self.answers)} answers for {len(self._names)} classes "
                                  f"({', '.join(self._names)}); give one answer word per class")
        self._system = self.instruction or (f"You label texts for this task: {supervision.description}. Reply "
                                            f"with one word: {' or '.join(self.answers)}.")
        self._client = client or chat_client(self.model)
        if self.calibration:
            from sklearn.linear_model import LogisticRegression

            rng = np.random.default_rng(seed)
            rows = rng.permutation(len(supervision.labels))[: self.calibration]
            labels = supervision.labels[rows]
            if len(np.unique(labels)) == len(self._names):  # every class present, or there is nothing to fit
                scores = self._scores([supervision.inputs[i] for i in rows])
                self._calibrator = LogisticRegression(C=1.0, max_iter=1000).fit(scores, labels)
        return self

    def probabilities(self, texts: list[Any]) -> np.ndarray:
        scores = self._scores(texts)
        if self._calibrator is not None:
            return self._calibrator.predict_proba(scores)
        z = np.exp(scores - scores.max(1, keepdims=True))
        return z / z.sum(1, keepdims=True)

    def critique(self, queries: Queries, learner_probs: np.ndarray) -> Critique:
        probs = self.probabilities(queries.inputs)
        texts = [f"{self.model}: {self._names[c]} (p={p:.2f})" for c, p in zip(probs.argmax(1), probs.max(1))]
        if self.critique_tokens:
            texts = [f"{t}. {c}" for t, c in zip(texts, self._critiques(queries.inputs, learner_probs.argmax(1)))]
        return Critique(probs, probs.max(1), texts)

    def _critiques(self, texts: list[Any], learner_labels: np.ndarray) -> list[str]:
        async def all_critiques():
            replies = await asyncio.gather(*(self._client.chat(
                [{"role": "system", "content": self._system},
                 {"role": "user", "content": f"{text}\n\nA classifier answered: {self.answers[label]}. In two or three "
                                             "sentences, say whether that answer is right and why."}],
                max_tokens=self.critique_tokens) for text, label in zip(texts, learner_labels)))
            return [" ".join(r.text.split()) for r in replies]

        return asyncio.run(all_critiques())


@CRITICS.register("ensemble", help="the mean of its members' probabilities")
class EnsembleCritic(Critic):
    members: list[Any] = Field(default_factory=lambda: ["weak", "lm"], description="critic specs")
    _critics: list[Critic] = PrivateAttr(default_factory=list)

    def fit(self, supervision: Supervision, weak_head: Any, seed: int) -> "EnsembleCritic":
        if not self.members:
            raise SuperalignError("critic ensemble: give at least one member (members: [weak, lm])")
        self._critics = [make_critic(m).fit(supervision, weak_head, seed) for m in self.members]
        return self

    def critique(self, queries: Queries, learner_probs: np.ndarray) -> Critique:
        parts = [c.critique(queries, learner_probs) for c in self._critics]
        probs = np.mean([p.probs for p in parts], axis=0)
        texts = [" | ".join(t) for t in zip(*(p.texts for p in parts))]
        return Critique(probs, probs.max(1), texts)

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "members": [c.identity() for c in self._critics] or self.members}
