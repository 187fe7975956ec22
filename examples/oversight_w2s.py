"""Oversight x W2SG on the language-model ladder (needs the LLM extra: make llm): W2S runs identical but for
where their weak labels come from, each a record of the run store.

  weak classifier                 a logistic head on MiniLM-L3 features, trained on weak_train
  judge, direct                   Qwen-0.5B (cloze log-probs, both answer orders) without the text
  judge, debate                   the same judge reading two Qwen-1.5B debaters who read the text
  judge, direct (reads the text)  the judge reading the text itself: its own ceiling

Every text of every split is judged (weak_train calibrates the judge; transfer and val are the student's
labels; test gives the supervisor's own accuracy, the "weak" of PGR). The student is an mpnet logistic head.

    python examples/oversight_w2s.py [--sizes 40,100,20,100] [--protocol direct --protocol debate]
                                     [--seed 0 --seed 1 ...] [--out FILE.md]

With several seeds (each draws other splits) every row pools them: accuracies are means over seeds, PGR the
ratio of those means, and the intervals resample seeds and the test examples within each.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from superalign.data.task import SplitSizes
from superalign.io import atomic_path
from superalign.oversight.w2s import (TABLE_HEADER, compare_label_sources, label_source_configs, per_seed_lines,
                                      table_cells)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="bbc-business-vs-tech")
    parser.add_argument("--sizes", default="40,100,20,100", help="weak_train,transfer,val,test")
    parser.add_argument("--protocol", action="append", default=None)
    parser.add_argument("--judge", default="qwen-0.5b")
    parser.add_argument("--debater", default="qwen-1.5b")
    parser.add_argument("--max-chars", type=int, default=900)
    parser.add_argument("--seed", type=int, action="append", default=None, help="repeat for several seeds")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    sizes = SplitSizes.parse(args.sizes)
    configs = label_source_configs(args.task, "minilm-l3", "mpnet", args.judge, args.debater,
                                   tuple(args.protocol or ("direct", "debate")), judge_reads_text=True,
                                   seeds=args.seed or [0], splits=sizes, max_chars=args.max_chars)
    rows = compare_label_sources(configs)
    n, seeds = rows[0]["n"], args.seed or [0]
    lines = [f"{args.task}: {n['weak_train']} weak_train, {n['transfer']} transfer, {n['val']} val, {n['test']} test "
             f"examples a seed, seed{'s' * (len(seeds) > 1)} {', '.join(map(str, seeds))}; judge {args.judge}, "
             f"debaters {args.debater}; student mpnet (logistic head)", "",
             "| " + " | ".join(TABLE_HEADER) + " |", "|" + "---|" * len(TABLE_HEADER)]
    lines += ["| " + " | ".join(table_cells(r)) + " |" for r in rows]
    lines += ["", "Accuracies are means over seeds and PGR the ratio of those means; intervals resample seeds and the "
              "test examples within each; the last column is paired on the same test examples; ⚑: a mean gap under "
              "15 test examples or a seed's under 3."]
    if len(seeds) > 1:
        lines += ["", "Student test accuracy by seed (its difference to the student on the blind judge's labels):", ""]
        lines += [f"- {line}" for line in per_seed_lines(rows)]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with atomic_path(Path(args.out)) as tmp:
            tmp.write_text(text + "\n")


if __name__ == "__main__":
    main()
