"""Weak-to-strong methods: how a strong student learns from weak labels.

Each method is a small estimator with a typed config: `fit(transfer, val) -> self` and
`predict_proba(split) -> [n, k]`, where each split is a `StudentSplit` (strong features, raw
inputs, the weak supervisor's soft labels, and features of intermediate ladder rungs).
The `val` split carries weak labels only; methods may use it for their own choices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from superalign.errors import SuperalignError
from superalign.registry import Registry
from superalign.w2s.heads import make_head


@dataclass
class StudentSplit:
    features: np.ndarray  # [n, d] strong-model features
    inputs: Any = None  # the raw inputs (texts or arrays), for methods that fine-tune the model itself
    weak_probs: np.ndarray | None = None  # [n, k] weak supervisor's soft labels; None on test
    rung_features: dict[str, np.ndarray] = field(default_factory=dict)  # intermediate encoders' [n, d_r]
    # Ground truth: on val only with the explicit ground-truth-validation opt-in; on transfer only for
    # methods that declare `uses_transfer_labels` (oracle upper bounds), and the record says so.
    true_labels: np.ndarray | None = None
    weak_features: np.ndarray | None = None  # [n, d_weak] the weak encoder's features (to build more weak teachers)


@dataclass
class LabelledSplit:
    """The weak supervisor's own ground-truth data (weak_train): what a method may use besides weak labels,
    e.g. to train more weak teachers or a P(IK) classifier. No method sees more ground truth than the supervisor."""

    features: np.ndarray  # [n, d] strong features
    weak_features: np.ndarray  # [n, d_weak]
    labels: np.ndarray  # [n] ground truth


@dataclass
class MethodContext:
    n_classes: int
    seed: int
    head: str = "logistic"  # logistic | mlp
    intermediate: list[str] = field(default_factory=list)  # ladder rungs between weak and strong
    strong_encoder: Any = None  # the Encoder object, for fine-tuning
    labelled: LabelledSplit | None = None  # weak_train: the supervisor's ground truth


class MethodConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass
class MethodSpec:
    config_cls: type[MethodConfig]
    build: Callable[[MethodConfig, MethodContext], Any]
    help: str


METHODS: Registry[MethodSpec] = Registry("method")


def make_method(name: str, options: dict[str, Any] | None, context: MethodContext):
    _ensure_methods()
    spec = METHODS.get(name)
    try:
        config = spec.config_cls(**(options or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SuperalignError(
            f"method {name!r}: option {'.'.join(map(str, first['loc']))}: {first['msg']} "
            f"(options: {', '.join(spec.config_cls.model_fields)})"
        ) from exc
    return spec.build(config, context)


def method_names() -> list[str]:
    _ensure_methods()
    return METHODS.names()


def _ensure_methods() -> None:
    # The v2 methods and fine-tuning live in their own modules; importing them registers them.
    from superalign.w2s import cosupervision, ensemble, filtering, finetune, selective  # noqa: F401


# --- naive -----------------------------------------------------------------------------------


class NaiveConfig(MethodConfig):
    hard_labels: bool = Field(False, description="train on argmax weak labels instead of soft ones")


class Naive:
    """Cross-entropy on the weak labels (soft by default)."""

    def __init__(self, config: NaiveConfig, context: MethodContext):
        self.config, self.context = config, context

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "Naive":
        labels = transfer.weak_probs.argmax(1) if self.config.hard_labels else transfer.weak_probs
        self.head_ = make_head(self.context.head, self.context.n_classes, self.context.seed)
        self.head_.fit(transfer.features, labels)
        return self

    def predict_proba(self, split: StudentSplit) -> np.ndarray:
        return self.head_.predict_proba(split.features)


# --- auxiliary confidence loss ---------------------------------------------------------------


class AuxConfConfig(MethodConfig):
    aux_coef: float = Field(0.75, ge=0, le=1, description="final weight of the student's own hardened labels")
    warmup_frac: float = Field(0.2, ge=0, le=1, description="fraction of steps over which the weight ramps up")
    epochs: int = Field(30, ge=1)
    batch_size: int = Field(32, ge=1)
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(1e-2, ge=0)


class AuxConf:
    """Auxiliary confidence loss (Burns et al. 2023): mix weak labels with the student's hardened predictions.

    target = (1 - a) * weak + a * harden(student), where `a` ramps *smoothly* from 0 to `aux_coef`
    over the warm-up (openai/weak-to-strong's version jumps from 0 to the full weight). Hardening is
    argmax for several classes; for two classes it thresholds at the batch quantile that matches the
    weak labels' positive rate (the adaptive threshold of the paper).
    """

    def __init__(self, config: AuxConfConfig, context: MethodContext):
        self.config, self.context = config, context

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "AuxConf":
        cfg, ctx = self.config, self.context
        x = np.asarray(transfer.features, dtype=np.float32)
        self.mean_ = x.mean(0)
        std = x.std(0)
        self.scale_ = np.where(std > 1e-8, std, 1.0).astype(np.float32)
        xt = torch.from_numpy((x - self.mean_) / self.scale_)  # [n, d]
        weak = torch.from_numpy(transfer.weak_probs.astype(np.float32))  # [n, k]
        torch.manual_seed(ctx.seed)
        d, k = xt.shape[1], ctx.n_classes
        if ctx.head == "mlp":
            net = torch.nn.Sequential(torch.nn.Linear(d, 256), torch.nn.GELU(), torch.nn.Linear(256, k))
        else:
            net = torch.nn.Linear(d, k)
        opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        generator = torch.Generator().manual_seed(ctx.seed)
        steps_per_epoch = -(-len(xt) // cfg.batch_size)
        total = cfg.epochs * steps_per_epoch
        warmup = max(1, int(cfg.warmup_frac * total))
        step = 0
        self.alphas_: list[float] = []  # the weight used at each step, kept for inspection
        for _ in range(cfg.epochs):
            for batch in torch.randperm(len(xt), generator=generator).split(cfg.batch_size):
                logits = net(xt[batch])  # [b, k]
                alpha = cfg.aux_coef * min(1.0, step / warmup)
                self.alphas_.append(alpha)
                target = (1 - alpha) * weak[batch] + alpha * self._harden(logits.detach(), weak[batch])
                loss = -(target * F.log_softmax(logits, 1)).sum(1).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                step += 1
        self.net_ = net.eval()
        return self

    @staticmethod
    def _harden(logits: torch.Tensor, weak: torch.Tensor) -> torch.Tensor:
        k = logits.shape[1]
        if k != 2:
            return F.one_hot(logits.argmax(1), k).float()
        probs = logits.softmax(1)[:, 1]
        positive_rate = float(weak[:, 1].mean())
        threshold = torch.quantile(probs, 1 - positive_rate) if 0 < positive_rate < 1 else 0.5
        hard = (probs > threshold).long()
        return F.one_hot(hard, 2).float()

    def predict_proba(self, split: StudentSplit) -> np.ndarray:
        xt = torch.from_numpy((np.asarray(split.features, dtype=np.float32) - self.mean_) / self.scale_)
        with torch.no_grad():
            return self.net_(xt).softmax(1).numpy()


# --- bootstrapping ---------------------------------------------------------------------------


class BootstrapConfig(MethodConfig):
    folds: int = Field(2, ge=2, description="cross-fitting folds: each rung labels only examples it did not train on")


class Bootstrap:
    """Weak -> intermediate rung(s) -> strong: each rung learns the previous rung's labels and relabels the data.

    A rung that labelled its own training examples would mostly echo them, so each rung is cross-fitted:
    trained on the other folds, it labels the held-out fold.
    """

    def __init__(self, config: BootstrapConfig, context: MethodContext):
        self.config, self.context = config, context

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "Bootstrap":
        ctx = self.context
        if not ctx.intermediate:
            raise SuperalignError("method 'bootstrap' needs at least one intermediate encoder "
                                  "(--intermediate NAME, or a ladder with a rung between weak and strong)")
        labels = transfer.weak_probs
        folds = np.random.default_rng(ctx.seed).integers(0, self.config.folds, size=len(labels))
        for rung in ctx.intermediate:
            x = transfer.rung_features[rung]
            relabelled = np.empty_like(labels)
            for f in range(self.config.folds):
                head = make_head(ctx.head, ctx.n_classes, ctx.seed).fit(x[folds != f], labels[folds != f])
                relabelled[folds == f] = head.predict_proba(x[folds == f])
            labels = relabelled
        self.final_labels_ = labels
        self.head_ = make_head(ctx.head, ctx.n_classes, ctx.seed).fit(transfer.features, labels)
        return self

    def predict_proba(self, split: StudentSplit) -> np.ndarray:
        return self.head_.predict_proba(split.features)


METHODS.add("naive", MethodSpec(NaiveConfig, Naive, Naive.__doc__.splitlines()[0]))
METHODS.add("aux-conf", MethodSpec(AuxConfConfig, AuxConf, AuxConf.__doc__.splitlines()[0]))
METHODS.add("bootstrap", MethodSpec(BootstrapConfig, Bootstrap, Bootstrap.__doc__.splitlines()[0]))

