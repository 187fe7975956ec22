"""What batched decoding buys the debaters: llama.cpp decode steps for K sequences at once against K
sequences one after another, on the packaged Qwen-1.5B (the ladder's debater), in one run.

A debate's generation is a decode step per token per argument (about 70-100 ms on 2 cores for the 1.5B model);
two debaters, or two items, share a step as K sequences of one llama.cpp batch (each step then reads the
weights once for K tokens). This measures that ceiling on raw decode steps: the same article-length prefix in
every sequence (its KV cells shared), then decode steps of one token per sequence, greedy. What the waves built
on it (superalign.chat.llama_batch) give a whole debate, judge included, is benchmarks/oversight.py's
`debate` against `debate-one-at-a-time`.

Usage: python benchmarks/llama_batching.py [--model qwen-1.5b] [--steps 8]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from record import row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen-1.5b")
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args()

    import llama_cpp
    from llama_cpp import _internals as internals

    from superalign.chat.client import CHAT_MODELS

    llama = CHAT_MODELS.get(args.model)().llama
    widths = (1, 2, 4, 8)
    params = llama_cpp.llama_context_params.from_buffer_copy(llama.context_params)
    params.n_ctx, params.n_seq_max, params.kv_unified = 4096, max(widths), True  # one KV buffer, cells shared
    ctx = internals.LlamaContext(model=llama._model, params=params, verbose=False)
    batch = internals.LlamaBatch(n_tokens=512, embd=0, n_seq_max=max(widths), verbose=False)
    prompt = llama.tokenize(b"Source text: The quick brown fox jumps over the lazy dog near the river bank. " * 12,
                            add_bos=True)

    def decode(entries: list[tuple[int, int, int, bool]]) -> None:  # (token, position, sequence, wants logits)
        b = batch.batch
        b.n_tokens = len(entries)
        for i, (token, pos, seq, logits) in enumerate(entries):
            b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = token, pos, 1, logits
            b.seq_id[i][0] = seq
        ctx.decode(batch)

    decode([(t, i, 0, i == len(prompt) - 1) for i, t in enumerate(prompt)])
    for seq in range(1, max(widths)):
        llama_cpp.llama_memory_seq_cp(ctx.memory, 0, seq, -1, -1)

    def steps(width: int) -> float:
        """Seconds per decode step of `width` sequences (greedy: each next token from its own logits row)."""
        tokens = [int(prompt[-1])] * width
        start = time.perf_counter()
        for step in range(args.steps):
            decode([(tokens[s], len(prompt) + step, s, True) for s in range(width)])
            tokens = [int(np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx.ctx, s), shape=(llama._n_vocab,)).argmax())
                      for s in range(width)]
        seconds = (time.perf_counter() - start) / args.steps
        for seq in range(width):
            llama_cpp.llama_memory_seq_rm(ctx.memory, seq, len(prompt), -1)
        return seconds

    steps(1)  # warm-up
    one = steps(1)
    print(f"{args.model}, prefix of {len(prompt)} tokens, {args.steps} decode steps each")
    for width in widths:
        batched = steps(width)
        row(f"{width} sequences a token each, {args.model}, batched decoding", f"{batched * 1000:.0f} ms",
            f"one after another {width * one * 1000:.0f} ms", f"{width * one / batched:.2f}x")
        print(f"{width} sequences, a token each: one after another {width * one * 1000:.0f} ms, batched "
              f"{batched * 1000:.0f} ms ({width / batched:.1f} tokens/s against {1 / one:.1f}): "
              f"{width * one / batched:.2f}x")


if __name__ == "__main__":
    main()
