"""Transformer text encoders in torch: sentence-transformers models and hidden states of any HF model.

Speed on CPU: texts are batched by length (little padding) and the transformer runs in bfloat16
where the CPU has AVX512-BF16/AMX; pooling and normalisation stay in float32. On this machine that
is about 2.8x the throughput of `SentenceTransformer.encode` with a cosine difference below 1e-4
(see benchmarks/featurize.py). Precision is part of the cache key.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

import numpy as np

from superalign.errors import MissingDependencyError, SuperalignError
from superalign.models import packaged
from superalign.models.batching import device, encode_in_batches, resolve_precision, torch_threads
from superalign.models.encoder import ENCODERS, HIDDEN_STATE_OPTIONS, Encoder, parse_options


class SentenceTransformerEncoder(Encoder):
    """Sentence embeddings exactly as the model's sentence-transformers pipeline defines them."""

    modalities = ("text",)

    def __init__(self, name: str, locate: Callable[[], Path | str], batch_size: int = 32, precision: str | None = None):
        self.name = name
        self._locate = locate
        self.batch_size = batch_size
        self.precision = resolve_precision(precision)

    @cached_property
    def path(self) -> str:
        return str(self._locate())

    @cached_property
    def model(self):
        import torch
        from sentence_transformers import SentenceTransformer

        torch_threads()
        try:
            model = SentenceTransformer(self.path, device=device())
        except OSError as exc:
            raise MissingDependencyError(f"encoder {self.name!r}: cannot load {self.path!r} ({exc}); "
                                         "give a local folder, or a hub id with internet access") from exc
        model.eval()
        if self.precision == "bf16":
            model[0].to(torch.bfloat16)  # only the transformer; pooling and normalisation stay float32
        return model

    def identity(self) -> dict[str, Any]:
        local = Path(self.path)
        weights = packaged.weights_fingerprint(local) if local.exists() else self.path
        return {"kind": "sentence-transformers", "name": self.name, "weights": weights,
                "precision": self.precision, "max_length": self.max_length}

    @property
    def max_length(self) -> int | None:
        # Read from the model folder's config, so that a cache hit never loads the weights.
        config = Path(self.path) / "sentence_bert_config.json"
        if config.exists():
            return json.loads(config.read_text()).get("max_seq_length")
        return None

    def n_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def encode(self, inputs, progress=lambda n: None) -> np.ndarray:
        import torch

        model = self.model
        first, rest = model[0], list(model)[1:]

        def run_batch(texts: list[str]) -> np.ndarray:
            features = model.preprocess(texts) if hasattr(model, "preprocess") else model.tokenize(texts)
            features = {k: (v.to(model.device) if hasattr(v, "to") else v) for k, v in features.items()}
            with torch.inference_mode():
                features = first(features)
                features["token_embeddings"] = features["token_embeddings"].float()  # [b, seq, d]
                for module in rest:
                    features = module(features)
            return features["sentence_embedding"].float().cpu().numpy()  # [b, d]

        return encode_in_batches(list(inputs), self.batch_size, run_batch, progress)


class HiddenStateEncoder(Encoder):
    """Pooled hidden states of one layer of a Hugging Face model (encoder or decoder).

    `layer` counts like `output_hidden_states` (0 = embeddings, -1 = last); `pooling` is `mean` over
    real tokens or `last` (the last real token, the usual choice for decoders). `template="chat"` wraps each
    text as a user message in the model's chat template, ending where the assistant's answer would begin,
    so last-token pooling reads the state from which an instruction model would answer.
    """

    modalities = ("text",)

    def __init__(self, name: str, locate: Callable[[], Path | str], layer: int | None = None, pooling: str = "mean",
                 max_length: int = 256, batch_size: int = 16, precision: str | None = None,
                 trust_remote_code: bool = False, template: str = "none"):
        if template not in ("none", "chat"):
            raise SuperalignError(f"encoder {name!r}: template must be 'none' or 'chat', not {template!r}")
        if pooling not in ("mean", "last"):
            raise SuperalignError(f"encoder {name!r}: pooling must be 'mean' or 'last', not {pooling!r}")
        self.name = name
        self._locate = locate
        self.layer = layer
        self.pooling = pooling
        self.max_length = max_length
        self.batch_size = batch_size
        self.precision = resolve_precision(precision)
        self.trust_remote_code = trust_remote_code  # off by default: never run a repository's code unasked
        self.template = template
        self.share_prefix = True  # the same features either way (tested); off only to check that

    @cached_property
    def path(self) -> str:
        return str(self._locate())

    @cached_property
    def _loaded(self):
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch_threads()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.path, trust_remote_code=self.trust_remote_code)
            model = AutoModel.from_pretrained(self.path, dtype=dtype, trust_remote_code=self.trust_remote_code)
        except OSError as exc:
            raise MissingDependencyError(f"encoder {self.name!r}: cannot load {self.path!r} ({str(exc).splitlines()[0]}); "
                                         "give a local folder, or a hub id with internet access") from exc
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        tokenizer.padding_side = "right"
        layer = self.resolved_layer
        blocks = getattr(model, "layers", None)
        if isinstance(blocks, torch.nn.ModuleList) and layer < len(blocks):
            # Layers after the one we read cannot change it: drop them (half the compute at the middle layer).
            # One more block than `layer` is kept: the model normalises the output of its last block only.
            model.layers = blocks[: layer + 1]
        return tokenizer, model.to(device()).eval()

    @cached_property
    def n_layers(self) -> int:
        """From the config alone: a cache hit needs the layer for its key, not the weights."""
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(self.path, trust_remote_code=self.trust_remote_code)
        return int(getattr(config, "num_hidden_layers", None) or config.get_text_config().num_hidden_layers)

    @property
    def resolved_layer(self) -> int:
        # Default: the middle layer, which probes best on question answering (see RESOURCES notes).
        layer = self.n_layers // 2 if self.layer is None else self.layer
        return layer % (self.n_layers + 1)

    def identity(self) -> dict[str, Any]:
        local = Path(self.path)
        weights = packaged.weights_fingerprint(local) if local.exists() else self.path
        identity = {"kind": "hidden-states", "name": self.name, "weights": weights, "layer": self.resolved_layer,
                    "pooling": self.pooling, "max_length": self.max_length, "precision": self.precision}
        if self.template != "none":  # only when set, so features cached before the option keep their keys
            identity["template"] = self.template
        return identity

    def n_params(self) -> int:
        return sum(p.numel() for p in self._loaded[1].parameters())

    def encode(self, inputs, progress=lambda n: None) -> np.ndarray:
        import torch

        tokenizer, model = self._loaded
        layer = self.resolved_layer

        def run_batch(texts: list[str]) -> np.ndarray:
            special = True
            if self.template == "chat":
                if not tokenizer.chat_template:
                    raise SuperalignError(f"encoder {self.name!r}: the model has no chat template; drop template=chat")
                texts = [tokenizer.apply_chat_template([{"role": "user", "content": t}], tokenize=False,
                                                       add_generation_prompt=True) for t in texts]
                special = False  # the template already holds the special tokens
                if self.pooling == "last" and self.share_prefix:
                    shared = self._last_states_after_prefix(texts)
                    if shared is not None:
                        return shared
            batch = tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt",
                              add_special_tokens=special)
            batch = {k: v.to(model.device) for k, v in batch.items()}
            with torch.inference_mode():
                out = model(**batch, output_hidden_states=True, use_cache=False)
            hidden = out.hidden_states[layer].float()  # [b, seq, d]
            mask = batch["attention_mask"]  # [b, seq]
            if self.pooling == "mean":
                m = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1)
            else:
                last = mask.sum(1) - 1  # right padding: index of the last real token
                pooled = hidden[torch.arange(hidden.shape[0]), last]
            return pooled.cpu().numpy()  # [b, d]

        return encode_in_batches(list(inputs), self.batch_size, run_batch, progress)


    @cached_property
    def _prefix(self) -> tuple[list[int], Any]:
        """The tokens every chat-templated text starts with (system prompt, user header) and their KV cache.

        The template's head is half of a short claim's tokens; computing it once for all texts halves the cost.
        """
        import torch

        tokenizer, model = self._loaded
        marker = "\u2063"  # any text: only what comes before it matters
        head = tokenizer.apply_chat_template([{"role": "user", "content": marker}], tokenize=False,
                                             add_generation_prompt=True).split(marker)[0]
        ids = tokenizer(head, add_special_tokens=False).input_ids
        with torch.inference_mode():
            out = model(input_ids=torch.tensor([ids], device=model.device), use_cache=True)
        return ids, getattr(out, "cache", None) or out.past_key_values

    def _last_states_after_prefix(self, texts: list[str]) -> np.ndarray | None:
        """Last-token states computed on top of the shared prefix's cache; None when a text's tokens do not
        start with the prefix's (a tokenizer that merges across the boundary), so the caller runs it whole."""
        import copy

        import torch

        tokenizer, model = self._loaded
        prefix, cache = self._prefix
        ids = tokenizer(texts, truncation=True, max_length=self.max_length, add_special_tokens=False).input_ids
        n = len(prefix)
        if not prefix or any(row[:n] != prefix or len(row) <= n for row in ids):
            return None
        rest = [row[n:] for row in ids]
        width = max(len(row) for row in rest)
        pad = tokenizer.pad_token_id or 0
        input_ids = torch.tensor([row + [pad] * (width - len(row)) for row in rest], device=model.device)
        mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in rest], device=model.device)
        past = copy.deepcopy(cache)
        past.batch_repeat_interleave(len(texts))
        attention = torch.cat([torch.ones(len(texts), n, dtype=mask.dtype, device=model.device), mask], dim=1)
        with torch.inference_mode():
            out = model(input_ids=input_ids, attention_mask=attention, use_cache=True, output_hidden_states=True,
                        **{_cache_argument(model): past})
        hidden = out.hidden_states[self.resolved_layer].float()  # [b, suffix, d]
        last = mask.sum(1) - 1
        return hidden[torch.arange(hidden.shape[0]), last].cpu().numpy()


def _cache_argument(model) -> str:
    """transformers 5.24 renamed the forward pass's `past_key_values` to `cache` (the old name warns, and goes
    in 5.40); older releases know only the old one."""
    import inspect

    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


_HIDDEN_OPTIONS = HIDDEN_STATE_OPTIONS


def _hf_encoder(spec: str) -> HiddenStateEncoder:
    model_id, options = parse_options(spec, _HIDDEN_OPTIONS)
    return HiddenStateEncoder(f"hf:{spec}", lambda: model_id, **options)


def _st_encoder(spec: str) -> SentenceTransformerEncoder:
    model_id, options = parse_options(spec, {"precision": str})
    return SentenceTransformerEncoder(f"st:{spec}", lambda: model_id, **options)


def _gguf_encoder(name: str, locate_gguf: Callable[[], Path], sha256: str | None, pooling: str) -> Callable[..., Encoder]:
    """A packaged GGUF model's hidden states; `name?layer=K&pooling=mean` picks another layer or pooling."""
    def factory(name: str = name, **options) -> HiddenStateEncoder:
        base = name.partition("?")[0]
        return HiddenStateEncoder(name, lambda: packaged.dequantized_gguf_dir(base, locate_gguf(), sha256),
                                  **{"pooling": pooling, "batch_size": 8, **options})

    factory.takes_options = True
    return factory


ENCODERS.add("minilm-l6", lambda: SentenceTransformerEncoder("minilm-l6", packaged.minilm_l6_dir),
             help="all-MiniLM-L6-v2 sentence embeddings (22.7M params, 384-d)")
ENCODERS.add("mpnet", lambda: SentenceTransformerEncoder("mpnet", packaged.mpnet_dir),
             help="all-mpnet-base-v2 sentence embeddings (109M params, 768-d)")
ENCODERS.add("smollm2-135m", _gguf_encoder("smollm2-135m", packaged.smollm2_gguf, packaged.SMOLLM2_GGUF_SHA256, "last"),
             help="SmolLM2-135M-Instruct middle-layer last-token hidden state (576-d)")
ENCODERS.add("gemma-270m", _gguf_encoder("gemma-270m", packaged.gemma_gguf, None, "last"),
             help="Gemma-3-270M base middle-layer last-token hidden state (640-d)")
ENCODERS.add("qwen-0.5b", _gguf_encoder("qwen-0.5b", lambda: packaged.qwen_gguf("qwen-0.5b"), None, "last"),
             help="Qwen2.5-Coder-0.5B-Instruct middle-layer last-token hidden state (896-d; LLM extra)")
ENCODERS.add("qwen-1.5b", _gguf_encoder("qwen-1.5b", lambda: packaged.qwen_gguf("qwen-1.5b"), None, "last"),
             help="Qwen2.5-Coder-1.5B-Instruct middle-layer last-token hidden state (1536-d; LLM extra)")
ENCODERS.register_prefix("hf", lambda spec: (lambda: _hf_encoder(spec)))
ENCODERS.register_prefix("st", lambda spec: (lambda: _st_encoder(spec)))
