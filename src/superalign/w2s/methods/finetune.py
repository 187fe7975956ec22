"""`finetune`: full fine-tuning of the strong Hugging Face encoder on the weak labels.

Checks the frozen-feature results against real fine-tuning: the encoder's weights (not just a head)
learn from the weak soft labels. Mean pooling + a linear head, AdamW, a fixed number of epochs (no
selection on any labels). Runs on CPU for the small ladder; uses CUDA when present.
Its ceiling is the same recipe trained on transfer ground truth (a frozen-feature ceiling would make its PGR
incomparable with anything).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from superalign.errors import SuperalignError
from superalign.models.batching import device, torch_threads
from superalign.w2s.method import METHODS, Method, MethodConfig, StudentSplit


class FinetuneConfig(MethodConfig):
    epochs: int = Field(2, ge=1)
    batch_size: int = Field(16, ge=1)
    lr: float = Field(5e-5, gt=0)
    head_lr: float = Field(1e-3, gt=0, description="the new linear head learns faster than the pretrained body")
    max_length: int = Field(128, ge=8)
    max_steps: int = Field(0, ge=0, description="stop after this many steps (0 = all epochs); for quick checks")


@METHODS.register("finetune")
class Finetune(Method):
    """Fine-tunes the strong encoder end to end on the weak soft labels (cross-entropy)."""

    config_cls = FinetuneConfig
    budget = "weak-labels"
    ceiling = "self"
    trains_model = True

    def _model_path(self) -> str:
        encoder = self.context.strong_encoder
        path = getattr(encoder, "path", None)
        if path is None:
            raise SuperalignError(
                f"method 'finetune' needs a Hugging Face strong encoder (minilm-l6, mpnet, hf:..., st:...), "
                f"not {getattr(encoder, 'name', encoder)!r}")
        return str(path)

    def fit(self, transfer: StudentSplit, val: StudentSplit) -> "Finetune":
        import torch
        from transformers import AutoModel, AutoTokenizer

        if len(transfer.inputs) == 0 or not isinstance(transfer.inputs[0], str):
            raise SuperalignError("method 'finetune' needs a text task")
        cfg, ctx = self.config, self.context
        torch_threads()
        torch.manual_seed(ctx.seed)
        path = self._model_path()
        self.tokenizer_ = AutoTokenizer.from_pretrained(path)
        if self.tokenizer_.pad_token is None:
            self.tokenizer_.pad_token = self.tokenizer_.eos_token
        self.body_ = AutoModel.from_pretrained(path).to(device())
        self.head_ = torch.nn.Linear(self.body_.config.hidden_size, ctx.n_classes).to(device())
        self.initial_body_norm_ = float(sum(p.detach().norm() ** 2 for p in self.body_.parameters()) ** 0.5)
        optimizer = torch.optim.AdamW([{"params": self.body_.parameters(), "lr": cfg.lr},
                                       {"params": self.head_.parameters(), "lr": cfg.head_lr}], weight_decay=0.01)
        targets = torch.tensor(transfer.weak_probs, dtype=torch.float32)
        generator = torch.Generator().manual_seed(ctx.seed)
        self.steps_ = 0
        self.body_.train()
        for _ in range(cfg.epochs):
            for batch in torch.randperm(len(targets), generator=generator).split(cfg.batch_size):
                logits = self._logits([transfer.inputs[i] for i in batch])
                loss = -(targets[batch].to(logits.device) * logits.log_softmax(1)).sum(1).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                self.steps_ += 1
                if cfg.max_steps and self.steps_ >= cfg.max_steps:
                    break
            if cfg.max_steps and self.steps_ >= cfg.max_steps:
                break
        self.body_.eval()
        return self

    def _logits(self, texts: list[str]):
        batch = self.tokenizer_(texts, padding=True, truncation=True, max_length=self.config.max_length,
                                return_tensors="pt").to(self.body_.device)
        hidden = self.body_(**batch).last_hidden_state  # [b, seq, d]
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)  # [b, d]
        return self.head_(pooled)  # [b, k]

    def predict_proba(self, split: StudentSplit) -> np.ndarray:
        import torch

        out = []
        with torch.inference_mode():
            for start in range(0, len(split.inputs), 64):
                out.append(self._logits(list(split.inputs[start:start + 64])).softmax(1).float().cpu().numpy())
        return np.concatenate(out)

