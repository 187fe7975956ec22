"""paraphrase-MiniLM-L3-v2 (ONNX), the weakest pretrained text rung, run by onnxruntime.

The package ships the ONNX graph only; the tokenizer of all-MiniLM-L6-v2 (same BERT uncased
vocabulary) tokenizes for it. Output 3 of the graph is the mean-pooled 384-d sentence vector.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from superalign.models import packaged
from superalign.models.batching import encode_in_batches
from superalign.models.encoder import ENCODERS, Encoder
from superalign.settings import settings

_POOLED_OUTPUT = 3


class OnnxMiniLM(Encoder):
    name = "minilm-l3"
    modalities = ("text",)
    max_length = 128  # the model's sentence-transformers max_seq_length

    def __init__(self, batch_size: int = 32):
        self.batch_size = batch_size

    @cached_property
    def session(self):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = settings().threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(str(packaged.minilm_l3_onnx()), options, providers=["CPUExecutionProvider"])

    @cached_property
    def tokenizer(self):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(packaged.minilm_l6_dir() / "tokenizer.json"))
        tokenizer.enable_truncation(self.max_length)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        return tokenizer

    def identity(self) -> dict[str, Any]:
        return {"kind": "onnx", "name": self.name, "weights": packaged.weights_fingerprint(packaged.minilm_l3_onnx()),
                "max_length": self.max_length, "pooling": "mean"}

    def n_params(self) -> int:
        import onnx

        model = onnx.load(str(packaged.minilm_l3_onnx()))
        return int(sum(np.prod(t.dims) for t in model.graph.initializer))

    def encode(self, inputs, progress=lambda n: None) -> np.ndarray:
        session, tokenizer = self.session, self.tokenizer
        wanted = {i.name for i in session.get_inputs()}

        def run_batch(texts: list[str]) -> np.ndarray:
            encodings = tokenizer.encode_batch(texts)
            feed = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                    "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64)}
            if "token_type_ids" in wanted:
                feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
            return session.run(None, {k: v for k, v in feed.items() if k in wanted})[_POOLED_OUTPUT]  # [b, 384]

        return encode_in_batches(list(inputs), self.batch_size, run_batch, progress)


ENCODERS.add("minilm-l3", OnnxMiniLM, help="paraphrase-MiniLM-L3-v2 via onnxruntime (17M params, 384-d)")
