"""Reward models that are language models: a causal LM with a scalar head, fine-tuned with LoRA (peft).

r(prompt, response) is the head's output at the last token of "prompt\\n\\nresponse" (transformers'
`AutoModelForSequenceClassification` with one label, which every causal LM of the hub supports: Qwen2, Llama,
SmolLM2, ...). Training is Bradley-Terry on pairs, with soft targets so that a weak reward model's preferences
are learned as given: loss = BCE(sigmoid(r(B) - r(A)), P(B preferred)); hard ground truth is the special case
of targets 0 and 1. LoRA adapters on every linear layer plus the (fully trained) score head; the base weights
stay frozen.

One code path for CPU and GPU through accelerate: `device="auto"` takes CUDA when present, `precision="bf16"`
trains in bfloat16 mixed precision, `gradient_checkpointing` trades compute for memory, and the same script
under `accelerate launch` trains on several GPUs (data parallel). The responses of a pair are encoded in one
batch (A and B side by side), so both halves of a comparison see the same padding and the same weights.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from superalign.errors import MissingDependencyError

Pair = tuple[str, str, str]  # (prompt, response A, response B)


class LoraRewardConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rank: int = Field(16, ge=1, description="LoRA rank")
    alpha: int = Field(32, ge=1, description="LoRA alpha (scaling = alpha / rank)")
    dropout: float = Field(0.0, ge=0, lt=1)
    lr: float = Field(2e-4, gt=0)
    epochs: int = Field(1, ge=1)
    batch_size: int = Field(8, ge=1, description="pairs per step")
    max_length: int = Field(256, ge=8, description="tokens per response, prompt included")
    max_steps: int = Field(0, ge=0, description="stop after this many steps (0 = all epochs)")
    precision: Literal["fp32", "bf16"] = "fp32"
    gradient_checkpointing: bool = False
    device: Literal["auto", "cpu", "cuda"] = "auto"


@dataclass
class TrainStats:
    steps: int
    pairs: int
    tokens: int  # non-padding tokens through the model in training
    seconds: float
    final_loss: float

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else float("nan")


def _libraries():
    try:
        import peft  # noqa: F401
        import accelerate  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError("LoRA reward models need peft and accelerate: pip install 'superalign[lora]'") from exc


def texts_of(pairs: list[Pair]) -> tuple[list[str], list[str]]:
    """The texts a reward model reads for each response: the prompt, a blank line, the response."""
    return [f"{p}\n\n{a}" for p, a, _ in pairs], [f"{p}\n\n{b}" for p, _, b in pairs]


class LoraRewardModel:
    """A causal LM at `path` (a local folder or a hub id) with a scalar head and LoRA adapters."""

    def __init__(self, path: str, config: LoraRewardConfig | None = None, seed: int = 0,
                 trust_remote_code: bool = False):
        _libraries()
        import torch
        from accelerate import Accelerator
        from peft import LoraConfig, TaskType, get_peft_model
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from superalign.models.batching import torch_threads

        self.config = config or LoraRewardConfig()
        cfg = self.config
        torch_threads()
        torch.manual_seed(seed)
        # accelerate keeps one state per process: ask for the same as any trainer before us (trl's on a CPU-only
        # machine is cpu=True), and say so plainly where two settings cannot share a process
        cpu = cfg.device == "cpu" or not torch.cuda.is_available()
        try:
            self.accelerator = Accelerator(cpu=cpu, mixed_precision="bf16" if cfg.precision == "bf16" else "no")
        except ValueError as exc:
            from superalign.errors import SuperalignError

            raise SuperalignError(f"LoRA reward model: {exc.args[0].split(',')[0]}; one process trains with one "
                                  "device and precision setting, so run the other setting in a process of its own") from None
        self.tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer.padding_side = "right"
        from transformers.utils import logging as hf_logging

        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # its load report lists the new score head as "missing": that is the point
        try:
            base = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, dtype=torch.float32,
                                                                      trust_remote_code=trust_remote_code)
        finally:
            hf_logging.set_verbosity(verbosity)
        base.config.pad_token_id = self.tokenizer.pad_token_id
        if cfg.gradient_checkpointing:
            base.gradient_checkpointing_enable()
            base.enable_input_require_grads()
        lora = LoraConfig(task_type=TaskType.SEQ_CLS, r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout,
                          target_modules="all-linear", modules_to_save=["score"])
        self.model = get_peft_model(base, lora)
        self.model = self.accelerator.prepare(self.model)

    def trainable_parameters(self) -> tuple[int, int]:
        """(trainable, total) parameter counts."""
        trainable = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
        return trainable, sum(p.numel() for p in self.model.parameters())

    def _batch(self, texts: list[str]):
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.config.max_length,
                               return_tensors="pt")
        return {k: v.to(self.accelerator.device) for k, v in batch.items()}

    def _rewards(self, texts: list[str]):
        batch = self._batch(texts)
        return self.model(**batch).logits.squeeze(-1).float(), int(batch["attention_mask"].sum())

    def train(self, pairs: list[Pair], targets: np.ndarray, seed: int = 0,
              progress: Callable[[int], None] = lambda steps: None) -> TrainStats:
        """Bradley-Terry on `pairs` with soft targets `targets[i]` = P(B preferred); returns what it cost."""
        import torch

        cfg = self.config
        targets = np.asarray(targets, dtype=np.float32)
        optimizer = torch.optim.AdamW([p for p in self.model.parameters() if p.requires_grad], lr=cfg.lr)
        optimizer = self.accelerator.prepare(optimizer)
        rng = np.random.default_rng(seed)
        first, second = texts_of(pairs)
        self.model.train()
        steps, tokens, loss_value = 0, 0, float("nan")
        start = time.perf_counter()
        for _ in range(cfg.epochs):
            for idx in np.array_split(rng.permutation(len(pairs)), max(1, -(-len(pairs) // cfg.batch_size))):
                rewards, n_tokens = self._rewards([first[i] for i in idx] + [second[i] for i in idx])
                margin = rewards[len(idx):] - rewards[:len(idx)]  # r(B) - r(A)
                target = torch.as_tensor(targets[idx], device=margin.device)
                loss = torch.nn.functional.binary_cross_entropy_with_logits(margin, target)
                self.accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()
                steps, tokens, loss_value = steps + 1, tokens + n_tokens, float(loss.detach())
                progress(steps)
                if cfg.max_steps and steps >= cfg.max_steps:
                    break
            if cfg.max_steps and steps >= cfg.max_steps:
                break
        self.model.eval()
        return TrainStats(steps, min(len(pairs), steps * cfg.batch_size), tokens, time.perf_counter() - start,
                          loss_value)

    def rewards(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """[n] r(text), in evaluation mode."""
        import torch

        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                out.append(self._rewards(texts[i:i + batch_size])[0].cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)

    def preference_probs(self, pairs: list[Pair]) -> np.ndarray:
        """[n, 2]: P(A preferred), P(B preferred) = sigmoid(r(B) - r(A))."""
        first, second = texts_of(pairs)
        rewards = self.rewards(first + second)
        margin = rewards[len(pairs):] - rewards[:len(pairs)]
        p_b = 1.0 / (1.0 + np.exp(-margin.astype(np.float64)))
        return np.stack([1.0 - p_b, p_b], 1)
