"""The LoRA reward-model path on a GPU: Qwen2.5-Coder-1.5B (the packaged GGUF, dequantized) as a reward model
on prefs-arithmetic, bf16 and gradient checkpointing, trained on the first 1,600 pairs and scored on the last 400.
Prints tokens/s of training and held-out pairwise accuracy before and after. For the `device` GPU machine (one
H100 or H200); on a CPU it refuses rather than run for hours.

Usage: python benchmarks/lora_gpu.py [--model qwen-1.5b] [--train 1600] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from record import row


def main() -> None:
    import torch

    from superalign.data.worked_arithmetic import read_pairs
    from superalign.models import packaged
    from superalign.models.reward_lora import LoraRewardConfig, LoraRewardModel

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen-1.5b")
    parser.add_argument("--train", type=int, default=1600)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("no CUDA device: this script is for the GPU machine (benchmarks/lora_rm.py times the CPU path)")
    path = str(packaged.dequantized_gguf_dir(args.model, packaged.qwen_gguf(args.model)))
    rows = read_pairs()
    pairs = [(r["prompt"], r["chosen"], r["rejected"]) for r in rows]
    # chosen in position B for odd rows, so that "always B" scores 0.5
    oriented = [(p, c, r) if i % 2 else (p, r, c) for i, (p, c, r) in enumerate(pairs)]
    targets = np.array([0.0 if i % 2 else 1.0 for i in range(len(pairs))])  # P(B preferred)
    train, test = slice(0, args.train), slice(args.train, None)
    rm = LoraRewardModel(path, LoraRewardConfig(batch_size=args.batch_size, precision="bf16",
                                                gradient_checkpointing=True, max_length=128, lr=1e-4))
    before = (rm.preference_probs(oriented[test]).argmax(1) == targets[test]).mean()
    stats = rm.train(oriented[train], targets[train])
    after = (rm.preference_probs(oriented[test]).argmax(1) == targets[test]).mean()
    row(f"LoRA reward model on {torch.cuda.get_device_name()}, {args.model}, bf16, {stats.pairs} pairs",
        f"{stats.tokens_per_second:.0f} tokens/s ({stats.seconds:.1f} s)", "-", "-",
        f"held-out pairwise accuracy {before:.3f} -> {after:.3f} on {len(targets[test])} pairs")


if __name__ == "__main__":
    main()
