"""The language-model ladder's throughput, ours against what a user would otherwise run, in one process:

1. llama.cpp in process (superalign's `LlamaCppChat`, the path every protocol uses: chat template, greedy,
   each generated token's top-10 log-probs) against llama.cpp's OpenAI-compatible server (`python -m
   llama_cpp.server`, from the same llama-cpp-python build) on the same GGUF and messages, without log-probs
   (what a user would otherwise run): prompt tokens/s (a one-token reply to a ~300-token prompt) and generated
   tokens/s (64 tokens). Also the server asked for top-10 log-probs, and llama-cpp-python's own chat completion
   in process with them (what superalign called before it had its own decoding loop).
2. Items/min of a log-prob judgement (is an arithmetic claim true? from the next-token log-probs).
3. Hidden-state featurizing of 256 arithmetic claims as the ladder reads them (chat template, last layer, last
   token): superalign's encoder (the template's head computed once and shared, bf16 where the CPU runs it
   fast, length-bucketed batches) against a plain transformers forward pass over the templated prompts (fp32,
   batches in the given order), with the cosine agreement of the features.

Usage: python benchmarks/llm.py [--model qwen-0.5b]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np

from superalign.chat.llama import LlamaCppChat
from superalign.data.computed import arithmetic_claims
from superalign.models.packaged import qwen_gguf
from record import row

PROMPT = " ".join(f"Claim {i}: the sum of {i} and {2 * i} is {3 * i}." for i in range(1, 30)) + " Summarise the claims."


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fresh_prompt() -> str:
    # A new first token every call: llama.cpp reuses a cached prompt prefix, which would time nothing.
    return f"Run {time.perf_counter_ns()}. {PROMPT}"


def _messages() -> list[dict]:
    return [{"role": "user", "content": _fresh_prompt()}]


def timed_in_process(chat: LlamaCppChat, max_tokens: int) -> tuple[float, int, int]:
    start = time.perf_counter()
    out = chat._generate_sync(_messages(), max_tokens, 0.0)
    return time.perf_counter() - start, out.prompt_tokens, max(out.completion_tokens, 1)


def timed_library_completion(chat: LlamaCppChat, max_tokens: int) -> tuple[float, int, int]:
    start = time.perf_counter()
    out = chat.llama.create_chat_completion(messages=_messages(), max_tokens=max_tokens, temperature=0.0,
                                            logprobs=True, top_logprobs=10)
    return time.perf_counter() - start, out["usage"]["prompt_tokens"], out["usage"]["completion_tokens"]


def timed_server(url: str, max_tokens: int, logprobs: bool = False) -> tuple[float, int, int]:
    body = {"messages": _messages(), "max_tokens": max_tokens, "temperature": 0.0}
    if logprobs:
        body.update(logprobs=True, top_logprobs=10)
    request = urllib.request.Request(url + "/v1/chat/completions", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        out = json.loads(response.read())
    return time.perf_counter() - start, out["usage"]["prompt_tokens"], out["usage"]["completion_tokens"]


def rates(run) -> tuple[float, float]:
    """(prompt tokens/s, generated tokens/s) of one repeat; each re-processes a fresh prompt."""
    t1, n_prompt, _ = run(1)
    t64, _, n_gen = run(64)
    return n_prompt / t1, (n_gen - 1) / max(t64 - t1, 1e-9)


def interleaved(ours, theirs, repeats: int = 5) -> tuple[tuple[float, float], tuple[float, float]]:
    """Medians over repeats that alternate the two (so a slow spell of the machine hits both alike)."""
    a, b = [], []
    for _ in range(repeats):
        a.append(rates(ours))
        b.append(rates(theirs))
    return tuple(np.median(a, 0)), tuple(np.median(b, 0))


def start_server(path: str, threads: int):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", path, "--host", "127.0.0.1",
                             "--port", str(port), "--n_threads", str(threads), "--n_ctx", "2048"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(url + "/v1/models", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the llama.cpp server did not start")


def judge_items_per_minute(chat: LlamaCppChat, n: int = 20) -> tuple[float, float]:
    """The log-prob judge's path (`next_token_logprobs`: one forward pass, no generation)."""
    texts, labels = arithmetic_claims(n, seed=1)
    start = time.perf_counter()
    right = 0
    for text, label in zip(texts, labels):
        scores = chat.next_token_logprobs([{"role": "user", "content": text + " Answer True or False."}], "",
                                          ["True", " True", "False", " False"])
        p_true = np.logaddexp(scores["True"], scores[" True"])
        p_false = np.logaddexp(scores["False"], scores[" False"])
        right += int((p_true > p_false) == bool(label))
    return n / ((time.perf_counter() - start) / 60), right / n


def featurize_comparison(model: str, n: int = 256) -> tuple[float, float, float]:
    """The ladder's encoder (chat template, last layer, last token; the template's head computed once) against
    a plain transformers forward pass over the same templated prompts."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from superalign.models.encoder import get_encoder

    texts = arithmetic_claims(n, seed=2)[0]
    encoder = get_encoder(f"{model}?template=chat&layer=-1")
    encoder.encode(texts[:8])  # load and warm up
    start = time.perf_counter()
    ours = encoder.encode(texts)
    ours_rate = n / (time.perf_counter() - start)
    tokenizer = AutoTokenizer.from_pretrained(encoder.path)
    plain = AutoModel.from_pretrained(encoder.path, dtype=torch.float32).eval()
    layer = encoder.resolved_layer
    start = time.perf_counter()
    prompts = [tokenizer.apply_chat_template([{"role": "user", "content": t}], tokenize=False,
                                             add_generation_prompt=True) for t in texts]
    tokenizer.padding_side = "right"
    rows = []
    for i in range(0, n, 8):
        batch = tokenizer(prompts[i:i + 8], padding=True, return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            hidden = plain(**batch, output_hidden_states=True).hidden_states[layer]
        last = batch["attention_mask"].sum(1) - 1  # right padding
        rows.append(hidden[torch.arange(hidden.shape[0]), last].numpy())
    plain_rate = n / (time.perf_counter() - start)
    theirs = np.concatenate(rows)
    cosine = (ours * theirs).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    return ours_rate, plain_rate, float(cosine.min())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen-0.5b")
    args = parser.parse_args()
    threads = os.cpu_count() or 1
    path = str(qwen_gguf(args.model))
    chat = LlamaCppChat(args.model, lambda: path)
    chat.llama  # load before timing
    proc, url = start_server(path, threads)
    try:
        ours, server = interleaved(lambda k: timed_in_process(chat, k), lambda k: timed_server(url, k))
        library, server_lp = interleaved(lambda k: timed_library_completion(chat, k),
                                         lambda k: timed_server(url, k, logprobs=True), repeats=2)
    finally:
        proc.kill()
    print(f"{args.model} on {threads} threads; superalign with top-10 log-probs, the server without")
    print(f"prompt tokens/s     in process {ours[0]:7.1f}   llama.cpp server {server[0]:7.1f}   ratio {ours[0] / server[0]:.2f}")
    print(f"generated tokens/s  in process {ours[1]:7.1f}   llama.cpp server {server[1]:7.1f}   ratio {ours[1] / server[1]:.2f}")
    print(f"with top-10 log-probs: llama-cpp-python's chat completion in process {library[1]:.1f} generated tokens/s, "
          f"the server {server_lp[1]:.1f}; superalign's loop {ours[1] / library[1]:.1f}x the former")
    row(f"llama.cpp in process vs its server, {args.model}, prompt evaluation", f"{ours[0]:.1f} tokens/s",
        f"llama.cpp server {server[0]:.1f} tokens/s", f"{ours[0] / server[0]:.2f}x", "interleaved; ours with top-10 log-probs")
    row(f"llama.cpp in process vs its server, {args.model}, generation", f"{ours[1]:.1f} tokens/s",
        f"llama.cpp server {server[1]:.1f} tokens/s", f"{ours[1] / server[1]:.2f}x", "interleaved")
    row(f"generation with top-10 log-probs, {args.model}: superalign's decoding loop", f"{ours[1]:.1f} tokens/s",
        f"llama-cpp-python chat completion {library[1]:.1f} tokens/s", f"{ours[1] / library[1]:.1f}x")
    rate, accuracy = judge_items_per_minute(chat)
    print(f"log-prob judgement (arithmetic claim true?): {rate:.0f} items/min, accuracy {accuracy:.2f} on 20 items")
    del chat
    ours_rate, plain_rate, cosine = featurize_comparison(args.model)
    print(f"featurize 256 claims (chat template, last layer): superalign {ours_rate:.1f} texts/s, plain transformers "
          f"{plain_rate:.1f} texts/s, ratio {ours_rate / plain_rate:.2f}, min cosine {cosine:.4f}")
    row(f"featurize 256 arithmetic claims, {args.model}, chat template, last layer", f"{ours_rate:.1f} texts/s",
        f"plain transformers forward pass {plain_rate:.1f} texts/s", f"{ours_rate / plain_rate:.2f}x",
        f"min cosine {cosine:.4f}")


if __name__ == "__main__":
    main()
