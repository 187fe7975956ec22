"""llama.cpp in process (llama-cpp-python): chat generation with next-token log-probabilities, and the
log-likelihood of a given continuation (cloze scoring), on any GGUF file; no server needed.

Registered chat models: `qwen-0.5b`, `qwen-1.5b` (the packaged Qwen2.5-Coder instruction models) and
`llama:PATH.gguf` for any local GGUF. Needs the LLM extra (`make llm`, or `pip install 'superalign[llm]'`).
"""

from __future__ import annotations

import asyncio
import threading
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import numpy as np

from superalign.chat.client import CHAT_MODELS, ChatBackend, ChatResponse, Message
from superalign.errors import MissingDependencyError


class LlamaCppChat(ChatBackend):
    """A GGUF model run by llama.cpp in this process (greedy when temperature is 0)."""

    def __init__(self, name: str, locate: Callable[[], Path], n_ctx: int = 2048, top_logprobs: int = 10,
                 seed: int = 0):
        self.name = name
        self._locate = locate
        self.n_ctx = n_ctx
        self.top_logprobs = top_logprobs
        self.seed = seed
        self._lock = threading.Lock()  # one llama.cpp context: one request at a time

    @cached_property
    def path(self) -> Path:
        return Path(self._locate())

    @cached_property
    def llama(self):
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise MissingDependencyError(f"chat model {self.name!r} needs llama-cpp-python: make llm "
                                         "(or pip install 'superalign[llm]')") from exc
        from superalign.settings import settings

        # logits_all: the log-probabilities of every position (prompt tokens too, for cloze scoring)
        return Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_threads=settings().threads, logits_all=True,
                     seed=self.seed, verbose=False)

    def identity(self) -> dict[str, Any]:
        from superalign.models.packaged import weights_fingerprint

        return {"kind": "llama.cpp", "name": self.name, "weights": weights_fingerprint(self.path), "n_ctx": self.n_ctx,
                "seed": self.seed}

    def _generate_sync(self, messages: list[Message], max_tokens: int, temperature: float,
                       seed: int | None = None) -> ChatResponse:
        with self._lock:
            out = self.llama.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=temperature,
                                                    seed=self.seed if seed is None else self.seed + seed,
                                                    logprobs=True, top_logprobs=self.top_logprobs)
        choice = out["choices"][0]
        content = (choice.get("logprobs") or {}).get("content") or []
        return ChatResponse(choice["message"]["content"].strip(), out["usage"]["prompt_tokens"],
                            out["usage"]["completion_tokens"], [float(t["logprob"]) for t in content],
                            top_logprobs=[{c["token"]: float(c["logprob"]) for c in t["top_logprobs"]} for t in content])

    async def generate(self, messages, max_tokens, temperature, seed=None) -> ChatResponse:
        return await asyncio.to_thread(self._generate_sync, messages, max_tokens, temperature, seed)

    def _eval_reusing(self, tokens: list[int]) -> None:
        """Evaluate `tokens`, reusing the KV cache of the longest prefix they share with what was evaluated last
        (a judge reads both answer orders and both answers after the same system prompt and question)."""
        llama = self.llama
        shared = 0
        for a, b in zip(llama.input_ids[:llama.n_tokens], tokens):
            if a != b:
                break
            shared += 1
        llama.n_tokens = min(shared, len(tokens) - 1)  # at least the last token again, for its logits
        llama.eval(tokens[llama.n_tokens:])

    def _logprob_rows(self, start: int, stop: int) -> np.ndarray:
        logits = np.asarray(self.llama.scores[start:stop], dtype=np.float64)
        logits -= logits.max(1, keepdims=True)
        return logits - np.log(np.exp(logits).sum(1, keepdims=True))

    def loglikelihood(self, prompt: str, continuation: str) -> float:
        """log P(continuation | prompt) under the model, summed over the continuation's tokens."""
        return self.loglikelihoods(prompt, [continuation])[0]

    def loglikelihoods(self, prompt: str, continuations: list[str]) -> list[float]:
        """log P(c | prompt) for each continuation, the prompt evaluated once."""
        llama = self.llama
        out = []
        with self._lock:
            context = llama.tokenize(prompt.encode(), add_bos=True, special=True)
            for continuation in continuations:
                full = llama.tokenize((prompt + continuation).encode(), add_bos=True, special=True)
                start = len(context)
                if full[:start] != context:  # the boundary merged into one token: score from the merge point
                    start = next((i for i, (a, b) in enumerate(zip(context, full)) if a != b), len(context))
                self._eval_reusing(full)
                # the token at position t is predicted by the logits at position t - 1
                rows = self._logprob_rows(start - 1, len(full) - 1)
                out.append(float(sum(rows[k, full[start + k]] for k in range(len(full) - start))))
        return out

    def answer_logprobs(self, messages, prefix, answers) -> dict[str, float]:
        prompt = self._formatter(messages=messages).prompt + prefix
        return dict(zip(answers, self.loglikelihoods(prompt, list(answers))))


    @cached_property
    def _formatter(self):
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llama = self.llama
        template = llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise MissingDependencyError(f"chat model {self.name!r}: the GGUF file has no chat template")
        token = lambda i: llama.detokenize([i], special=True).decode(errors="ignore") if i >= 0 else ""  # noqa: E731
        return Jinja2ChatFormatter(template=template, eos_token=token(llama.token_eos()),
                                   bos_token=token(llama.token_bos()), add_generation_prompt=True)

    def next_token_logprobs(self, messages, prefix, tokens) -> dict[str, float]:
        from superalign.chat.client import single_token

        llama = self.llama
        prompt = self._formatter(messages=messages).prompt + prefix
        with self._lock:
            ids = [single_token(llama.tokenize(t.encode(), add_bos=False, special=False), t, self.name) for t in tokens]
            context = llama.tokenize(prompt.encode(), add_bos=True, special=True)
            self._eval_reusing(context)
            logprobs = self._logprob_rows(len(context) - 1, len(context))[0]
        return {t: float(logprobs[i]) for t, i in zip(tokens, ids)}


def _qwen(name: str) -> Callable[[], ChatBackend]:
    def factory() -> ChatBackend:
        from superalign.models.packaged import qwen_gguf

        return LlamaCppChat(name, lambda: qwen_gguf(name))

    return factory


CHAT_MODELS.add("qwen-0.5b", _qwen("qwen-0.5b"), help="Qwen2.5-Coder-0.5B-Instruct (packaged GGUF), llama.cpp in process")
CHAT_MODELS.add("qwen-1.5b", _qwen("qwen-1.5b"), help="Qwen2.5-Coder-1.5B-Instruct (packaged GGUF), llama.cpp in process")
CHAT_MODELS.register_prefix("llama", lambda path: (lambda: LlamaCppChat(f"llama:{path}", lambda: Path(path))))
