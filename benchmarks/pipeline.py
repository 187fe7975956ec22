"""Cold vs warm time of the default `superalign run` (a fresh superalign home, then the same again).

Cold includes assembling mpnet, featurizing with three encoders and training every run; warm is
served from the activation cache and the run store.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from record import row


def timed_run(env) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "superalign.cli.main", "run"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "SUPERALIGN_HOME": home, "SUPERALIGN_PROGRESS": "0"}
        cold = timed_run(env)
        warm = timed_run(env)
    print(f"default run: cold {cold:.1f}s, warm {warm:.1f}s, warm is {cold / warm:.1f}x faster")
    row("the default `superalign run` (40 runs) again, from the activation cache and the run store", f"warm {warm:.1f} s",
        f"cold {cold:.1f} s (featurizing included)", f"{cold / warm:.1f}x")


if __name__ == "__main__":
    main()
