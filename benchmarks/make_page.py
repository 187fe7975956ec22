"""`make bench`: runs the benchmarks and writes docs/benchmarks.md from the rows they record, stamped with the
commit, the package versions, the CPU and the date. Nothing on that page is typed by hand.

    python benchmarks/make_page.py                 # the CPU benchmarks (about 10 minutes on 2 cores)
    python benchmarks/make_page.py --llm           # also the language-model ones (needs `make llm`; about an hour)

A script that fails is named on the page with its error line; the others' rows stay.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CPU = ["cli.py", "heads.py", "featurize.py", "featurize.py --model mpnet", "pipeline.py", "sandbox.py", "sweep.py",
       "lora_rm.py"]
LLM = ["llm.py", "oversight.py", "llama_batching.py"]
INTRO = """# Speed

Every row is ours beside the baseline a user would otherwise use, measured side by side in one run of the script
named in its row. `make bench` runs the CPU benchmarks and writes this page; `python benchmarks/make_page.py --llm`
adds the language-model ones (llama.cpp, the oversight throughput), which need `make llm`.
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--llm", action="store_true", help="also the language-model benchmarks")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from superalign.engine.record import cpu_name
    from superalign.report.docs import stamp_line

    rows, failed = [], []
    start = time.perf_counter()
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as record:
        for script in CPU + (LLM if args.llm else []):
            name, *options = script.split()
            done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), *options], cwd=ROOT,
                                  env={**os.environ, "BENCH_OUT": record.name, "SUPERALIGN_PROGRESS": "0"},
                                  capture_output=True, text=True)
            print(done.stdout, end="")
            if done.returncode != 0:
                failed.append((script, (done.stderr.strip().splitlines() or ["no output"])[-1]))
        rows = [json.loads(line) for line in Path(record.name).read_text().splitlines() if line.strip()]
    lines = [INTRO, "| benchmark | ours | baseline | ratio | script |", "|---|---|---|---|---|"]
    lines += [f"| {r['benchmark']}{' (' + r['note'] + ')' if r['note'] else ''} | {r['ours']} | {r['baseline']} | "
              f"**{r['ratio']}** | `{r['script']}` |" for r in rows]
    lines += ["", stamp_line("make bench" + (" (with --llm)" if args.llm else ""),
                             f"{len(rows)} rows in {time.perf_counter() - start:.0f} s on {os.cpu_count()} cores")]
    if failed:
        lines += ["", "Scripts that failed on this machine: " + "; ".join(f"`{s}`: {e}" for s, e in failed)]
    if not args.llm:
        lines += ["", "Not run by `make bench`: " + ", ".join(f"`benchmarks/{s}`" for s in LLM) + " (language models)."]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out} ({len(rows)} rows; {cpu_name()})")


if __name__ == "__main__":
    main()
