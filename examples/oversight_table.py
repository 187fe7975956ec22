"""Judge accuracy per protocol on the offline BBC task with the packaged SmolLM2 as debater and judge.

Serves the GGUF with llama.cpp's OpenAI-compatible server on loopback when llama-cpp-python is installed
(about 3x the transformers generation speed on CPU), else uses the transformers backend. Prints Markdown.
    python examples/oversight_table.py [--n 6]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
import urllib.request

from superalign.models import packaged
from superalign.chat.client import get_chat_model
from superalign.oversight.items import load_items
from superalign.oversight.protocols import PROTOCOLS, Settings
from superalign.oversight.runner import run_protocol

RUNS = [("direct", Settings()), ("direct", Settings(judge_sees_source=True)), ("consultancy", Settings()),
        ("debate", Settings(rounds=1)), ("critique", Settings()), ("decomposition", Settings())]


def start_server() -> tuple[subprocess.Popen | None, str]:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return None, "smollm2"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(packaged.smollm2_gguf()),
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--logits_all", "true"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{url}/v1/models", timeout=2)
            return proc, f"openai:smollm2?base_url={url}"
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("llama.cpp server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=6)
    args = parser.parse_args()
    proc, model = start_server()
    try:
        client = get_chat_model(model, concurrency=1)
        items = load_items("bbc-topics", args.n)
        print("| protocol | transcripts | unparseable | judge accuracy [95% CI] | judge chose A | notes | seconds |")
        print("|---|---|---|---|---|---|---|")
        for protocol, settings in RUNS:
            clients = {role: client for role in PROTOCOLS.get(protocol).roles}
            record = run_protocol(protocol, items, clients, settings, item_set="bbc-topics")
            m = record["result"]["metrics"]
            notes = []
            if "accuracy_assigned_correct" in m:
                notes.append(f"acc. when consultant right {m['accuracy_assigned_correct']:.2f} / wrong "
                             f"{m['accuracy_assigned_incorrect']:.2f}")
            if m["quotes_verified"] or m["quotes_unverified"]:
                notes.append(f"quotes verified {m['quotes_verified']}, not {m['quotes_unverified']}")
            name = protocol + (" (judge reads the article)" if settings.judge_sees_source else "")
            print(f"| {name} | {m['transcripts']} | {m['unparseable']} | {m['accuracy']:.2f} "
                  f"[{m['accuracy_lo']:.2f}, {m['accuracy_hi']:.2f}] | {m['chose_first_position']:.2f} | "
                  f"{'; '.join(notes)} | {record['result']['seconds']:.0f} |", flush=True)
        print(f"\nmodel: {model.split('?')[0]} (SmolLM2-135M-Instruct Q4_1) as every debater, consultant and judge; "
              f"{args.n} BBC articles, each in both answer orders")
    finally:
        if proc is not None:
            proc.terminate()


if __name__ == "__main__":
    main()
