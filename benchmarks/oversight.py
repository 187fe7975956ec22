"""Oversight throughput: items per minute, cold and from the request cache, with the packaged SmolLM2.

Each item runs in both answer orders. Cold: an empty request cache. Warm: the same protocol again with
the same cache (and a fresh run store, so nothing is read from earlier records).
Usage: python benchmarks/oversight.py [--n 4] [--protocol debate] [--model smollm2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from superalign.chat.client import CHAT_MODELS, ChatClient, RequestCache
from superalign.oversight.items import load_items
from superalign.oversight.protocols import ROLES, Settings
from superalign.oversight.runner import run_protocol
from superalign.runs.store import RunStore


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--protocol", default="debate")
    parser.add_argument("--model", default="smollm2")
    args = parser.parse_args()
    items = load_items("bbc-topics", args.n)
    backend = CHAT_MODELS.get(args.model)()
    with tempfile.TemporaryDirectory() as tmp:
        cache = RequestCache(Path(tmp) / "cache.sqlite")
        times = []
        for label in ("cold", "warm"):
            client = ChatClient(backend, cache=cache)
            clients = {role: client for role in ROLES[args.protocol]}
            start = time.perf_counter()
            run_protocol(args.protocol, items, clients, Settings(rounds=1), item_set="bbc-topics",
                         store=RunStore(Path(tmp) / f"{label}.sqlite"))
            seconds = time.perf_counter() - start
            times.append(seconds)
            print(f"{label}: {len(items)} items ({2 * len(items)} transcripts) in {seconds:.1f}s = "
                  f"{60 * len(items) / seconds:.1f} items/min; requests {client.usage.requests}, "
                  f"from cache {client.usage.cached}, completion tokens {client.usage.completion_tokens}")
    print(f"protocol {args.protocol}, model {args.model}: the request cache makes a re-run {times[0] / times[1]:.0f}x faster")


if __name__ == "__main__":
    main()
