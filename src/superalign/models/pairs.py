"""`bt:BASE`: an encoder for pairwise preference tasks whose linear head is a Bradley-Terry reward model.

Each response is encoded with its prompt by BASE (any text encoder of the ladder: `bt:minilm-l3`,
`bt:qwen-1.5b?template=chat&layer=-1`), and the feature of a pair is phi(prompt + A) - phi(prompt + B). A logistic
head on it gives P(B preferred) = sigmoid(w . (phi(A) - phi(B)) + b) = sigmoid(r(B) - r(A)) with the reward
r(x) = -w . phi(x) (the intercept only absorbs a position bias, near zero on balanced pairs). So the whole
weak-to-strong machinery runs on preferences unchanged: a weak reward model on `bt:` weak features labels the
transfer pairs with soft preferences, a strong one learns them, and PGR is that of pairwise accuracy.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from superalign.errors import SuperalignError
from superalign.models.encoder import ENCODERS, Encoder, get_encoder

_A, _B = "\n\nResponse A: ", "\n\nResponse B: "


def split_pair(text: str) -> tuple[str, str, str]:
    """(prompt, response A, response B) of a pair as `PreferencePair.text` writes it."""
    b = text.rfind(_B)
    a = text.rfind(_A, 0, b)
    if a < 0 or b < 0 or not text.startswith("Prompt: "):
        raise SuperalignError("encoder bt:...: its inputs must be preference pairs (a prefs: task), not plain texts")
    return text[len("Prompt: "):a], text[a + len(_A):b], text[b + len(_B):]


def pairs_of(inputs, method: str) -> list[tuple[str, str, str]]:
    """(prompt, A, B) of each input, for a method that reads preference pairs; one error line on other inputs."""
    message = f"method {method!r} reads preference pairs: use a prefs task (e.g. prefs-arithmetic)"
    if inputs is None or any(not isinstance(x, str) for x in inputs):
        raise SuperalignError(message)
    try:
        return [split_pair(text) for text in inputs]
    except SuperalignError:
        raise SuperalignError(message) from None


class PairDifference(Encoder):
    modalities = ("text",)

    def __init__(self, base: str):
        self.base = get_encoder(base)
        self.base.check_modality("text")
        self.name = f"bt:{base}"
        self.fitted_on_inputs = self.base.fitted_on_inputs

    def identity(self) -> dict[str, Any]:
        return {"pair_difference": self.base.identity()}

    def n_params(self) -> int:
        return self.base.n_params()

    def encode(self, inputs, progress: Callable[[int], None] = lambda n: None) -> np.ndarray:
        parts = [split_pair(text) for text in inputs]
        first = [f"{prompt}\n\n{a}" for prompt, a, _ in parts]
        second = [f"{prompt}\n\n{b}" for prompt, _, b in parts]
        # one call for both halves: an encoder fitted on its inputs (TF-IDF) sees every response once
        features = np.asarray(self.base.encode(first + second, progress=lambda k: progress(k // 2)), dtype=np.float32)
        return features[: len(parts)] - features[len(parts):]


ENCODERS.register_prefix("bt", lambda base: (lambda: PairDifference(base)))
