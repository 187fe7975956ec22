"""Debater persuasiveness on the language-model ladder (needs the LLM extra: make llm): SmolLM2-135M, Qwen-0.5B,
Qwen-0.5B best-of-4 and Qwen-1.5B debaters (the default; --debater picks, NAME*N for best-of-N) in every pairing
(self-play and cross-play) on the first N `bbc-cloze` items of the ladder experiment, judged by the Qwen-0.5B cloze
judge with the ladder's debate settings (examples/oversight_ladder.py), so the 1.5B self-play arguments come from
the request cache. In one simultaneous round a debater's argument does not depend on its opponent, so each
configuration argues each side of an item once and the pairings cost judging only. Prints each configuration's
Bradley-Terry ratings (arguing the right and the wrong answer, and their mean) next to the judge's accuracy in its
debates and in its self-play (Khan et al. 2024: judge accuracy against persuasiveness), and writes the figure.

    python examples/oversight_persuasion.py [--n 50] [--debater qwen-0.5b --debater 'qwen-1.5b*4'] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from superalign.chat.client import get_chat_model
from superalign.evaluation.plots import save
from superalign.io import atomic_path
from superalign.oversight.items import load_items
from superalign.oversight.persuasion import cross_play, persuasion_table, rating_difference
from superalign.oversight.plots import persuasion_figure
from superalign.oversight.protocols import LADDER_SETTINGS, Settings

ITEMS = "bbc-cloze?max_chars=900"
SETTINGS = Settings(**LADDER_SETTINGS)  # the ladder's, so its 1.5B self-play arguments come from the cache


DEBATERS = ["smollm2-llama", "qwen-0.5b", "qwen-0.5b*4", "qwen-1.5b"]


_LOADED: dict = {}


def model(name: str):
    """One client per model name, so the judge and a debater on the same weights load them once."""
    if name not in _LOADED:
        _LOADED[name] = get_chat_model(name)
    return _LOADED[name]


def debater(spec: str):
    """A debater configuration: a chat model's name, or NAME*N for its best-of-N (the judge's model picks)."""
    name, _, n = spec.partition("*")
    if n and not (n.isdigit() and int(n) > 1):
        raise SystemExit(f"--debater {spec}: write NAME*N with N a whole number above 1 (qwen-0.5b*4), or NAME")
    return (model(name), int(n)) if n else model(name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--judge", default="qwen-0.5b")
    parser.add_argument("--debater", action="append", default=None)
    parser.add_argument("--out", default=None, help="also write the table to this Markdown file (and FILE.png)")
    args = parser.parse_args()
    debaters = [debater(spec) for spec in (args.debater or DEBATERS)]
    matches = cross_play(load_items(ITEMS, args.n), debaters, model(args.judge), SETTINGS, item_set=ITEMS)
    rows = persuasion_table(matches)
    lines = [f"{args.n} bbc-cloze items, every pairing of debaters (both orders judged, {len(matches)} debates); "
             f"judge {args.judge} (cloze)", "",
             "| debater | rating, right side | rating, wrong side | mean rating | judge accuracy when it lies | "
             "judge accuracy when it is right | judge accuracy, self-play | debates |",
             "|---|---|---|---|---|---|---|---|"]
    def cell(r: dict, key: str, fmt: str) -> str:
        return f"{r[key]:{fmt}} [{r[key + '_lo']:{fmt}}, {r[key + '_hi']:{fmt}}]"

    for r in rows:
        lines.append(f"| {r['config']} | {cell(r, 'rating_correct', '+.2f')} | {cell(r, 'rating_wrong', '+.2f')} | "
                     f"{cell(r, 'rating', '+.2f')} | {cell(r, 'judge_accuracy_vs_it_lying', '.3f')} | "
                     f"{cell(r, 'judge_accuracy_with_it_honest', '.3f')} | {cell(r, 'judge_accuracy_self_play', '.3f')} "
                     f"| {r['debates']} |")
    lines += ["", "95% intervals: bootstrap over items (each item's debates resampled together, ratings refitted)"]
    configs = {r["config"] for r in rows}
    for config in sorted(configs):  # a best-of-N configuration against the same model arguing greedily
        base = re.sub(r", best-of \d+", "", config)
        if base != config and base in configs:
            d = rating_difference(matches, config, base)
            parts = [f"{side} {d[key]['difference']:+.2f} [{d[key]['lo']:+.2f}, {d[key]['hi']:+.2f}]"
                     for side, key in [("right side", "correct"), ("wrong side", "wrong"), ("mean", "rating")]]
            lines.append(f"rating of {config} - {base} (paired over items): " + "; ".join(parts))
    text = "\n".join(lines)
    print(text)
    if args.out:
        with atomic_path(Path(args.out)) as tmp:
            tmp.write_text(text + "\n")
        save(persuasion_figure(rows), Path(args.out).with_suffix(""))


if __name__ == "__main__":
    main()
