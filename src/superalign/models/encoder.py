"""Encoders turn a task's inputs into a feature matrix `[n, d]`; the registry names them.

An encoder is cheap to construct (it stores names and options) and loads its weights lazily on the
first `encode`, so listing encoders or hitting the activation cache never loads a model.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable
from urllib.parse import parse_qs

import numpy as np

from superalign.errors import SuperalignError
from superalign.registry import Registry


class Encoder(ABC):
    name: str
    modalities: tuple[str, ...]  # the task modalities it accepts
    # True for encoders fitted on the inputs they encode (TF-IDF, PCA): they cannot place new inputs beside
    # a task's own, so nothing that writes new inputs (the generative attacker) may use them.
    fitted_on_inputs: bool = False

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """Everything that determines the features: model, weights checksum, layer, pooling, max length, precision."""

    @abstractmethod
    def n_params(self) -> int:
        """Parameter count, to order ladders by size."""

    @abstractmethod
    def encode(self, inputs, progress: Callable[[int], None] = lambda n: None) -> np.ndarray:
        """Features `[n, d]` float32 for `n` inputs; calls `progress(k)` after each k inputs."""

    def check_modality(self, modality: str) -> None:
        if modality not in self.modalities:
            raise SuperalignError(
                f"encoder {self.name!r} takes {'/'.join(self.modalities)} inputs, not {modality}; "
                "pick an encoder for this task's modality (superalign models list)"
            )


EncoderFactory = Callable[[], Encoder]
# Built-ins: every module of superalign.models registers its encoders on import; plugins: entry points.
ENCODERS: Registry[EncoderFactory] = Registry("encoder", builtins="superalign.models", entry_points="superalign.encoders")


# Options a packaged hidden-state encoder accepts after its name: `qwen-1.5b?layer=14&pooling=mean`.
HIDDEN_STATE_OPTIONS = {"layer": int, "pooling": str, "max_length": int, "precision": str, "template": str}


def get_encoder(name: str) -> Encoder:
    base, sep, _ = name.partition("?")
    if not sep or base not in ENCODERS:
        return ENCODERS.get(name)()
    factory = ENCODERS.get(base)
    if not getattr(factory, "takes_options", False):
        raise SuperalignError(f"encoder {base!r} takes no options; drop '?...' from {name!r}")
    return factory(name=name, **parse_options(name, HIDDEN_STATE_OPTIONS)[1])


def encoder_names() -> list[str]:
    return ENCODERS.names()


def parse_options(spec: str, allowed: dict[str, type], kind: str = "encoder") -> tuple[str, dict[str, Any]]:
    """`name?layer=6&pooling=mean` -> ("name", {"layer": 6, "pooling": "mean"}), checking option names."""
    base, _, query = spec.partition("?")
    options: dict[str, Any] = {}
    for key, values in parse_qs(query).items():
        if key not in allowed:
            raise SuperalignError(f"{kind} {spec!r}: unknown option {key!r}; allowed: {', '.join(allowed)}")
        try:
            options[key] = allowed[key](values[-1])
        except ValueError as exc:
            raise SuperalignError(f"{kind} {spec!r}: option {key}={values[-1]!r} is not a {allowed[key].__name__}") from exc
    return base, options
