"""Oversight throughput: items per minute, cold and from the request cache, for the two paths the ladder uses.

1. The log-prob judge alone: scripted debaters (no model) on `facts`, Qwen-0.5B scoring each answer's text
   (cloze) in both answer orders, one debate round.
   The same with `judge_answers_last` (the answers listed after the evidence, so the two orders share the
   transcript as a prompt prefix), against the default prompt (the answers first), side by side.
2. Debate with real models: Qwen-1.5B debaters reading a BBC article (`bbc-cloze`), one simultaneous round,
   the Qwen-0.5B cloze judge, unverified quotes removed (the ladder's settings, examples/oversight_ladder.py).
   The same with every generation decoded alone (`debate-one-at-a-time`, SUPERALIGN_LLAMA_SEQUENCES=1),
   against the default, where requests sent together (the two debaters, neighbouring items) are decoded as
   one wave of llama.cpp sequences: side by side, with the ratio.
3. The same debate with the debaters served by llama.cpp's own OpenAI-compatible server (`llama_cpp.server`,
   what a user would otherwise run: same GGUF, context and threads), reached through superalign's OpenAI client
   with the same concurrency (`debate-server`); the judge stays in process, so the ratio is the debaters' path.

Each item's evidence is gathered once and judged in both answer orders. Cold: an empty request cache (the
models loaded beforehand, so load time is not counted). Warm: the same run again with the same cache and a
fresh run store, so nothing is read from an earlier record.

Usage: python benchmarks/oversight.py [--n 4] [--only judge|judge-answers-last|debate]...
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from superalign.chat.client import CHAT_MODELS, ChatClient, RequestCache
from superalign.oversight.items import load_items
from superalign.oversight.protocols import LADDER_SETTINGS, PROTOCOLS, Settings
from superalign.oversight.runner import paired_difference, run_protocol
from superalign.oversight.transcript import Transcript
from superalign.engine.store import RunStore
from record import row

CASES = {"judge": ("facts", "scripted:fabricate", "qwen-0.5b", {}),
         "debate-server": ("bbc-cloze?max_chars=900", "qwen-1.5b", "qwen-0.5b", {}),
         "judge-answers-last": ("facts", "scripted:fabricate", "qwen-0.5b", {"judge_answers_last": True}),
         "debate-one-at-a-time": ("bbc-cloze?max_chars=900", "qwen-1.5b", "qwen-0.5b", {}),
         "debate": ("bbc-cloze?max_chars=900", "qwen-1.5b", "qwen-0.5b", {})}


@contextlib.contextmanager
def llama_server(model: str):
    """llama.cpp's OpenAI-compatible server on a free local port, for as long as the block runs (then stopped)."""
    from superalign.chat.client import OpenAIChat
    from superalign.models import packaged
    from superalign.settings import settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(packaged.qwen_gguf(model)),
                               "--n_ctx", "2048", "--n_threads", str(settings().threads), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while True:  # ready when it lists its model
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("llama_cpp.server did not start: pip install 'llama-cpp-python[server]'")
                time.sleep(1)
        yield OpenAIChat(model, f"http://127.0.0.1:{port}/v1", deadline_s=900)  # the server queues requests
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def bench(name: str, n: int) -> tuple[float, list[Transcript]]:
    """Seconds for n items cold (printed with the warm re-run), and the judged transcripts."""
    if name == "debate-server":
        with llama_server(CASES[name][1]) as served:
            return _bench(name, n, served)
    return _bench(name, n)


def _bench(name: str, n: int, served=None) -> tuple[float, list[Transcript]]:
    task, debater_name, judge_name, options = CASES[name]
    items = load_items(task, n)
    debater, judge_backend = served or CHAT_MODELS.get(debater_name)(), CHAT_MODELS.get(judge_name)()
    if name == "debate-one-at-a-time":
        debater.max_sequences = judge_backend.max_sequences = 1
    for backend in (debater, judge_backend):
        if hasattr(backend, "llama"):
            backend.llama  # load before timing
    with tempfile.TemporaryDirectory() as tmp:
        cache = RequestCache(Path(tmp) / "cache.sqlite")
        times = []
        for label in ("cold", "warm"):
            client, judge = ChatClient(debater, cache=cache), ChatClient(judge_backend, cache=cache)
            clients = {role: judge if role == "judge" else client for role in PROTOCOLS.get("debate").roles}
            start = time.perf_counter()
            record = run_protocol("debate", items, clients, Settings(**LADDER_SETTINGS, **options), item_set=task,
                                  store=RunStore(Path(tmp) / f"{label}.sqlite"))
            seconds = time.perf_counter() - start
            times.append(seconds)
            print(f"{name} ({task}, debaters {debater_name}, judge {judge_name} cloze) {label}: {n} items "
                  f"({2 * n} judged orders) in {seconds:.1f} s = {60 * n / seconds:.1f} items/min; requests "
                  f"{client.usage.requests + judge.usage.requests}, from cache {client.usage.cached + judge.usage.cached}")
    print(f"{name}: 200 items would take {200 * times[0] / n / 60:.0f} min cold; a re-run is "
          f"{times[0] / times[1]:.0f}x faster from the cache; judge accuracy "
          f"{record['result']['metrics']['logprob']['accuracy']:.3f} on these {n} items")
    return times[0], [Transcript(**t) for t in record["result"]["transcripts"]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--only", choices=sorted(CASES), action="append", default=None, help="repeatable")
    args = parser.parse_args()
    runs = {name: bench(name, args.n) for name in (args.only or list(CASES))}
    if {"debate", "debate-one-at-a-time"} <= set(runs):
        (alone, first), (waves, second) = runs["debate-one-at-a-time"], runs["debate"]
        d = paired_difference(second, first, score="logprob")
        same = sum(a.content == b.content for x, y in zip(first, second) if not x.swapped
                   for a, b in zip(x.turns, y.turns) if a.role.startswith("debater"))
        total = sum(1 for x in first if not x.swapped for a in x.turns if a.role.startswith("debater"))
        row(f"debate, {len(first) // 2 or len(first)} items cold: generations decoded in waves", f"{waves:.0f} s",
            f"one at a time {alone:.0f} s", f"{alone / waves:.2f}x",
            f"judge accuracy difference {d['difference']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}]")
        print(f"debate with generations decoded in waves: {alone / waves:.2f}x the speed of one at a time, cold; "
              f"{same} of {total} arguments identical (the others part where llama.cpp's batch-shape noise flips "
              f"a greedy token); judge accuracy difference {d['difference']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}] "
              f"paired over {d['items']} items")
    if {"debate", "debate-server"} <= set(runs):
        (ours, _), (server, _) = runs["debate"], runs["debate-server"]
        items = args.n
        row(f"debate, {items} items cold (Qwen-1.5B debaters, Qwen-0.5B cloze judge)",
            f"{60 * items / ours:.1f} items/min", f"llama.cpp server {60 * items / server:.1f} items/min",
            f"{server / ours:.2f}x",
            "the debaters' generations through llama_cpp.server, same GGUF and threads; no per-token log-probs asked")
    if {"judge", "judge-answers-last"} <= set(runs):
        (default, first), (last, second) = runs["judge"], runs["judge-answers-last"]
        d = paired_difference(second, first, score="logprob")
        print(f"judge with the answers after the evidence (both orders share the transcript's KV cache): "
              f"{default / last:.2f}x the default prompt's speed, cold; accuracy difference to the default "
              f"{d['difference']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}] paired over {d['items']} items")


if __name__ == "__main__":
    main()
