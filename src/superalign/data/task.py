"""A task: inputs, integer labels and label names, with deterministic stratified splits.

Inputs are texts (`list[str]`) or arrays (`np.ndarray`, `[n, ...]`: tabular rows or images).
The four splits of weak-to-strong work:
  weak_train  ground truth for the weak supervisor
  transfer    labelled by the weak supervisor for the student (its ground truth trains the ceiling)
  val         model selection, with weak labels unless ground truth is explicitly opted into
  test        evaluation only
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from superalign.errors import SuperalignError
from superalign.io import hash_array, hash_strings, stable_hash

Inputs = Union[list[str], np.ndarray]
Modality = Literal["text", "image", "tabular"]
SPLIT_NAMES = ("weak_train", "transfer", "val", "test")


@dataclass(frozen=True)
class Task:
    name: str
    inputs: Inputs  # list of n texts, or [n, ...] array
    labels: np.ndarray  # [n] int64 in 0..n_classes-1
    label_names: list[str]
    modality: Modality
    description: str = ""
    # A task carved out of a larger one (a subset, a binary task from a multi-class one) keeps its
    # root and indices, so features are computed once for the root and indexed, not recomputed.
    parent: "Task | None" = field(default=None, repr=False, compare=False)
    parent_indices: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        labels = np.asarray(self.labels)
        if labels.ndim != 1 or len(labels) != len(self.inputs):
            raise SuperalignError(
                f"task {self.name!r}: {len(self.inputs)} inputs but labels of shape {labels.shape}; "
                "give one integer label per input"
            )
        present = np.unique(labels)
        if len(present) < 2:
            raise SuperalignError(
                f"task {self.name!r} has a single class ({self.label_names[int(present[0])] if len(present) else 'none'}); "
                "weak-to-strong training needs at least two classes: check the label column or the filter"
            )
        if present.min() < 0 or present.max() >= len(self.label_names):
            raise SuperalignError(
                f"task {self.name!r}: labels must lie in 0..{len(self.label_names) - 1} (the label names); "
                f"found {present.min()}..{present.max()}"
            )
        object.__setattr__(self, "labels", labels.astype(np.int64))

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def n_classes(self) -> int:
        return len(self.label_names)

    def inputs_at(self, indices: np.ndarray) -> Inputs:
        """The inputs at `indices`: a list of texts, or an `[m, ...]` array."""
        if self.modality == "text":
            return [self.inputs[i] for i in indices]
        return np.asarray(self.inputs)[indices]

    @cached_property
    def content_hash(self) -> str:
        """Hash of inputs and labels: the cache key part that names the data, not the task name."""
        if self.modality == "text":
            inputs_hash = hash_strings(list(self.inputs))
        else:
            inputs_hash = hash_array(np.asarray(self.inputs))
        return stable_hash([inputs_hash, hash_array(self.labels), self.label_names], length=24)

    def subset(self, indices: np.ndarray, name: str | None = None, labels: np.ndarray | None = None,
               label_names: list[str] | None = None, description: str | None = None) -> "Task":
        """The examples at `indices`, optionally relabelled; remembers the root task for feature reuse."""
        indices = np.asarray(indices)
        inputs = [self.inputs[i] for i in indices] if self.modality == "text" else np.asarray(self.inputs)[indices]
        root, root_indices = (self, indices) if self.parent is None else (self.parent, self.parent_indices[indices])
        return Task(
            name=name or self.name,
            inputs=inputs,
            labels=self.labels[indices] if labels is None else labels,
            label_names=label_names or self.label_names,
            modality=self.modality,
            description=self.description if description is None else description,
            parent=root,
            parent_indices=root_indices,
        )

    def subsample(self, max_examples: int, seed: int = 0) -> "Task":
        """A stratified subset of at most `max_examples` (the same one for a given seed)."""
        if max_examples >= len(self):
            return self
        from sklearn.model_selection import train_test_split  # scikit-learn takes ~1 s to import: only when used

        keep, _ = train_test_split(
            np.arange(len(self)), train_size=max_examples, stratify=self.labels, random_state=seed
        )
        return self.subset(np.sort(keep))


class SplitSizes(BaseModel):
    """Sizes of the four splits: fractions of the task (< 1) or example counts (>= 1)."""

    model_config = ConfigDict(extra="forbid")

    weak_train: float = Field(0.3, gt=0, description="ground truth for the weak supervisor")
    transfer: float = Field(0.4, gt=0, description="weakly labelled data for the student")
    val: float = Field(0.1, gt=0, description="model selection (weak labels)")
    test: float = Field(0.2, gt=0, description="held-out evaluation")

    @classmethod
    def parse(cls, text: str) -> "SplitSizes":
        """From the command line's "weak_train,transfer,val,test" (four fractions or counts)."""
        try:
            values = [float(p) for p in text.split(",")]
        except ValueError:
            values = []
        if len(values) != len(SPLIT_NAMES):
            raise SuperalignError(f"--sizes {text!r}: give four numbers weak_train,transfer,val,test")
        try:
            return cls(**dict(zip(SPLIT_NAMES, values)))
        except ValidationError as exc:
            raise SuperalignError(f"--sizes {text!r}: {exc.errors()[0]['loc'][0]} {exc.errors()[0]['msg']}")

    def counts(self, n: int) -> dict[str, int]:
        raw = {name: getattr(self, name) for name in SPLIT_NAMES}
        counts = {k: int(v * n + 1e-9) if v < 1 else int(v) for k, v in raw.items()}  # floor: never over n
        if sum(counts.values()) > n:
            raise SuperalignError(
                f"split sizes {counts} add up to {sum(counts.values())} but the task has only {n} examples; "
                "lower the sizes or use fractions that sum to at most 1"
            )
        if min(counts.values()) < 2:
            raise SuperalignError(f"split sizes {counts} leave a split with fewer than 2 examples; raise the sizes")
        return counts


@dataclass(frozen=True)
class Splits:
    """Index arrays into a task, one per split name."""

    weak_train: np.ndarray
    transfer: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def __getitem__(self, name: str) -> np.ndarray:
        return getattr(self, name)

    def items(self) -> list[tuple[str, np.ndarray]]:
        return [(name, getattr(self, name)) for name in SPLIT_NAMES]


def make_splits(task: Task, sizes: SplitSizes | None = None, seed: int = 0) -> Splits:
    """Deterministic, stratified, disjoint splits. Same task, sizes and seed give the same indices."""
    from sklearn.model_selection import train_test_split  # scikit-learn takes ~1 s to import: only when used

    sizes = sizes or SplitSizes()
    counts = sizes.counts(len(task))
    rest = np.arange(len(task))
    out: dict[str, np.ndarray] = {}
    # Carve out test first, then val, transfer and weak_train, so that a larger weak_train does not
    # change which examples are test.
    for i, name in enumerate(reversed(SPLIT_NAMES)):
        want = counts[name]
        if i == len(SPLIT_NAMES) - 1 and want == len(rest):
            out[name] = rest
            break
        stratify = task.labels[rest] if _can_stratify(task.labels[rest], want) else None
        taken, rest = train_test_split(rest, train_size=want, stratify=stratify, random_state=seed + i)
        out[name] = np.sort(taken)
    return Splits(**out)


def _can_stratify(labels: np.ndarray, want: int) -> bool:
    counts = np.bincount(labels)
    counts = counts[counts > 0]
    return counts.min() >= 2 and want >= len(counts) and len(labels) - want >= len(counts)
