"""The Method protocol: what a weak-to-strong method is, which labels it may read, and how it is found.

A method is a small estimator with a typed config: `fit(transfer, val) -> self`, `predict_proba(split) ->
[n, k]` and `diagnostics(transfer_labels) -> dict`, where each split is a `StudentSplit`. Every method
declares its ground-truth **budget**, and the pipeline hands it exactly that much ground truth, no more:

    none                   no labels at all, neither weak nor true (a zero-shot judge, unsupervised elicitation)
    weak-labels            the weak supervisor's labels on transfer (and val); no ground truth at all
    supervisor-gt-weak     + the supervisor's own ground truth (weak_train), with *weak* features only
    supervisor-gt-strong   + the supervisor's ground truth with *strong* features (a small strong ceiling);
                           compare such a method with `strong-on-supervisor-labels`, what that budget alone buys
    transfer-gt            + ground truth on the transfer set itself: an oracle, an upper bound only

Built-in methods live in `superalign.w2s.methods` (one module each, found by a package scan); third-party
methods register through the `superalign.methods` entry-point group (see the README).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from superalign.errors import SuperalignError
from superalign.registry import Registry

Budget = Literal["none", "weak-labels", "supervisor-gt-weak", "supervisor-gt-strong", "transfer-gt"]
BUDGETS: tuple[Budget, ...] = ("none", "weak-labels", "supervisor-gt-weak", "supervisor-gt-strong", "transfer-gt")


@dataclass
class StudentSplit:
    features: np.ndarray  # [n, d] strong-model features
    inputs: Any = None  # the raw inputs (texts or arrays), for methods that fine-tune the model itself
    weak_probs: np.ndarray | None = None  # [n, k] weak supervisor's soft labels; None on test and for budget none
    rung_features: dict[str, np.ndarray] = field(default_factory=dict)  # intermediate encoders' [n, d_r]
    # Ground truth: on val only with the explicit ground-truth-validation opt-in; on transfer only for
    # methods whose budget is `transfer-gt` (oracle upper bounds), and the record says so.
    true_labels: np.ndarray | None = None
    weak_features: np.ndarray | None = None  # [n, d_weak] the weak encoder's features (to build more weak teachers)


@dataclass
class LabelledSplit:
    """The weak supervisor's own ground-truth data (weak_train), as far as the method's budget allows:
    `features` (strong) is None below `supervisor-gt-strong`."""

    features: np.ndarray | None  # [n, d] strong features, or None
    weak_features: np.ndarray  # [n, d_weak]
    labels: np.ndarray  # [n] ground truth


@dataclass
class MethodContext:
    n_classes: int
    seed: int
    head: str = "logistic"  # logistic | mlp
    intermediate: list[str] = field(default_factory=list)  # ladder rungs between weak and strong
    strong_encoder: Any = None  # the Encoder object, for fine-tuning
    labelled: LabelledSplit | None = None  # weak_train, cut to the method's budget; None for weak-labels


class MethodConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Method:
    """Base class of every weak-to-strong method. Subclasses set the class attributes and implement `fit`."""

    config_cls: ClassVar[type[MethodConfig]] = MethodConfig
    budget: ClassVar[Budget] = "weak-labels"
    needs_rungs: ClassVar[bool] = False  # needs intermediate encoders between weak and strong
    needs_pairs: ClassVar[bool] = False  # reads its inputs as preference pairs (a prefs task)
    trains_model: ClassVar[bool] = False  # trains a network's weights (a GPU helps; the Ray executor can reserve one)
    # "head": the ceiling is the same head trained on transfer ground truth; "self": the method itself
    # trained on ground truth (fine-tuning needs a fine-tuned ceiling to be comparable).
    ceiling: ClassVar[Literal["head", "self"]] = "head"

    def __init__(self, config: MethodConfig, context: MethodContext):
        self.config, self.context = config, context

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "Method":
        raise NotImplementedError

    def predict_proba(self, split: StudentSplit) -> np.ndarray:
        return self.head_.predict_proba(split.features)

    def diagnostics(self, transfer_labels: np.ndarray) -> dict:
        """Computed after training, with transfer ground truth, for the record only."""
        return {}

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""


METHODS: Registry[type[Method]] = Registry("method", builtins="superalign.w2s.methods",
                                           entry_points="superalign.methods")


def method_config(name: str, options: dict[str, Any] | None) -> MethodConfig:
    """The method's typed config from `options`; a bad option is one clear error line."""
    cls = METHODS.get(name)
    try:
        return cls.config_cls(**(options or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SuperalignError(
            f"method {name!r}: option {'.'.join(map(str, first['loc']))}: {first['msg']} "
            f"(options: {', '.join(cls.config_cls.model_fields) or 'none'})"
        ) from exc


def make_method(name: str, options: dict[str, Any] | None, context: MethodContext) -> Method:
    return METHODS.get(name)(method_config(name, options), context)


def method_names() -> list[str]:
    """Every method, the smallest label budget first (naive leading), then by name."""
    return sorted(METHODS.names(), key=lambda n: (budget_rank(METHODS.get(n).budget), n != "naive", n))


def budget_rank(budget: str) -> int:
    return BUDGETS.index(budget)
