"""Length-bucketed batching and CPU precision choice, shared by the transformer encoders."""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Iterator

import numpy as np


def length_sorted_batches(texts: list[str], batch_size: int) -> Iterator[np.ndarray]:
    """Index batches of texts of similar length (longest first), so padding wastes little compute."""
    order = np.argsort([-len(t) for t in texts], kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]


@lru_cache(maxsize=1)
def bf16_is_fast() -> bool:
    """bfloat16 matmuls are fast only on CPUs with AVX512-BF16 or AMX (or on a GPU)."""
    import torch

    if torch.cuda.is_available():
        return True
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str | None) -> str:
    """`auto` -> bf16 where the hardware runs it fast, else fp32; None -> the setting (SUPERALIGN_PRECISION).
    An explicit argument always wins over the setting."""
    from superalign.settings import settings

    precision = precision or settings().precision
    if precision not in ("auto", "fp32", "bf16"):
        from superalign.errors import SuperalignError

        raise SuperalignError(f"unknown precision {precision!r}; use auto, fp32 or bf16")
    if precision == "auto":
        return "bf16" if bf16_is_fast() else "fp32"
    return precision


def device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def torch_threads() -> None:
    """Use every core for one encoder; torch's default can oversubscribe in a process pool."""
    import torch

    from superalign.settings import settings

    wanted = settings().threads
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)


def encode_in_batches(texts: list[str], batch_size: int, run_batch: Callable[[list[str]], np.ndarray],
                      progress: Callable[[int], None]) -> np.ndarray:
    out: np.ndarray | None = None
    for idx in length_sorted_batches(texts, batch_size):
        feats = run_batch([texts[i] for i in idx])  # [b, d]
        if out is None:
            out = np.empty((len(texts), feats.shape[1]), dtype=np.float32)
        out[idx] = feats
        progress(len(idx))
    assert out is not None
    return out
