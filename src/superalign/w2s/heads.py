"""Heads on cached features: a logistic (linear) head and a small MLP, trained in torch.

Both follow the estimator contract: `__init__` stores hyperparameters, `fit(X, Y) -> self` where
`Y` is `[n]` hard labels or `[n, k]` soft labels, fitted state ends in `_`, `predict_proba(X) -> [n, k]`.
Deterministic for a seed. Regularisation is selected on a held-out part of the labels the head is
trained on (never on other splits), then the head is refitted on all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import ThreadpoolController

from superalign.errors import SuperalignError


def as_soft_labels(y: np.ndarray, n_classes: int) -> np.ndarray:
    """`[n]` integer labels or `[n, k]` probabilities -> `[n, k]` float32 probabilities."""
    y = np.asarray(y)
    if y.ndim == 1:
        if y.min() < 0 or y.max() >= n_classes:
            raise SuperalignError(f"labels must lie in 0..{n_classes - 1}, found {y.min()}..{y.max()}")
        return np.eye(n_classes, dtype=np.float32)[y]
    if y.ndim != 2 or y.shape[1] != n_classes:
        raise SuperalignError(f"soft labels must have shape [n, {n_classes}], got {y.shape}")
    return y.astype(np.float32)


@lru_cache(maxsize=1)
def _blas_threads() -> ThreadpoolController:
    """Built once: finding the loaded BLAS libraries scans the process's memory map (~1 ms)."""
    return ThreadpoolController()


@contextmanager
def _torch_threads(count: int | None):
    """Small problems run faster on one thread: waking a thread pool costs more than the matmul."""
    previous = torch.get_num_threads()
    if count is not None and count != previous:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


def _check_xy(x: np.ndarray, y: np.ndarray) -> None:
    if x.ndim != 2:
        raise SuperalignError(f"features must be a [n, d] matrix, got shape {x.shape}")
    if len(x) != len(y):
        raise SuperalignError(f"{len(x)} feature rows but {len(y)} labels")


def standardizer(x: np.ndarray, enabled: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and scale `([d], [d])` of `x` (constant features keep scale 1); identity if disabled."""
    if not enabled:
        return np.zeros(x.shape[1], np.float32), np.ones(x.shape[1], np.float32)
    std = x.std(0)
    return x.mean(0), np.where(std > 1e-8, std, 1.0).astype(np.float32)


def _holdout(n: int, seed: int, fraction: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    cut = max(1, int(round(n * fraction)))
    return order[cut:], order[:cut]


@dataclass
class LogisticHead:
    """Multinomial logistic regression, full-batch L-BFGS, L2 penalty `||W||^2 / (2 C)` on the summed loss, as scikit-learn."""

    C: float | None = None  # None: choose from `C_grid` on a 20% holdout of the training labels
    C_grid: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)
    max_iter: int = 100
    seed: int = 0
    n_classes: int | None = None
    standardize: bool = True
    # fitted state
    C_: float = field(default=float("nan"), init=False)
    mean_: np.ndarray | None = field(default=None, init=False, repr=False)
    scale_: np.ndarray | None = field(default=None, init=False, repr=False)
    weight_: torch.Tensor | None = field(default=None, init=False, repr=False)  # [d, k]
    bias_: torch.Tensor | None = field(default=None, init=False, repr=False)  # [k]

    def fit(self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> "LogisticHead":
        x = np.asarray(x, dtype=np.float32)
        _check_xy(x, y)
        k = self.n_classes or (y.shape[1] if np.ndim(y) == 2 else int(np.max(y)) + 1)
        soft = as_soft_labels(y, k)
        self.mean_, self.scale_ = standardizer(x, self.standardize)
        xt = torch.from_numpy((x - self.mean_) / self.scale_)
        yt = torch.from_numpy(soft)
        wt = None if sample_weight is None else torch.as_tensor(sample_weight, dtype=torch.float32)
        C = self.C
        if C is None:
            train, held = _holdout(len(x), self.seed)
            losses = []
            for c in self.C_grid:
                w, b = self._train(xt[train], yt[train], None if wt is None else wt[train], c)
                with torch.no_grad():
                    losses.append(float(-(yt[held] * F.log_softmax(xt[held] @ w + b, 1)).sum(1).mean()))
            C = self.C_grid[int(np.argmin(losses))]
        self.C_ = float(C)
        self.weight_, self.bias_ = self._train(xt, yt, wt, C)
        return self

    def _train(self, x: torch.Tensor, y: torch.Tensor, w: torch.Tensor | None, C: float):
        """Minimises the penalised cross-entropy with scipy's L-BFGS-B; loss and gradient computed in torch.

        The gradient is written out (softmax minus target) rather than taken by autograd: on problems this
        small, autograd and torch's own L-BFGS cost more in Python overhead than the arithmetic itself.
        Two classes use one logit column (as scikit-learn): logits [0, z], half the parameters.
        """
        from scipy.optimize import minimize

        n, d = x.shape
        k = y.shape[1]
        columns = 1 if k == 2 else k
        # float32 arithmetic (as scikit-learn keeps float32 inputs in float32): half the memory traffic.
        x32 = x.float().contiguous()  # [n, d]
        target = (y[:, 1:] if columns == 1 else y).float().contiguous()  # [n, columns]
        sample_w = (torch.ones(n) if w is None else w).float().unsqueeze(1) / n  # [n, 1]
        l2 = 1.0 / (C * n)

        def loss_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
            params = torch.from_numpy(theta.astype(np.float32)).view(d + 1, columns)
            weight, bias = params[:d], params[d]
            z = x32 @ weight + bias  # [n, columns]
            if columns == 1:
                nll = (sample_w * (F.softplus(z) - target * z)).sum()
                residual = sample_w * (torch.sigmoid(z) - target)  # [n, 1]
            else:
                logp = torch.log_softmax(z, dim=1)
                nll = -(sample_w * target * logp).sum()
                residual = sample_w * (logp.exp() - target)  # [n, k]
            loss = nll + 0.5 * l2 * (weight ** 2).sum()
            grad = torch.cat([x32.T @ residual + l2 * weight, residual.sum(0, keepdim=True)])  # [d + 1, columns]
            return float(loss), grad.numpy().ravel().astype(np.float64)

        theta0 = np.zeros((d + 1) * columns)
        # scipy's BLAS threads and torch's OpenMP threads would spin against each other on every
        # evaluation (16 ms instead of 0.2 ms here); the optimizer's own vector work needs one thread.
        with _blas_threads().limit(limits=1, user_api="blas"), _torch_threads(1 if n * d < 2_000_000 else None):
            solution = minimize(loss_and_grad, theta0, jac=True, method="L-BFGS-B",
                                options={"maxiter": self.max_iter, "gtol": 1e-4})
        params = torch.from_numpy(solution.x).view(d + 1, columns).float()
        weight, bias = params[:d], params[d]
        if columns == 1:
            weight = torch.cat([torch.zeros(d, 1), weight], dim=1)  # [d, 2]
            bias = torch.cat([torch.zeros(1), bias])
        return weight, bias

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        if self.weight_ is None:
            raise RuntimeError("LogisticHead is not fitted; call fit first")
        xt = torch.from_numpy((np.asarray(x, dtype=np.float32) - self.mean_) / self.scale_)
        with torch.no_grad():
            return (xt @ self.weight_ + self.bias_).numpy()  # [n, k]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        logits = torch.from_numpy(self.decision_function(x))
        return F.softmax(logits, dim=1).numpy()

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.predict_proba(x).argmax(1)


@dataclass
class MLPHead:
    """One hidden layer (GELU), Adam with weight decay, early stopping on a holdout of the training labels."""

    hidden: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-2
    epochs: int = 200
    patience: int = 20
    seed: int = 0
    n_classes: int | None = None
    mean_: np.ndarray | None = field(default=None, init=False, repr=False)
    scale_: np.ndarray | None = field(default=None, init=False, repr=False)
    net_: torch.nn.Module | None = field(default=None, init=False, repr=False)
    best_epoch_: int = field(default=-1, init=False)

    def _net(self, d: int, k: int) -> torch.nn.Module:
        torch.manual_seed(self.seed)
        return torch.nn.Sequential(torch.nn.Linear(d, self.hidden), torch.nn.GELU(), torch.nn.Linear(self.hidden, k))

    def fit(self, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> "MLPHead":
        x = np.asarray(x, dtype=np.float32)
        _check_xy(x, y)
        k = self.n_classes or (y.shape[1] if np.ndim(y) == 2 else int(np.max(y)) + 1)
        soft = torch.from_numpy(as_soft_labels(y, k))
        self.mean_, self.scale_ = standardizer(x)
        xt = torch.from_numpy((x - self.mean_) / self.scale_)
        sw = torch.ones(len(x)) if sample_weight is None else torch.as_tensor(sample_weight, dtype=torch.float32)
        train, held = _holdout(len(x), self.seed)
        # First pass finds the stopping epoch on the holdout; the second refits on all labels.
        self.best_epoch_ = self._train(xt, soft, sw, train, held)
        self.net_ = self._train_fixed(xt, soft, sw, self.best_epoch_ + 1)
        return self

    def _loss(self, net, x, y, w):
        return -((y * F.log_softmax(net(x), 1)).sum(1) * w).mean()

    def _train(self, x, y, w, train, held) -> int:
        net = self._net(x.shape[1], y.shape[1])
        opt = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        best, best_epoch = float("inf"), 0
        for epoch in range(self.epochs):
            opt.zero_grad()
            self._loss(net, x[train], y[train], w[train]).backward()
            opt.step()
            with torch.no_grad():
                held_loss = float(self._loss(net, x[held], y[held], w[held]))
            if held_loss < best - 1e-5:
                best, best_epoch = held_loss, epoch
            elif epoch - best_epoch >= self.patience:
                break
        return best_epoch

    def _train_fixed(self, x, y, w, epochs: int):
        net = self._net(x.shape[1], y.shape[1])
        opt = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        for _ in range(epochs):
            opt.zero_grad()
            self._loss(net, x, y, w).backward()
            opt.step()
        return net.eval()

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        if self.net_ is None:
            raise RuntimeError("MLPHead is not fitted; call fit first")
        xt = torch.from_numpy((np.asarray(x, dtype=np.float32) - self.mean_) / self.scale_)
        with torch.no_grad():
            return F.softmax(self.net_(xt), 1).numpy()

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.predict_proba(x).argmax(1)


def make_head(kind: str, n_classes: int, seed: int):
    if kind == "logistic":
        return LogisticHead(n_classes=n_classes, seed=seed)
    if kind == "mlp":
        return MLPHead(n_classes=n_classes, seed=seed)
    raise SuperalignError(f"unknown head {kind!r}; use logistic or mlp")
