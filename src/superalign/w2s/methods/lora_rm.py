"""`lora-rm`: the strong reward model is the strong language model itself, LoRA-fine-tuned on the weak preferences.

Where `naive` on `bt:MODEL` features trains a Bradley-Terry head on frozen hidden states, this method fine-tunes
the model (LoRA adapters on every linear layer, a scalar head; `superalign.models.reward_lora`) on the weak
reward model's soft preferences. Its ceiling is the same recipe on transfer ground truth, so PGR compares like
with like. The model is the strong encoder's (`bt:smollm2-135m`, `bt:qwen-0.5b`, `bt:hf:ID`), or `model=PATH`.
Reads weak labels only. On a GPU it trains there (`device=auto`); `precision=bf16` and `gradient_checkpointing`
are passed through.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from superalign.errors import SuperalignError
from superalign.models.reward_lora import LoraRewardConfig, LoraRewardModel
from superalign.w2s.method import METHODS, Method, StudentSplit


class LoraRmConfig(LoraRewardConfig):
    model: str = Field("", description="a model folder or hub id (default: the strong encoder's model)")


@METHODS.register("lora-rm")
class LoraRm(Method):
    """LoRA-fine-tunes the strong LM as a Bradley-Terry reward model on the weak soft preferences (pairs)."""

    config_cls = LoraRmConfig
    budget = "weak-labels"
    ceiling = "self"
    needs_pairs = True
    trains_model = True

    def _model_path(self) -> str:
        if self.config.model:
            return self.config.model
        encoder = self.context.strong_encoder
        base = getattr(encoder, "base", encoder)  # bt:MODEL wraps the model's encoder
        path = getattr(base, "path", None)
        if path is None or not hasattr(base, "resolved_layer"):
            raise SuperalignError("method 'lora-rm' needs a language-model strong encoder (bt:smollm2-135m, "
                                  f"bt:qwen-0.5b, bt:hf:ID) or model=PATH, not {getattr(encoder, 'name', encoder)!r}")
        return str(path)

    @staticmethod
    def _pairs(split: StudentSplit):
        from superalign.models.pairs import pairs_of

        return pairs_of(split.inputs, "lora-rm")

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "LoraRm":
        if self.context.n_classes != 2:
            raise SuperalignError("method 'lora-rm' needs a preference task (two classes: A or B preferred)")
        options = self.config.model_dump(exclude={"model"})
        self.rm_ = LoraRewardModel(self._model_path(), LoraRewardConfig(**options), seed=self.context.seed)
        self.stats_ = self.rm_.train(self._pairs(transfer), transfer.weak_probs[:, 1], seed=self.context.seed)
        return self

    def predict_proba(self, split: StudentSplit) -> np.ndarray:
        return self.rm_.preference_probs(self._pairs(split))

    def diagnostics(self, transfer_labels: np.ndarray) -> dict:
        trainable, total = self.rm_.trainable_parameters()
        return {"steps": self.stats_.steps, "tokens": self.stats_.tokens, "train_seconds": round(self.stats_.seconds, 2),
                "tokens_per_second": round(self.stats_.tokens_per_second, 1), "final_loss": self.stats_.final_loss,
                "trainable_parameters": trainable, "parameters": total}
