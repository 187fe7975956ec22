"""Oversight x W2SG with the packaged SmolLM2 (served by llama.cpp when available): students trained on weak
labels from the weak classifier, the unassisted judge, and the debate-assisted judge. Prints Markdown.
    python examples/oversight_w2s.py [--n 40]
"""

from __future__ import annotations

import argparse

from superalign.chat.client import get_chat_model
from superalign.oversight.protocols import Settings
from superalign.oversight.w2s import compare_label_sources

from oversight_table import start_server  # same folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--task", default="bbc-business-vs-tech")
    args = parser.parse_args()
    proc, model = start_server()
    try:
        client = get_chat_model(model, concurrency=1)
        report = compare_label_sources(args.task, "minilm-l3", "mpnet", client, client, n_items=args.n,
                                       settings=Settings(rounds=1))
    finally:
        if proc is not None:
            proc.terminate()
    print(f"{args.task}, {report['n_items']} transfer examples labelled by each source; weak classifier test acc "
          f"{report['weak_acc']:.3f}, ceiling (same examples, ground truth) {report['ceiling_acc']:.3f}; "
          f"unparseable verdicts {report['unparseable']}\n")
    print("| label source | label accuracy | student test acc | PGR |")
    print("|---|---|---|---|")
    for name, r in report["sources"].items():
        print(f"| {name} | {r['label_accuracy']:.3f} | {r['student_acc']:.3f} | {r['pgr']:+.2f} |")


if __name__ == "__main__":
    main()
