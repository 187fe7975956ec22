"""Chat backends: one async interface (messages in, text out, log-probabilities where available).

`ChatClient` wraps any backend with what every protocol run needs:
  - a request cache keyed by a hash of (model identity, messages, parameters): re-runs are free and repeatable
  - a concurrency limit, a timeout per request, retries with exponential backoff
  - token accounting
Backends: llama.cpp in process (`qwen-0.5b`, `qwen-1.5b`, `llama:PATH.gguf`; see chat/llama.py), local
transformers causal LMs (`smollm2`, `hf:PATH_OR_ID`), any OpenAI-compatible HTTP endpoint
(`openai:MODEL?base_url=...&key_env=...`: vLLM, llama.cpp server, Ollama, hosted APIs; the key is read
from the named environment variable and never written anywhere), and `mock`, a deterministic scripted
model for testing protocol plumbing only.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
from abc import ABC, abstractmethod
from contextlib import closing
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qs

from superalign.errors import SuperalignError
from superalign.io import stable_hash
from superalign.paths import home
from superalign.registry import Registry

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": ...}


@dataclass
class ChatResponse:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    logprobs: list[float] | None = None  # of each generated token
    top_logprobs: list[dict[str, float]] | None = None  # per generated token: the most likely tokens' log-probs
    served_model: str | None = None  # what an HTTP server says it ran (which weights answered)
    cached: bool = False


class ChatBackend(ABC):
    name: str

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """What determines the outputs (model, weights); never secrets."""

    @abstractmethod
    async def generate(self, messages: list[Message], max_tokens: int, temperature: float,
                       seed: int | None = None) -> ChatResponse:
        """`seed` (given for the sample index of a repeated sampled request) makes sampling repeatable."""

    def next_token_logprobs(self, messages: list[Message], prefix: str, tokens: list[str]) -> dict[str, float]:
        """log P(token | the chat-templated messages and `prefix` as the start of the reply), for each candidate
        token (each must be one token of the model's vocabulary). Local models only: one forward pass."""
        raise SuperalignError(f"chat model {self.name}: next-token log-probs need a local model (qwen-0.5b, "
                              "qwen-1.5b, smollm2, hf:PATH, llama:PATH); use the generated verdict instead")

    def answer_logprobs(self, messages: list[Message], prefix: str, answers: list[str]) -> dict[str, float]:
        """log P(answer | the chat-templated messages and `prefix` as the start of the reply), summed over the
        answer's tokens, for each answer (cloze scoring of whole answers). Local models only."""
        raise SuperalignError(f"chat model {self.name}: answer log-probs need a local model (qwen-0.5b, "
                              "qwen-1.5b, smollm2, hf:PATH, llama:PATH); use the generated verdict instead")


class MockChat(ChatBackend):
    """Deterministic scripted model: `script(messages) -> text`. For protocol plumbing tests only."""

    def __init__(self, script: Callable[[list[Message]], str] | None = None, name: str = "mock"):
        self.name = name
        self.script = script or (lambda messages: "I argue for answer A.\nAnswer: A\nConfidence: 0.6")

    def identity(self) -> dict[str, Any]:
        return {"kind": "mock", "name": self.name}

    async def generate(self, messages, max_tokens, temperature, seed=None) -> ChatResponse:
        text = self.script(messages)
        return ChatResponse(text, sum(len(m["content"].split()) for m in messages), len(text.split()))

    def next_token_logprobs(self, messages, prefix, tokens) -> dict[str, float]:
        """The scripted reply's first word gets log-prob 0, every other candidate -20 (plumbing tests only)."""
        words = self.script(messages).replace("Answer:", " ").split()
        first = words[0] if words else ""
        return {t: (0.0 if t.strip() == first else -20.0) for t in tokens}

    def answer_logprobs(self, messages, prefix, answers) -> dict[str, float]:
        """The answer the scripted reply starts with gets log-prob 0, every other -20 (plumbing tests only)."""
        reply = self.script(messages).strip()
        return {a: (0.0 if reply.lower().startswith(a.strip().lower()) else -20.0) for a in answers}


class TransformersChat(ChatBackend):
    """A local causal LM through transformers (greedy when temperature is 0), on CPU or CUDA."""

    def __init__(self, name: str, locate: Callable[[], Path | str]):
        self.name = name
        self._locate = locate
        self._lock = threading.Lock()  # one generation at a time per model

    @cached_property
    def path(self) -> str:
        return str(self._locate())

    @cached_property
    def _loaded(self):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from superalign.models.batching import device, torch_threads

        torch_threads()
        tokenizer = AutoTokenizer.from_pretrained(self.path)
        model = AutoModelForCausalLM.from_pretrained(self.path).to(device()).eval()
        return tokenizer, model

    def identity(self) -> dict[str, Any]:
        from superalign.models.packaged import weights_fingerprint

        local = Path(self.path)
        return {"kind": "transformers", "name": self.name, "weights": weights_fingerprint(local) if local.exists() else self.path}

    def _generate_sync(self, messages, max_tokens, temperature, seed=None) -> ChatResponse:
        import torch

        tokenizer, model = self._loaded
        with self._lock:
            if seed is not None:
                torch.manual_seed(seed)
            prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                   return_dict=True).to(model.device)
            n_prompt = int(prompt["input_ids"].shape[1])
            with torch.inference_mode():
                out = model.generate(**prompt, max_new_tokens=max_tokens, do_sample=temperature > 0,
                                     temperature=temperature if temperature > 0 else None, top_p=None, top_k=None,
                                     output_scores=True, return_dict_in_generate=True,
                                     pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
            new = out.sequences[0, n_prompt:]
            logprobs = [float(torch.log_softmax(s[0].float(), -1)[t]) for s, t in zip(out.scores, new)]
            text = tokenizer.decode(new, skip_special_tokens=True)
        return ChatResponse(text.strip(), n_prompt, int(len(new)), logprobs)

    async def generate(self, messages, max_tokens, temperature, seed=None) -> ChatResponse:
        return await asyncio.to_thread(self._generate_sync, messages, max_tokens, temperature, seed)

    def next_token_logprobs(self, messages, prefix, tokens) -> dict[str, float]:
        import torch

        tokenizer, model = self._loaded
        ids = [single_token(tokenizer.encode(t, add_special_tokens=False), t, self.name) for t in tokens]
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False) + prefix
        with self._lock, torch.inference_mode():
            batch = tokenizer(text, return_tensors="pt", add_special_tokens=False).to(model.device)
            logprobs = torch.log_softmax(model(**batch).logits[0, -1].float(), -1)
        return {t: float(logprobs[i]) for t, i in zip(tokens, ids)}

    def answer_logprobs(self, messages, prefix, answers) -> dict[str, float]:
        import torch

        tokenizer, model = self._loaded
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False) + prefix
        context = tokenizer(text, add_special_tokens=False).input_ids
        out = {}
        with self._lock, torch.inference_mode():
            for answer in answers:
                full = tokenizer(text + answer, add_special_tokens=False).input_ids
                start = next((i for i, (a, b) in enumerate(zip(context, full)) if a != b), len(context))
                logprobs = torch.log_softmax(model(input_ids=torch.tensor([full], device=model.device)).logits[0].float(), -1)
                out[answer] = float(sum(logprobs[t - 1, full[t]] for t in range(start, len(full))))
        return out


def single_token(ids: list[int], token: str, model: str) -> int:
    if len(ids) != 1:
        raise SuperalignError(f"chat model {model}: {token!r} is {len(ids)} tokens, not one; score single tokens")
    return ids[0]


class OpenAIChat(ChatBackend):
    """Any OpenAI-compatible chat-completions endpoint, through the official `openai` SDK.

    One retry policy, the SDK's: it retries what is worth retrying (connection errors, timeouts, 408/409/429,
    5xx) with backoff, `max_retries` times, and never other 4xx answers (a bad request or a wrong key stays
    wrong): those become one error line. `deadline_s` bounds the whole request, retries included; the client
    adds no retries of its own (`retries_itself`). The served model's name is kept with each response.
    Per-token log-probs of a generation are asked for only with `logprobs` (`&logprobs=1`): no protocol reads
    them, and llama.cpp's server takes about 7x as long over a debater's argument when asked (measured:
    11.8 s against 1.7 s for the same 41 tokens).
    """

    retries_itself = True

    def __init__(self, model: str, base_url: str, key_env: str | None = None, max_retries: int | None = None,
                 deadline_s: float | None = None, logprobs: bool = False):
        from superalign.settings import settings

        self.name = f"openai:{model}"
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.key_env = key_env
        self.max_retries = settings().http_retries if max_retries is None else max_retries
        self.deadline_s = settings().http_deadline if deadline_s is None else deadline_s
        self.logprobs = logprobs

    def identity(self) -> dict[str, Any]:
        identity = {"kind": "openai", "model": self.model, "base_url": self.base_url}  # the key is not identity
        return identity | ({"logprobs": True} if self.logprobs else {})  # a cached reply without them won't do

    def _client(self):
        import openai

        key = "not-needed"  # local servers (vLLM, llama.cpp, Ollama) often ask for none
        if self.key_env:
            key = os.environ.get(self.key_env)
            if not key:
                raise SuperalignError(f"chat model {self.name}: environment variable {self.key_env} is not set")
        base = self.base_url if self.base_url.endswith("/v1") else f"{self.base_url}/v1"
        # Each attempt may use the whole deadline; the deadline itself is enforced around all of them.
        return openai.AsyncOpenAI(base_url=base, api_key=key, max_retries=self.max_retries, timeout=self.deadline_s)

    async def generate(self, messages, max_tokens, temperature, seed=None) -> ChatResponse:
        import openai

        client = self._client()
        extra = {} if seed is None else {"seed": seed}
        if self.logprobs:
            extra |= {"logprobs": True, "top_logprobs": 1}
        attempts = f"{self.max_retries + 1} attempt(s), SUPERALIGN_HTTP_RETRIES"
        try:
            data = await asyncio.wait_for(client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=max_tokens, temperature=temperature, **extra),
                timeout=self.deadline_s)
        except asyncio.TimeoutError:
            raise SuperalignError(f"chat model {self.name}: no answer from {self.base_url} within {self.deadline_s:g} s "
                                  f"(SUPERALIGN_HTTP_DEADLINE; {attempts}); check that the server is up, or raise "
                                  "the deadline") from None
        except openai.APIStatusError as exc:  # an answer from the server that retrying will not change
            raise SuperalignError(f"chat model {self.name}: the server answered {exc.status_code} "
                                  f"({type(exc).__name__}); check the model name, the key and the request") from exc
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:  # the SDK has already retried
            raise SuperalignError(f"chat model {self.name}: cannot reach {self.base_url} ({attempts}): {exc}; "
                                  "check that the server is up and the URL") from exc
        finally:
            await client.close()
        choice = data.choices[0]
        content = (choice.logprobs.content if choice.logprobs is not None else None) or []
        usage = data.usage
        return ChatResponse((choice.message.content or "").strip(), usage.prompt_tokens if usage else 0,
                            usage.completion_tokens if usage else 0, [c.logprob for c in content] or None,
                            served_model=data.model)


class RequestCache:
    """SQLite cache of chat responses keyed by request hash (WAL: safe across processes)."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else home() / "chat-cache.sqlite"
        with closing(self._connect()) as conn, conn:
            conn.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT NOT NULL)")
            conn.execute("CREATE TABLE IF NOT EXISTS scores (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def _connect(self):
        conn = sqlite3.connect(self.path, timeout=60)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def get(self, key: str) -> ChatResponse | None:
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return None if row is None else ChatResponse(**{**json.loads(row[0]), "cached": True})

    def put(self, key: str, response: ChatResponse) -> None:
        data = {k: v for k, v in response.__dict__.items() if k != "cached"}
        with closing(self._connect()) as conn, conn:
            conn.execute("INSERT OR REPLACE INTO responses VALUES (?, ?)", (key, json.dumps(data)))

    # Scores that are not generations (a judge's log-odds from one forward pass), in a table of their own.
    def get_value(self, key: str) -> Any:
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT value FROM scores WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put_value(self, key: str, value: Any) -> None:
        with closing(self._connect()) as conn, conn:
            conn.execute("INSERT OR REPLACE INTO scores VALUES (?, ?)", (key, json.dumps(value)))


@dataclass
class Usage:
    requests: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failures: int = 0


@dataclass
class ChatClient:
    backend: ChatBackend
    cache: RequestCache | None = None
    concurrency: int = 4
    timeout_s: float = 300.0
    retries: int = 3
    backoff_s: float = 1.0
    usage: Usage = field(default_factory=Usage)

    def __post_init__(self) -> None:
        self._semaphore: asyncio.Semaphore | None = None
        self._running: dict[str, asyncio.Future] = {}  # requests being computed, by cache key
        self._loop = None

    def _limit(self) -> asyncio.Semaphore:
        # A semaphore (and a future) belongs to one event loop; a client may serve several asyncio.run calls.
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._semaphore, self._running, self._loop = asyncio.Semaphore(self.concurrency), {}, loop
        return self._semaphore

    async def _once(self, key: str, compute: Callable[[], Awaitable[Any]]) -> Any:
        """`compute()`, unless the same request is being computed already: then that one's result. A debate judged
        in both speaker orders sends each first-round argument twice at once, and the cache alone would not catch
        the second before the first is done."""
        self._limit()
        if key in self._running:
            self.usage.cached += 1
            return await asyncio.shield(self._running[key])
        future = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            result = await compute()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so a request nobody else waited for logs nothing
            raise
        else:
            future.set_result(result)
            return result
        finally:
            self._running.pop(key, None)

    @property
    def name(self) -> str:
        return self.backend.name

    async def chat(self, messages: list[Message], max_tokens: int = 128, temperature: float = 0.0,
                   sample: int = 0) -> ChatResponse:
        """`sample` > 0 asks for another draw of the same request (best-of-N): it is part of the cache key and
        the backend's sampling seed, so each draw is cached apart and repeats exactly."""
        request = {"model": self.backend.identity(), "messages": messages, "max_tokens": max_tokens,
                   "temperature": temperature}
        if sample:  # only then: keys of single requests stay as they were
            request["sample"] = sample
        if temperature > 0 and getattr(self.backend, "sampler", None):  # draws from another sampler are other draws
            request["sampler"] = self.backend.sampler
        key = stable_hash(request, length=32)
        seeded = {"seed": sample} if sample else {}
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            self.usage.requests += 1
            self.usage.cached += 1
            return hit
        self.usage.requests += 1
        return await self._once(key, lambda: self._generate(key, messages, max_tokens, temperature, seeded))

    async def _generate(self, key: str, messages: list[Message], max_tokens: int, temperature: float,
                        seeded: dict) -> ChatResponse:
        error: Exception | None = None
        retries = 0 if getattr(self.backend, "retries_itself", False) else self.retries  # one policy, not two
        for attempt in range(retries + 1):
            try:
                async with self._limit():
                    response = await asyncio.wait_for(self.backend.generate(messages, max_tokens, temperature, **seeded),
                                                      timeout=max(self.timeout_s, getattr(self.backend, "deadline_s", 0) + 5))
                break
            except (asyncio.TimeoutError, ConnectionError, OSError) as exc:
                error = exc
                self.usage.failures += 1
                await asyncio.sleep(self.backoff_s * 2 ** attempt)
        else:
            raise SuperalignError(f"chat model {self.name}: {retries + 1} attempts failed ({error}); "
                                  "check that the server is up, or raise the timeout")
        self.usage.prompt_tokens += response.prompt_tokens
        self.usage.completion_tokens += response.completion_tokens
        if self.cache is not None:
            self.cache.put(key, response)
        return response


    async def next_token_logprobs(self, messages: list[Message], prefix: str, tokens: list[str]) -> dict[str, float]:
        """The backend's next-token log-probs of `tokens` after `prefix` (a log-prob judge: one forward pass,
        no generation), cached like a chat request."""
        return await self._scores("next-token-logprobs", self.backend.next_token_logprobs, messages, prefix, tokens)

    async def answer_logprobs(self, messages: list[Message], prefix: str, answers: list[str]) -> dict[str, float]:
        """The backend's log-probs of each whole answer after `prefix` (a cloze judge), cached."""
        return await self._scores("answer-logprobs", self.backend.answer_logprobs, messages, prefix, answers)

    async def _scores(self, kind: str, score, messages: list[Message], prefix: str, tokens: list[str]) -> dict[str, float]:
        request = {"model": self.backend.identity(), "messages": messages, "prefix": prefix, "tokens": list(tokens),
                   "kind": kind}
        key = stable_hash(request, length=32)
        self.usage.requests += 1
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            self.usage.cached += 1
            return dict(hit.top_logprobs[0])

        async def compute() -> dict[str, float]:
            async with self._limit():
                scores = await asyncio.to_thread(score, messages, prefix, list(tokens))
            if self.cache is not None:
                self.cache.put(key, ChatResponse("", top_logprobs=[scores]))
            return scores

        return dict(await self._once(key, compute))


# Built-ins: the modules of superalign.chat (llama.cpp models register in chat/llama.py); plugins: entry points.
CHAT_MODELS: Registry[Callable[[], ChatBackend]] = Registry("chat model", builtins="superalign.chat",
                                                            entry_points="superalign.chat_models")


def _smollm2() -> ChatBackend:
    from superalign.models import packaged

    return TransformersChat("smollm2", lambda: packaged.dequantized_gguf_dir(
        "smollm2-135m", packaged.smollm2_gguf(), packaged.SMOLLM2_GGUF_SHA256))


def _openai(spec: str) -> ChatBackend:
    model, _, query = spec.partition("?")
    options = {k: v[-1] for k, v in parse_qs(query).items()}
    from superalign.settings import settings

    base_url = options.get("base_url") or settings().openai_base_url
    if not base_url:
        raise SuperalignError(f"chat model openai:{spec}: give ?base_url=http://host:port or set SUPERALIGN_OPENAI_BASE_URL")
    logprobs = options.get("logprobs", "0") not in ("0", "")
    return OpenAIChat(model, base_url, options.get("key_env"), logprobs=logprobs)


CHAT_MODELS.add("smollm2", _smollm2, help="SmolLM2-135M-Instruct (packaged GGUF, dequantized), local")
CHAT_MODELS.add("mock", MockChat, help="deterministic scripted model, for protocol plumbing tests only")
CHAT_MODELS.register_prefix("hf", lambda path: (lambda: TransformersChat(f"hf:{path}", lambda: path)))
CHAT_MODELS.register_prefix("openai", lambda spec: (lambda: _openai(spec)))


def get_chat_model(name: str, cache: bool = True, **client_options) -> ChatClient:
    return ChatClient(CHAT_MODELS.get(name)(), cache=RequestCache() if cache else None, **client_options)
