"""A ~100-run sweep on cached features with 1 and 2 workers: local process pool and Ray, side by side.

Each configuration runs into its own fresh store (so nothing is skipped) on the same cached features;
prints wall times and the speed-up of 2 workers over 1 for each executor.
"""

from __future__ import annotations

import os
import tempfile
import time

from record import row
from superalign.engine.store import RunStore
from superalign.runs.sweep import expand, run_sweep
from superalign.w2s.kind import prefeaturize

SPEC = {"tasks": ["digits"], "ladder": ["pca:2", "pca:8", "raw"],
        "methods": ["naive", "aux-conf", "selective", "weak-ensemble", "knn-relabel"], "seeds": 7}


def timed(executor: str, jobs: int, configs) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(os.path.join(tmp, "runs.sqlite"))
        start = time.perf_counter()
        run_sweep(configs, store, executor=executor, jobs=jobs)
        seconds = time.perf_counter() - start
        assert store.count() == len(configs)
    return seconds


def main() -> None:
    configs = expand(SPEC)
    prefeaturize(configs)
    print(f"{len(configs)} runs on {os.cpu_count()} CPU cores (features cached)")
    results = {}
    for executor in ("process", "ray"):
        for jobs in (1, 2):
            try:
                results[(executor, jobs)] = timed(executor, jobs, configs)
            except Exception as exc:  # Ray not installed: say so, keep the rest
                print(f"{executor} x{jobs}: not run ({exc})")
                continue
            print(f"{executor:8} {jobs} worker(s): {results[(executor, jobs)]:6.1f}s")
    for executor in ("process", "ray"):
        if (executor, 1) in results and (executor, 2) in results:
            print(f"{executor}: 2 workers are {results[(executor, 1)] / results[(executor, 2)]:.2f}x faster than 1")
            row(f"a {len(configs)}-run sweep (features cached), {executor} executor", f"2 workers {results[(executor, 2)]:.1f} s",
                f"1 worker {results[(executor, 1)]:.1f} s", f"{results[(executor, 1)] / results[(executor, 2)]:.2f}x",
                f"{os.cpu_count()} CPU cores")


if __name__ == "__main__":
    main()
