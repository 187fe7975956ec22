"""LoRA reward-model training: ours (superalign.models.reward_lora) against trl's RewardTrainer, side by side.

Same model (SmolLM2-135M, dequantized from its packaged GGUF, or --model PATH), same pairs (the first N of
prefs-arithmetic, chosen against rejected), same LoRA (rank 16, alpha 32, every linear layer plus the score head),
same optimizer (AdamW, lr 2e-4, no warm-up or decay), batch size, epochs, fp32 on this machine's device. trl appends
the EOS token to each response; so does ours here, so that both read the same tokens. The timed part is training
only (model loading and tokenizing are outside the clock for both); throughput is tokens of chosen and rejected
responses per second, counted the same way for both.

Usage: python benchmarks/lora_rm.py [--pairs 64] [--batch-size 8] [--model PATH]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
from record import row


def _pairs(n: int) -> list[tuple[str, str, str]]:
    from superalign.data.worked_arithmetic import read_pairs

    return [(r["prompt"], r["chosen"], r["rejected"]) for r in read_pairs()[:n]]


def ours(path: str, pairs, args) -> tuple[float, int]:
    from superalign.models.reward_lora import LoraRewardConfig, LoraRewardModel

    rm = LoraRewardModel(path, LoraRewardConfig(batch_size=args.batch_size, max_length=args.max_length, lr=2e-4))
    eos = rm.tokenizer.eos_token
    # chosen as A, rejected as B, target P(B preferred) = 0: the same comparisons as trl's
    stats = rm.train([(p, c + eos, r + eos) for p, c, r in pairs], np.zeros(len(pairs)), seed=0)
    return stats.seconds, stats.tokens


def trl_reward_trainer(path: str, pairs, args) -> tuple[float, int]:
    import torch
    from datasets import Dataset
    from peft import LoraConfig, TaskType
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from trl import RewardConfig, RewardTrainer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, dtype=torch.float32)
    model.config.pad_token_id = tokenizer.pad_token_id
    data = Dataset.from_dict({"chosen": [f"{p}\n\n{c}" for p, c, _ in pairs],
                              "rejected": [f"{p}\n\n{r}" for p, _, r in pairs]})
    with tempfile.TemporaryDirectory() as out:
        config = RewardConfig(output_dir=out, per_device_train_batch_size=args.batch_size, num_train_epochs=1,
                              learning_rate=2e-4, lr_scheduler_type="constant", warmup_steps=0,
                              max_length=args.max_length, report_to="none", save_strategy="no", logging_steps=10_000,
                              disable_tqdm=True, seed=0, use_cpu=not torch.cuda.is_available(),
                              dataloader_num_workers=0, bf16=False)  # trl defaults to bf16: fp32 like ours
        lora = LoraConfig(task_type=TaskType.SEQ_CLS, r=16, lora_alpha=32, lora_dropout=0.0,
                          target_modules="all-linear", modules_to_save=["score"])
        trainer = RewardTrainer(model=model, args=config, train_dataset=data, processing_class=tokenizer,
                                peft_config=lora)
        tokens = sum(len(x) for x in trainer.train_dataset["chosen_ids"]) + \
            sum(len(x) for x in trainer.train_dataset["rejected_ids"])
        start = time.perf_counter()
        trainer.train()
        return time.perf_counter() - start, tokens


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--model", default="")
    args = parser.parse_args()
    path = args.model
    if not path:
        from superalign.models import packaged

        path = str(packaged.dequantized_gguf_dir("smollm2-135m", packaged.smollm2_gguf(), packaged.SMOLLM2_GGUF_SHA256))
    pairs = _pairs(args.pairs)
    trl_seconds, trl_tokens = trl_reward_trainer(path, pairs, args)
    our_seconds, our_tokens = ours(path, pairs, args)
    name = "SmolLM2-135M" if not args.model else args.model
    ratio = (our_tokens / our_seconds) / (trl_tokens / trl_seconds)
    row(f"LoRA reward model, {name}, {len(pairs)} pairs, batch {args.batch_size}, 1 epoch, fp32",
        f"{our_tokens / our_seconds:.0f} tokens/s ({our_seconds:.1f} s)",
        f"trl RewardTrainer {trl_tokens / trl_seconds:.0f} tokens/s ({trl_seconds:.1f} s)", f"{ratio:.2f}x",
        f"{our_tokens} vs {trl_tokens} tokens")


if __name__ == "__main__":
    main()
