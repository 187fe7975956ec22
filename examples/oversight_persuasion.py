"""Debater persuasiveness on the language-model ladder (needs the LLM extra: make llm): Qwen-0.5B and Qwen-1.5B
debaters in every pairing (self-play and cross-play) on the first N `bbc-cloze` items of the ladder experiment,
judged by the Qwen-0.5B cloze judge with the ladder's debate settings (examples/oversight_ladder.py), so the
1.5B self-play arguments come from the request cache. Prints each configuration's Bradley-Terry ratings
(arguing the right and the wrong answer) next to the judge's accuracy in its debates (Khan et al. 2024:
judge accuracy against persuasiveness), and writes the figure.

    python examples/oversight_persuasion.py [--n 50] [--debater qwen-0.5b --debater qwen-1.5b] [--out FILE.md]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from superalign.chat.client import get_chat_model
from superalign.evaluation.plots import save
from superalign.io import atomic_path
from superalign.oversight.items import load_items
from superalign.oversight.persuasion import cross_play, persuasion_table
from superalign.oversight.plots import persuasion_figure
from superalign.oversight.protocols import LADDER_SETTINGS, Settings

ITEMS = "bbc-cloze?max_chars=900"
SETTINGS = Settings(**LADDER_SETTINGS)  # the ladder's, so its 1.5B self-play arguments come from the cache


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--judge", default="qwen-0.5b")
    parser.add_argument("--debater", action="append", default=None)
    parser.add_argument("--out", default=None, help="also write the table to this Markdown file (and FILE.png)")
    args = parser.parse_args()
    debaters = [get_chat_model(name) for name in (args.debater or ["qwen-0.5b", "qwen-1.5b"])]
    matches = cross_play(load_items(ITEMS, args.n), debaters, get_chat_model(args.judge), SETTINGS, item_set=ITEMS)
    rows = persuasion_table(matches)
    lines = [f"{args.n} bbc-cloze items, every pairing of debaters (both orders judged, {len(matches)} debates); "
             f"judge {args.judge} (cloze)", "",
             "| debater | rating, right side | rating, wrong side | judge accuracy when it lies | "
             "judge accuracy when it is right | debates |", "|---|---|---|---|---|---|"]
    def cell(r: dict, key: str, fmt: str) -> str:
        return f"{r[key]:{fmt}} [{r[key + '_lo']:{fmt}}, {r[key + '_hi']:{fmt}}]"

    for r in rows:
        lines.append(f"| {r['config']} | {cell(r, 'rating_correct', '+.2f')} | {cell(r, 'rating_wrong', '+.2f')} | "
                     f"{cell(r, 'judge_accuracy_vs_it_lying', '.3f')} | {cell(r, 'judge_accuracy_with_it_honest', '.3f')} "
                     f"| {r['debates']} |")
    lines += ["", "95% intervals: bootstrap over items (each item's debates resampled together, ratings refitted)"]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with atomic_path(Path(args.out)) as tmp:
            tmp.write_text(text + "\n")
        save(persuasion_figure(rows), Path(args.out).with_suffix(""))


if __name__ == "__main__":
    main()
