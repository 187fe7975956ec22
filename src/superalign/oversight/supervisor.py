"""Oversight x W2SG: a language-model judge under an oversight protocol as the weak supervisor of a W2S run.

Each text of a binary task becomes an oversight item: "Which topic is this news text about?" with the task's
two label names as answers (always in the task's order; the judge sees both orders, so its position bias
cancels). The debaters or consultant read the text; the judge reads only their arguments (or, with
`direct` and `judge_sees_source`, the text itself: the judge as a zero-shot classifier). The judge's
order-averaged log-prob signal s (`superalign.oversight.judging`) becomes the soft label sigmoid(a s + c)
(Platt scaling: the slope is a temperature, the intercept the judge's prior for one label's text), fitted on
the run's `weak_train` split: the ground truth every weak supervisor is given, read here for these two numbers. Neither the judge nor the debaters read any label; the items' answer
key is a placeholder that nothing here reads.

    superalign run --task bbc-business-vs-tech --weak minilm-l3 --strong mpnet --method naive --seeds 1 \\
        --supervisor judge --supervisor-option protocol=debate --supervisor-option debater=qwen-1.5b

Every judge and debater request goes through the request cache, so an interrupted run resumes and a
repeated run costs nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from superalign.chat.client import get_chat_model
from superalign.errors import SuperalignError
from superalign.io import stable_hash
from superalign.oversight.items import OversightItem
from superalign.oversight.protocols import LADDER_SETTINGS, Settings
from superalign.oversight.runner import judge_scores, run_transcripts
from superalign.w2s.supervisor import SUPERVISORS, Supervisor


class JudgeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    protocol: Literal["direct", "consultancy", "debate"] = "debate"
    judge: str = Field("qwen-0.5b", description="the judge's chat model")
    debater: str = Field("qwen-1.5b", description="debaters' and consultants' chat model (reads the text)")
    question: str = "Which topic is this news text about?"
    max_chars: int = Field(900, gt=0, description="the text is cut to this many characters")
    settings: dict[str, Any] = Field(default_factory=dict, description="protocol settings over LADDER_SETTINGS")


@SUPERVISORS.register("judge")
class JudgeSupervisor(Supervisor):
    """A language-model judge's calibrated verdicts under an oversight protocol (see the module doc)."""

    reads = "weak_train ground truth, for the calibration's two numbers only; the judge and debaters read no labels"

    @classmethod
    def validate(cls, options) -> tuple[JudgeOptions, Settings]:
        try:
            config = JudgeOptions(**options)
            settings = Settings(**{**LADDER_SETTINGS, **config.settings})
        except ValidationError as exc:
            first = exc.errors()[0]
            raise SuperalignError(f"judge supervisor option {'.'.join(map(str, first['loc']))}: {first['msg']}")
        except TypeError as exc:  # an unknown protocol setting
            raise SuperalignError(f"judge supervisor settings: {exc}; see superalign.oversight.protocols.Settings")
        if settings.judge_mode == "generate":
            raise SuperalignError("the judge supervisor reads log-probs: set settings.judge_mode to 'cloze' or 'logprob'")
        return config, settings

    def __init__(self, options, n_classes, label_names, head, seed):
        super().__init__(options, n_classes, label_names, head, seed)
        self.config, self.settings = self.validate(options)
        if n_classes != 2:
            raise SuperalignError(f"the judge supervisor needs a binary task (two answers), not {n_classes} classes; "
                                  "use a one-vs-one task such as bbc-business-vs-tech")
        judge, debater = get_chat_model(self.config.judge), get_chat_model(self.config.debater)
        self.clients = {"judge": judge, "debater_a": debater, "debater_b": debater, "consultant": debater}
        self.bias: list[float] = []

    def signal(self, inputs: list) -> np.ndarray:
        """The judge's order-averaged log-odds for the first label, one per text (consultancy: the mean over the
        two assigned sides)."""
        if inputs is None or isinstance(inputs, np.ndarray):
            raise SuperalignError("the judge supervisor labels texts: pass the inputs, not only features")
        names = (self.label_names[0], self.label_names[1])
        items = [OversightItem(f"w2s/{stable_hash(text, length=12)}", self.config.question, names, 0,
                               " ".join(str(text).split())[: self.config.max_chars]) for text in inputs]
        unique = list({item.id: item for item in items}.values())
        transcripts = asyncio.run(run_transcripts(self.config.protocol, unique, self.clients, self.settings))
        scores = judge_scores(transcripts)
        by_item: dict[str, list[float]] = {}
        for item_id, s in zip(scores.item_ids.tolist(), scores.signal.tolist()):
            by_item.setdefault(item_id, []).append(s)
        self.bias += scores.bias.tolist()
        return np.array([np.mean(by_item[item.id]) for item in items])

    def fit(self, x_weak, inputs, labels):
        from sklearn.linear_model import LogisticRegression

        s = self.signal(inputs)
        first = np.asarray(labels) == 0
        if first.all() or not first.any():
            raise SuperalignError("calibrating the judge needs both classes in weak_train: raise its size")
        # Nearly unpenalised (C large): two parameters on tens of items; the fit is the calibration.
        platt = LogisticRegression(C=1e4).fit(s[:, None], first)
        self.slope_, self.intercept_ = float(platt.coef_[0, 0]), float(platt.intercept_[0])
        self.fit_accuracy_ = float(np.mean(np.where(s == 0, 0.5, (s > 0) == first)))  # the raw signal's
        return self

    def predict_proba(self, x_weak, inputs=None):
        p_first = 1 / (1 + np.exp(-(self.slope_ * self.signal(inputs) + self.intercept_)))
        return np.stack([p_first, 1 - p_first], 1).astype(np.float32)

    def diagnostics(self) -> dict[str, Any]:
        return {**self.config.model_dump(exclude={"settings"}), "settings": asdict(self.settings),
                "models": {role: c.backend.identity() for role, c in self.clients.items() if role in ("judge", "debater_a")},
                "calibration": {"slope": self.slope_, "intercept": self.intercept_},
                "weak_train_signal_accuracy": self.fit_accuracy_,
                "judged_pairs": len(self.bias), "bias_mean": float(np.mean(self.bias))}
