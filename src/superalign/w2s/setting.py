"""The weak-to-strong setting every family builds on, declared and prepared once.

    class MyConfig(SettingConfig):       # task, weak, strong, head, seed, splits, max_examples
        my_option: float = 0.5

    setting = prepare_setting(config)    # task, splits, encoders, weak and strong features (cached by content)
    weak = setting.fit_weak_head()       # the weak supervisor: a head on weak features, fitted on weak_train

Used by the weak-to-strong pipeline (and through it label-free evaluation), the attacker-learner-critic loop and
both probes. Labels read here: only weak_train's ground truth, by the weak supervisor; every other split's labels
stay on `task.labels` for the caller to read where its method's budget says it may.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from superalign.data.registry import load_task
from superalign.data.task import Splits, SplitSizes, Task, make_splits
from superalign.models.cache import ActivationCache
from superalign.models.encoder import get_encoder
from superalign.w2s.heads import make_head


class SettingConfig(BaseModel):
    """The fields of a weak-to-strong setting; a family's config extends it (and may change a default)."""

    model_config = ConfigDict(extra="forbid")

    task: str = Field("bbc-business-vs-rest", description="task name (superalign data list)")
    weak: str = Field("minilm-l3", description="weak supervisor's encoder")
    strong: str = Field("mpnet", description="strong student's encoder")
    head: Literal["logistic", "mlp"] = Field("logistic", description="the classifier on features")
    seed: int = 0
    splits: SplitSizes = Field(default_factory=SplitSizes)
    max_examples: int = Field(0, ge=0, description="stratified subset of the task (0 = all)")


def prepare_task(config: SettingConfig) -> Task:
    task = load_task(config.task)
    # The subset is drawn with a fixed seed, so all seeds share features (the splits vary by seed).
    return task.subsample(config.max_examples, seed=0) if config.max_examples else task


@dataclass
class PreparedSetting:
    config: SettingConfig
    task: Task
    splits: Splits
    weak_encoder: Any
    strong_encoder: Any
    x_weak: np.ndarray  # [n, d_weak]
    x_strong: np.ndarray | None  # [n, d_strong]; None where the caller featurizes strong inputs itself
    cache: ActivationCache

    @property
    def n_classes(self) -> int:
        return self.task.n_classes

    def features(self, encoder_name: str) -> np.ndarray:
        """Another encoder's features of the task (an intermediate rung), through the same cache."""
        return np.asarray(self.cache.featurize(self.task, get_encoder(encoder_name)))

    def fit_weak_head(self, seed: int | None = None):
        """The weak supervisor as a head on weak features, fitted on weak_train ground truth."""
        wt = self.splits.weak_train
        seed = self.config.seed if seed is None else seed
        return make_head(self.config.head, self.n_classes, seed).fit(self.x_weak[wt], self.task.labels[wt])


def prepare_setting(config: SettingConfig, cache: ActivationCache | None = None, task: Task | None = None,
                    splits: Splits | None = None, strong: bool = True) -> PreparedSetting:
    """Task, splits (by the config's seed), encoders and features. `task` and `splits` override what the config
    names (tests use them to tamper with labels)."""
    cache = cache or ActivationCache()
    task = task or prepare_task(config)
    splits = splits or make_splits(task, config.splits, seed=config.seed)
    weak_encoder, strong_encoder = get_encoder(config.weak), get_encoder(config.strong)
    x_weak = np.asarray(cache.featurize(task, weak_encoder))
    x_strong = np.asarray(cache.featurize(task, strong_encoder)) if strong else None
    return PreparedSetting(config, task, splits, weak_encoder, strong_encoder, x_weak, x_strong, cache)
