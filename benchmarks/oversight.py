"""Oversight throughput: items per minute, cold and from the request cache.

Each item's evidence is gathered once and judged in both answer orders. Cold: an empty request cache. Warm:
the same protocol again with the same cache (and a fresh run store, so nothing is read from earlier records).
Usage: python benchmarks/oversight.py [--n 4] [--protocol debate] [--model smollm2] [--judge MODEL]
       [--task bbc-topics] [--judge-mode generate|logprob|cloze]
The log-prob judge with scripted debaters: --task facts --model scripted:fabricate --judge qwen-0.5b --judge-mode cloze
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
    parser.add_argument("--model", default="smollm2", help="the strong side (and the judge unless --judge)")
    parser.add_argument("--judge", default=None)
    parser.add_argument("--task", default="bbc-topics")
    parser.add_argument("--judge-mode", default="generate")
    args = parser.parse_args()
    items = load_items(args.task, args.n)
    backend = CHAT_MODELS.get(args.model)()
    judge_backend = CHAT_MODELS.get(args.judge)() if args.judge else backend
    with tempfile.TemporaryDirectory() as tmp:
        cache = RequestCache(Path(tmp) / "cache.sqlite")
        times = []
        for label in ("cold", "warm"):
            client, judge = ChatClient(backend, cache=cache), ChatClient(judge_backend, cache=cache)
            clients = {role: judge if role == "judge" else client for role in ROLES[args.protocol]}
            start = time.perf_counter()
            run_protocol(args.protocol, items, clients, Settings(rounds=1, judge_mode=args.judge_mode),
                         item_set=args.task, store=RunStore(Path(tmp) / f"{label}.sqlite"))
            seconds = time.perf_counter() - start
            times.append(seconds)
            requests = client.usage.requests + (judge.usage.requests if judge is not client else 0)
            cached = client.usage.cached + (judge.usage.cached if judge is not client else 0)
            print(f"{label}: {len(items)} items ({2 * len(items)} transcripts) in {seconds:.1f}s = "
                  f"{60 * len(items) / seconds:.1f} items/min; requests {requests}, from cache {cached}")
    print(f"protocol {args.protocol}, strong {args.model}, judge {args.judge or args.model} ({args.judge_mode}): "
          f"the request cache makes a re-run {times[0] / times[1]:.0f}x faster")


if __name__ == "__main__":
    main()
