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
  debate, 2 rounds   (--rows) a second simultaneous round, each debater reading both first-round arguments
  debate, 3 rounds   (--rows) a third, each debater reading both arguments of both rounds (the debaters' prompts
                     do not name the round count, so its first two rounds are those of the 2-round row, cached)
  debate, best of 4  (--rows) each debater samples 4 arguments (temperature 0.7) and keeps the one the judge
                     model, reading it alone, rates most likely right for its side (llm_debate's argument rating)
Consultancy and both debates share their arguments (the same prompt, so the request cache serves them): the
expensive part, 2 arguments per item by the 1.5B model, is generated once.

    python examples/oversight_ladder.py [--n 200] [--step 50] [--out FILE.md] [--judge qwen-0.5b] [--debater qwen-1.5b]
                                        [--rows "direct; debate; debate, 2 rounds"]

Every request goes through the request cache, so an interrupted run resumes where it stopped; `--step` grows
the item set in steps (the first 50 items, then 100, ...), printing (and writing to `--out`) the table at each
step, so that a long run on a CPU has a readable interim result. Prints a Markdown table: accuracy of the order-averaged log-prob signal with a 95% bootstrap interval over
items, AUROC, mean position bias, held-out ECE, and the paired difference to direct judging.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from superalign.chat.client import get_chat_model
from superalign.io import atomic_path
from superalign.oversight.items import load_items
from superalign.oversight.protocols import LADDER_SETTINGS, Settings
from superalign.oversight.runner import paired_difference, run_protocol
from superalign.oversight.transcript import Transcript

RUNS = [("direct", "direct", Settings(judge_mode="cloze")),
        ("direct + article", "direct", Settings(judge_mode="cloze", judge_sees_source=True)),
        ("consultancy", "consultancy", Settings(**LADDER_SETTINGS)),
        ("debate", "debate", Settings(**LADDER_SETTINGS)),
        ("debate, quotes unchecked", "debate", Settings(**LADDER_SETTINGS, verify_quotes=False))]
# Not in the default table (a second round costs about as much again as the first, best of 4 about three times
# as much; README): --rows adds them.
EXTRA_RUNS = [("debate, 2 rounds", "debate", Settings(**{**LADDER_SETTINGS, "rounds": 2})),
              ("debate, 3 rounds", "debate", Settings(**{**LADDER_SETTINGS, "rounds": 3})),
              ("debate, best of 4", "debate", Settings(**{**LADDER_SETTINGS, "best_of_n": 4}))]
RUNS_BY_LABEL = {label: (protocol, settings) for label, protocol, settings in RUNS + EXTRA_RUNS}
ITEM_SET = "bbc-cloze?max_chars=900"


def _paired(a: list[Transcript], b: list[Transcript]) -> str:
    d = paired_difference(a, b, score="logprob")
    return f"{d['difference']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}]"


def table(n: int, judge: str, debater: str, rows, transcripts) -> str:
    lines = [f"{n} bbc-cloze items; judge {judge} (cloze log-probs, both answer orders), debaters {debater}", "",
             "| protocol | judge accuracy [95% CI] | AUROC | position bias | held-out ECE | vs direct [95% CI] | "
             "quotes verified / not | seconds |", "|---|---|---|---|---|---|---|---|"]
    for label, m, lp, seconds in rows:
        diff = "-" if label == "direct" else _paired(transcripts[label], transcripts["direct"])
        quotes = f"{m['quotes_verified']} / {m['quotes_unverified']}" if label != "debate, quotes unchecked" else "not checked"
        if label.startswith("direct"):
            quotes = "-"
        lines.append(f"| {label} | {lp['accuracy']:.3f} [{lp['accuracy_lo']:.3f}, {lp['accuracy_hi']:.3f}] | "
                     f"{lp['auroc']:.3f} | {lp['bias']:+.2f} | {lp.get('ece', float('nan')):.3f} | {diff} | {quotes} | "
                     f"{seconds:.0f} |")
    lines.append("")
    for a, b in [("debate", "consultancy"), ("debate", "debate, quotes unchecked"), ("debate, 2 rounds", "debate"),
                 ("debate, 3 rounds", "debate"), ("debate, 3 rounds", "debate, 2 rounds"), ("debate, best of 4", "debate")]:
        if a in transcripts and b in transcripts:
            lines.append(f"{a} - {b}: {_paired(transcripts[a], transcripts[b])}")
    lines.append("(seconds: this step's compute; requests answered by the cache cost nothing)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--step", type=int, default=0, help="grow the item set in steps of this size (0: all at once)")
    parser.add_argument("--out", default=None, help="also write each step's table to this Markdown file")
    parser.add_argument("--judge", default="qwen-0.5b")
    parser.add_argument("--debater", default="qwen-1.5b")
    parser.add_argument("--rows", default="; ".join(label for label, _, _ in RUNS),
                        help="which protocols, separated by semicolons, from: " + "; ".join(RUNS_BY_LABEL))
    args = parser.parse_args()
    wanted = [r.strip() for r in args.rows.split(";") if r.strip()]
    unknown = [r for r in wanted if r not in RUNS_BY_LABEL]
    if unknown:
        parser.error(f"--rows: unknown {', '.join(unknown)}; choose from: {'; '.join(RUNS_BY_LABEL)}")
    if "direct" not in wanted:
        parser.error("--rows must include direct, the baseline every row is paired with")
    all_items = load_items(ITEM_SET, args.n)
    judge, debater = get_chat_model(args.judge), get_chat_model(args.debater)
    clients = {"judge": judge, "debater_a": debater, "debater_b": debater, "consultant": debater}
    sizes = list(range(args.step, args.n, args.step)) + [args.n] if args.step else [args.n]
    for n in sizes:
        items = all_items[:n]
        rows, transcripts = [], {}
        for label in wanted:
            protocol, settings = RUNS_BY_LABEL[label]
            start = time.perf_counter()
            # best-of-N rates its drafts with the judge's model (only then a role: other rows' records keep their keys)
            run_clients = {**clients, "preference": judge} if settings.best_of_n > 1 else clients
            record = run_protocol(protocol, items, run_clients, settings, item_set=ITEM_SET)
            seconds = time.perf_counter() - start
            transcripts[label] = [Transcript(**t) for t in record["result"]["transcripts"]]
            m, lp = record["result"]["metrics"], record["result"]["metrics"]["logprob"]
            rows.append((label, m, lp, seconds))
            print(f"{n} items, {label}: {lp['accuracy']:.3f} ({seconds:.0f} s)", flush=True)
        text = table(n, args.judge, args.debater, rows, transcripts)
        print("\n" + text + "\n", flush=True)
        if args.out:
            with atomic_path(Path(args.out)) as tmp:
                tmp.write_text(text + "\n")


if __name__ == "__main__":
    main()
