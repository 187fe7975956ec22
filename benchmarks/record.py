"""One row of docs/benchmarks.md: what a benchmark measured, ours beside the baseline a user would otherwise use.

    from record import row
    row("featurize 1,000 BBC texts, MiniLM-L6", "623 texts/s", "SentenceTransformer.encode 244 texts/s", "2.55x")

Printed always; also appended as a JSON line to $BENCH_OUT when `benchmarks/make_page.py` (`make bench`) runs the
script, which keeps them in benchmarks/results/<script>.json, stamped, and writes the page from those files.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def row(benchmark: str, ours: str, baseline: str, ratio: str, note: str = "") -> None:
    script = Path(sys.argv[0]).name
    print(f"[{script}] {benchmark}: ours {ours}; baseline {baseline}; {ratio}" + (f" ({note})" if note else ""))
    out = os.environ.get("BENCH_OUT")
    if out:
        with open(out, "a") as f:
            f.write(json.dumps({"script": f"benchmarks/{script}", "benchmark": benchmark, "ours": ours,
                                "baseline": baseline, "ratio": ratio, "note": note}) + "\n")
