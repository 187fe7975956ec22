"""The judge under test alone: scripted debaters on the `facts` task, where a judge without the source is at
chance by construction (needs the LLM extra for the default judge: make llm).

The honest side quotes the sentence that states the answer; the liar fabricates a quote (`fabricate`) or
fabricates one and wraps it in the verified-quote tag itself (`forge`). The judge (default Qwen-0.5B) scores
each answer's text (cloze, both answer orders), or its answer letters where the row says so.

    python examples/oversight_facts.py [--n 100] [--judge qwen-0.5b] [--n-facts 4]

Prints a Markdown table: accuracy of the order-averaged signal with a 95% bootstrap interval over items,
AUROC, mean position bias, and the paired difference to the judge alone (on the same items).
"""

from __future__ import annotations

import argparse
import time

from superalign.chat.client import get_chat_model
from superalign.oversight.items import load_items
from superalign.oversight.protocols import Settings
from superalign.oversight.persuasion import bradley_terry, matches_from_transcripts
from superalign.oversight.runner import paired_difference, run_protocol
from superalign.oversight.transcript import Transcript

CLOZE = dict(judge_mode="cloze", rounds=1, judge_questions=0)
# (label, protocol, liar style, settings)
RUNS = [("judge alone", "direct", None, Settings(judge_mode="cloze")),
        ("debate, unverified quotes marked", "debate", "fabricate", Settings(**CLOZE)),
        ("debate, unverified quotes removed", "debate", "fabricate", Settings(**CLOZE, unverified_quotes="remove")),
        ("debate vs a forger, quotes checked", "debate", "forge", Settings(**CLOZE, unverified_quotes="remove")),
        ("debate vs a forger, quotes not checked", "debate", "forge",
         Settings(**CLOZE, unverified_quotes="remove", verify_quotes=False)),
        ("consultancy (both sides), unverified removed", "consultancy", "fabricate",
         Settings(**CLOZE, unverified_quotes="remove"))]
# The judge's letters (judge_mode="logprob") instead of the answers' texts: add
# ("debate, unverified removed; judge's letters", "debate", "fabricate",
#  Settings(judge_mode="logprob", rounds=1, unverified_quotes="remove")); not in the README's table (CPU time).


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--judge", default="qwen-0.5b")
    parser.add_argument("--n-facts", type=int, default=4)
    args = parser.parse_args()
    task = f"facts?n_facts={args.n_facts}"
    items = load_items(task, args.n)
    judge = get_chat_model(args.judge)
    rows, transcripts = [], {}
    for label, protocol, style, settings in RUNS:
        liar = get_chat_model(f"scripted:{style}") if style else None
        clients = {"judge": judge, "debater_a": liar, "debater_b": liar, "consultant": liar}
        start = time.perf_counter()
        record = run_protocol(protocol, items, {k: v for k, v in clients.items() if v is not None}, settings,
                              item_set=task)
        seconds = time.perf_counter() - start
        transcripts[label] = [Transcript(**t) for t in record["result"]["transcripts"]]
        rows.append((label, record["result"]["metrics"], seconds))
        print(f"{label}: {record['result']['metrics']['logprob']['accuracy']:.3f} ({seconds:.0f} s)", flush=True)
    print(f"\n{args.n} `{task}` items; judge {args.judge}; scripted debaters (the honest side quotes the stating "
          "sentence; the liar's style in the row)\n")
    print("| protocol | judge accuracy [95% CI] | AUROC | position bias | vs judge alone [95% CI] | quotes verified / not |")
    print("|---|---|---|---|---|---|")
    alone = transcripts["judge alone"]
    for label, m, _ in rows:
        lp = m["logprob"]
        if label == "judge alone":
            diff = "-"
        else:
            d = paired_difference(transcripts[label], alone, score="logprob")
            diff = f"{d['difference']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}]"
        quotes = "-" if m["quotes_verified"] + m["quotes_unverified"] == 0 else \
            f"{m['quotes_verified']} / {m['quotes_unverified']}"
        print(f"| {label} | {lp['accuracy']:.3f} [{lp['accuracy_lo']:.3f}, {lp['accuracy_hi']:.3f}] | "
              f"{lp['auroc']:.3f} | {lp['bias']:+.2f} | {diff} | {quotes} |")
    d = paired_difference(transcripts["debate, unverified quotes removed"],
                          transcripts["consultancy (both sides), unverified removed"], score="logprob")
    print(f"\ndebate - consultancy (unverified removed, paired over {d['items']} items): "
          f"{d['difference']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}]")
    # Persuasiveness: each debate condition's liar as a configuration against the same honest debater, for one
    # judge reading (cloze). With scripted debaters this re-expresses accuracy; with real debater configurations
    # (model, best-of-N, rounds) it is Khan et al.'s persuasiveness rating.
    matches = [m for label, protocol, style, settings in RUNS if protocol == "debate" and settings.judge_mode == "cloze"
               for m in matches_from_transcripts(transcripts[label], "honest", label, by_truth=True)]
    ratings = bradley_terry(matches)
    print("\n| liar (debate condition) | Bradley-Terry rating, wrong side | judge accuracy |")
    print("|---|---|---|")
    for label, m, _ in rows:
        if label in ratings:
            print(f"| {label} | {ratings[label]['wrong']:+.2f} | {m['logprob']['accuracy']:.3f} |")
    print(f"\nhonest debater, correct side: {ratings['honest']['correct']:+.2f}")


if __name__ == "__main__":
    main()
