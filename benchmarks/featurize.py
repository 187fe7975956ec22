"""Featurizing throughput: superalign's encoder vs plain `SentenceTransformer.encode`, same model and texts.

Prints texts/second for both, the ratio, and the largest cosine difference of the embeddings.
Usage: python benchmarks/featurize.py [--model minilm-l6|mpnet] [--n 1000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from record import row

from superalign.data.registry import load_task
from superalign.models import packaged
from superalign.models.encoder import get_encoder

LOCATE = {"minilm-l6": packaged.minilm_l6_dir, "mpnet": packaged.mpnet_dir}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="minilm-l6", choices=sorted(LOCATE))
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(torch.get_num_threads())
    texts = load_task("bbc-news").subsample(args.n).inputs
    baseline = SentenceTransformer(str(LOCATE[args.model]()), device="cpu")
    ours = get_encoder(args.model)
    ours.encode(texts[:32])  # load weights before timing, as the baseline was loaded above
    baseline.encode(texts[:32])

    start = time.perf_counter()
    ref = baseline.encode(texts, batch_size=32)
    t_base = time.perf_counter() - start
    start = time.perf_counter()
    emb = ours.encode(texts)
    t_ours = time.perf_counter() - start

    cos = (emb * ref).sum(1) / np.linalg.norm(emb, axis=1) / np.linalg.norm(ref, axis=1)
    print(f"model {args.model}, {len(texts)} texts, precision {ours.precision}, {torch.get_num_threads()} threads")
    print(f"SentenceTransformer.encode: {len(texts) / t_base:8.1f} texts/s ({t_base:.2f}s)")
    print(f"superalign encoder:         {len(texts) / t_ours:8.1f} texts/s ({t_ours:.2f}s)")
    print(f"throughput ratio: {t_base / t_ours:.2f}x; max cosine difference: {float((1 - cos).max()):.2e}")
    row(f"featurize {len(texts):,} BBC texts, {args.model} ({ours.precision})", f"{len(texts) / t_ours:.1f} texts/s",
        f"`SentenceTransformer.encode` {len(texts) / t_base:.1f} texts/s", f"{t_base / t_ours:.2f}x",
        f"max cosine difference {float((1 - cos).max()):.1e}")


if __name__ == "__main__":
    main()
