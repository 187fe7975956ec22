"""Several generations at once: the prompts of one wave decoded as sequences of one llama.cpp batch.

A decode step of a small model on a CPU reads every weight once whatever the number of tokens in the batch, so K
sequences stepping together cost far less than K steps one after another (`benchmarks/llama_batching.py`). The
two debaters of a simultaneous round, the two sides of a consultancy and neighbouring items send their requests
at the same time; `LlamaCppChat` collects them into a wave and this module decodes the wave.

The prompts of a wave usually share a long prefix (the article, in a debate): it is evaluated once, in
sequence 0, and its KV cells are shared with the other sequences (`llama_memory_seq_cp`), and sequence 0's cells
are kept for the next wave (a second round starts with the same article).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class Request:
    prompt: list[int]  # token ids, special tokens included
    max_tokens: int
    temperature: float
    rng: np.random.Generator
    tokens: list[int] = field(default_factory=list)  # generated, end-of-generation token excluded
    logprobs: list[float] = field(default_factory=list)
    top: list[dict[str, float]] = field(default_factory=list)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log-probabilities along the last axis (a logits row, or rows [n, vocab]), in float64."""
    rows = np.asarray(logits, dtype=np.float64)
    rows = rows - rows.max(-1, keepdims=True)
    return rows - np.log(np.exp(rows).sum(-1, keepdims=True))


def pick(row: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """Greedy at temperature 0, else plain temperature sampling: the one rule both decoding paths share."""
    if temperature > 0:
        p = np.exp((row - row.max()) / temperature)
        return int(rng.choice(len(p), p=p / p.sum()))
    return int(np.argmax(row))


def top_logprobs(row: np.ndarray, k: int, piece: Callable[[int], str]) -> dict[str, float]:
    best = np.argpartition(-row, k)[:k]
    return {piece(int(i)): float(row[i]) for i in best[np.argsort(-row[best])]}


def common_prefix(sequences: list[list[int]]) -> int:
    """Length of the longest prefix every sequence shares."""
    n = min(len(s) for s in sequences)
    for i in range(n):
        token = sequences[0][i]
        if any(s[i] != token for s in sequences[1:]):
            return i
    return n


class BatchedDecoder:
    """A llama.cpp context of `max_sequences` sequences over an already loaded model (the `Llama`'s weights;
    its own KV cache), decoding a wave of requests in lock-step."""

    def __init__(self, llama, max_sequences: int, n_ctx_per_sequence: int, top_k: int):
        import llama_cpp
        from llama_cpp import _internals as internals

        self.max_sequences = max_sequences
        self.top_k = top_k
        params = llama_cpp.llama_context_params.from_buffer_copy(llama.context_params)
        # one KV buffer for every sequence, so that the shared prefix's cells are stored once
        params.n_ctx, params.n_seq_max, params.kv_unified = n_ctx_per_sequence * max_sequences, max_sequences, True
        self.n_ctx_per_sequence = n_ctx_per_sequence
        self.ctx = internals.LlamaContext(model=llama._model, params=params, verbose=False)
        self.n_batch = int(params.n_batch)
        self.batch = internals.LlamaBatch(n_tokens=self.n_batch, embd=0, n_seq_max=max_sequences, verbose=False)
        # the tokens whose KV cells each sequence holds (kept after a wave, for the next one's prefixes)
        self.held: list[list[int]] = [[] for _ in range(max_sequences)]
        self.rows: dict[int, np.ndarray] = {}  # each sequence's latest next-token log-probs
        self.n_vocab = llama._n_vocab
        self.evaluated = 0  # tokens decoded so far (what reusing KV cells saves shows here)

    def _decode(self, entries: list[tuple[int, int, int, bool]]) -> dict[int, np.ndarray]:
        """Decodes (token, position, sequence, wants logits) entries in chunks of n_batch; returns the log-probs
        of each entry that asked for logits, by its index in `entries`."""
        import llama_cpp

        rows: dict[int, np.ndarray] = {}
        for start in range(0, len(entries), self.n_batch):
            chunk = entries[start:start + self.n_batch]
            b = self.batch.batch
            b.n_tokens = len(chunk)
            for i, (token, pos, seq, logits) in enumerate(chunk):
                b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = token, pos, 1, logits
                b.seq_id[i][0] = seq
            self.ctx.decode(self.batch)
            self.evaluated += len(chunk)
            for i, (_, _, _, logits) in enumerate(chunk):
                if logits:
                    pointer = llama_cpp.llama_get_logits_ith(self.ctx.ctx, i)
                    rows[start + i] = log_softmax(np.ctypeslib.as_array(pointer, shape=(self.n_vocab,)))
        return rows

    def _start(self, requests: list[Request]) -> list[int]:
        """Puts each request in a sequence and evaluates its prompt there, reusing KV cells: what a sequence
        still holds from the last wave (a second round starts with the same article), or the prefix it shares
        with another request of this wave (two debaters read the same article), whichever is longer. Returns
        each request's sequence; `self.rows[seq]` is then its next-token log-probs."""
        import llama_cpp

        memory = self.ctx.memory
        free = list(range(self.max_sequences))
        plan = []  # (request index, sequence, donor sequence or None, tokens already in place)
        for i, r in enumerate(requests):
            limit = len(r.prompt) - 1  # at least the last prompt token is evaluated, for its logits
            held = {s: common_prefix([self.held[s], r.prompt]) for s in free}
            seq = max(free, key=held.get)
            free.remove(seq)
            own = min(held[seq], limit)
            donors = [(min(common_prefix([requests[j].prompt, r.prompt]), limit), s)
                      for j, s, donor, _ in plan if donor is None]
            shared, donor = max(donors, default=(0, None))
            plan.append((i, seq, donor, shared) if shared > own else (i, seq, None, own))
        last = {}  # sequence -> (phase, index of its prompt's last entry)
        for phase in (0, 1):  # donors first, so that their cells exist when they are shared
            entries = []  # (token, position, sequence, wants logits)
            for i, seq, donor, kept in plan:
                if (donor is not None) != bool(phase):
                    continue
                llama_cpp.llama_memory_seq_rm(memory, seq, -1 if donor is not None else kept, -1)
                if donor is not None:
                    llama_cpp.llama_memory_seq_cp(memory, donor, seq, 0, kept)
                prompt = requests[i].prompt
                entries += [(prompt[pos], pos, seq, pos == len(prompt) - 1) for pos in range(kept, len(prompt))]
                last[seq] = (phase, len(entries) - 1)
                self.held[seq] = list(prompt)
            rows = self._decode(entries)
            for seq, (p, index) in last.items():
                if p == phase:
                    self.rows[seq] = rows[index]
        return [seq for _, seq, _, _ in plan]

    def generate(self, requests: list[Request], piece: Callable[[int], str], is_end: Callable[[int], bool]) -> None:
        """Fills each request's tokens, log-probs and top log-probs (at most `max_sequences` requests)."""
        if not 0 < len(requests) <= self.max_sequences:
            raise ValueError(f"a wave holds 1 to {self.max_sequences} requests, not {len(requests)}")
        too_long = [len(r.prompt) for r in requests if len(r.prompt) >= self.n_ctx_per_sequence]
        if too_long:
            raise ValueError(f"a prompt of {too_long[0]} tokens does not fit a sequence's "
                             f"{self.n_ctx_per_sequence}-token context")
        for r in requests:
            r.max_tokens = min(r.max_tokens, self.n_ctx_per_sequence - len(r.prompt))
        seqs = self._start(requests)
        by_seq = dict(zip(seqs, requests))
        active = {seq: self.rows[seq] for seq, r in by_seq.items() if r.max_tokens > 0}
        while active:
            entries = []  # one new token per sequence still generating: [n_active] decode entries
            for seq, row in active.items():
                r = by_seq[seq]
                token = pick(row, r.temperature, r.rng)
                if is_end(token):
                    continue
                r.tokens.append(token)
                r.logprobs.append(float(row[token]))
                r.top.append(top_logprobs(row, self.top_k, piece))
                if len(r.tokens) < r.max_tokens:
                    entries.append((token, len(r.prompt) + len(r.tokens) - 1, seq, True))
            if not entries:
                break
            out = self._decode(entries)
            active = {seq: out[i] for i, (_, _, seq, _) in enumerate(entries)}
            for token, _, seq, _ in entries:
                self.held[seq].append(token)
