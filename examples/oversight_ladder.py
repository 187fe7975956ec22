"""The weak-judge / strong-debater experiment on the language-model ladder (needs the LLM extra: make llm).

Judge: Qwen2.5-Coder-0.5B-Instruct, never shown the article, scored by the log-likelihood of each answer's
text (cloze) in both answer orders (position bias separated from the signal); its answer letters carry no
signal (README). Unverified quotes are removed before it reads (it does not weigh a mark; README). Debaters and consultants:
Qwen2.5-Coder-1.5B-Instruct, reading the article. Items: `bbc-cloze` (a sentence of a real BBC article with
one number blanked; the other answer is another number of the same article).

Protocols, all on the same items so that differences are paired:
  direct             the judge alone
  direct + article   the judge reads the article (its own ceiling)
  consultancy        one consultant per item and side, arguing its assigned answer (both sides judged)
  debate             two debaters, one simultaneous round, quotes verified
  debate, unchecked  the same arguments, quotes not verified (the judge is told nothing was checked)
Consultancy and both debates share their arguments (the same prompt, so the request cache serves them): the
expensive part, 2 arguments per item by the 1.5B model, is generated once.

    python examples/oversight_ladder.py [--n 200] [--judge qwen-0.5b] [--debater qwen-1.5b]

Prints a Markdown table: accuracy of the order-averaged log-prob signal with a 95% bootstrap interval over
items, AUROC, mean position bias, held-out ECE, and the paired difference to direct judging.
"""

from __future__ import annotations

import argparse
import time

from superalign.chat.client import get_chat_model
from superalign.oversight.items import load_items
from superalign.oversight.protocols import Settings
from superalign.oversight.runner import paired_difference, run_protocol
from superalign.oversight.transcript import Transcript

LOGPROB = dict(judge_mode="cloze", rounds=1, simultaneous=True, judge_questions=0, unverified_quotes="remove")
RUNS = [("direct", "direct", Settings(judge_mode="cloze")),
        ("direct + article", "direct", Settings(judge_mode="cloze", judge_sees_source=True)),
        ("consultancy", "consultancy", Settings(**LOGPROB)),
        ("debate", "debate", Settings(**LOGPROB)),
        ("debate, quotes unchecked", "debate", Settings(**LOGPROB, verify_quotes=False))]


def _paired(a: list[Transcript], b: list[Transcript]) -> str:
    d = paired_difference(a, b, score="logprob")
    return f"{d['difference']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--judge", default="qwen-0.5b")
    parser.add_argument("--debater", default="qwen-1.5b")
    args = parser.parse_args()
    items = load_items("bbc-cloze?max_chars=900", args.n)
    judge, debater = get_chat_model(args.judge), get_chat_model(args.debater)
    rows, transcripts = [], {}
    for label, protocol, settings in RUNS:
        clients = {"judge": judge, "debater_a": debater, "debater_b": debater, "consultant": debater}
        start = time.perf_counter()
        record = run_protocol(protocol, items, clients, settings, item_set="bbc-cloze?max_chars=900")
        seconds = time.perf_counter() - start
        transcripts[label] = [Transcript(**t) for t in record["result"]["transcripts"]]
        m, lp = record["result"]["metrics"], record["result"]["metrics"]["logprob"]
        rows.append((label, m, lp, seconds))
        print(f"{label}: {lp['accuracy']:.3f} ({seconds:.0f} s)", flush=True)
    print(f"\n{args.n} bbc-cloze items; judge {args.judge} (cloze log-probs, both answer orders), "
          f"debaters {args.debater}\n")
    print("| protocol | judge accuracy [95% CI] | AUROC | position bias | held-out ECE | vs direct [95% CI] | "
          "quotes verified / not | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for label, m, lp, seconds in rows:
        diff = "-" if label == "direct" else _paired(transcripts[label], transcripts["direct"])
        quotes = f"{m['quotes_verified']} / {m['quotes_unverified']}" if label != "debate, quotes unchecked" else "not checked"
        if label.startswith("direct"):
            quotes = "-"
        print(f"| {label} | {lp['accuracy']:.3f} [{lp['accuracy_lo']:.3f}, {lp['accuracy_hi']:.3f}] | "
              f"{lp['auroc']:.3f} | {lp['bias']:+.2f} | {lp.get('ece', float('nan')):.3f} | {diff} | {quotes} | "
              f"{seconds:.0f} |")
    print(f"\ndebate - consultancy: {_paired(transcripts['debate'], transcripts['consultancy'])}")
    print(f"debate - debate with quotes unchecked: {_paired(transcripts['debate'], transcripts['debate, quotes unchecked'])}")


if __name__ == "__main__":
    main()
