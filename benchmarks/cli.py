"""Start-up time of the CLI: `superalign --help` and a cache-hit `superalign embed`, against the same commands
with every command module imported up front (what the CLI did before commands were loaded lazily).

Each timing is the median of 5 fresh processes (wall clock, interpreter start included).
Usage: python benchmarks/cli.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from record import row

EAGER = ("import runpy, sys, importlib\n"
         "from superalign.cli.main import COMMANDS\n"
         "for module, _, _ in COMMANDS.values(): importlib.import_module(module)\n"
         "sys.argv = ['superalign', *sys.argv[1:]]\n"
         "runpy.run_module('superalign.cli.main', run_name='__main__')\n")


def median_seconds(cmd: list[str], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "SUPERALIGN_PROGRESS": "0"})
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    embed = ["embed", "--task", "bbc-news", "--model", "minilm-l3"]
    subprocess.run([sys.executable, "-m", "superalign.cli.main", *embed], check=True, capture_output=True)  # fill the cache
    for label, args in (("superalign --help", ["--help"]), ("superalign embed (cache hit)", embed)):
        lazy = median_seconds([sys.executable, "-m", "superalign.cli.main", *args])
        eager = median_seconds([sys.executable, "-c", EAGER, *args])
        print(f"{label:30} lazy {lazy:5.2f}s   every command imported {eager:5.2f}s   {eager / lazy:4.1f}x")
        row(f"`{label}` (median of 5 processes)", f"{lazy:.2f} s", f"every command module imported up front {eager:.2f} s",
            f"{eager / lazy:.1f}x")


if __name__ == "__main__":
    main()
