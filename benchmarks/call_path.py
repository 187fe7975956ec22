"""The path of `superalign run SPEC.yaml` through superalign's code, from the CLI to the kind's `run` and to the
stored record: how many calls (stack frames in superalign) and files it passes, and how often it returns to a higher
layer (a lower layer calling back up: the engine calling a kind's run, for one). Not a timing: a measure of how
much code a reader follows to see what one run does.

    python benchmarks/call_path.py [KIND]      # w2s (default), shutdown, eval-calibration, alc

It runs one small run of the kind in a scratch home, in process, and prints both stacks and the totals.
"""

from __future__ import annotations

import inspect
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "superalign"
# the layers of tests/test_architecture.py: a part may import (and call down into) lower layers only
LAYERS = {"core": 0, "engine": 1, "data": 1, "decision": 1, "sandbox": 1, "models": 2, "shutdown": 2, "chat": 3,
          "w2s": 3, "runs": 4, "evaluation": 5, "oversight": 5, "alc": 5, "probes": 5, "researcher": 6, "report": 7,
          "cli": 8}
SPECS = {
    "w2s": "kind: w2s\ntask: digits\nweak: pca:4\nstrong: raw\n",
    "shutdown": "kind: shutdown\npart: tabular\nreward: drest\ntrain_layouts: [example]\nmeta_episodes: 5\neval_episodes: 5\n",
    "eval-calibration": "kind: eval-calibration\ntask: digits\nweak: pca:4\nstrong: raw\n",
    "alc": "kind: alc\ntask: digits\nweak: pca:4\nstrong: raw\nrounds: 1\nseeds: 1\n",
}


def _part(filename: str) -> str | None:
    path = Path(filename).resolve()
    if PACKAGE not in path.parents:
        return None
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else "core"


def superalign_stack() -> list[tuple[str, str, str]]:
    """(part, file, function) of every superalign frame on the stack, outermost first (this module excluded)."""
    frames = []
    for info in reversed(inspect.stack()[2:]):
        part = _part(info.filename)
        if part is not None:
            frames.append((part, str(Path(info.filename).resolve().relative_to(PACKAGE)), info.function))
    return frames


def main(kind_name: str = "w2s") -> None:
    home = tempfile.mkdtemp(prefix="superalign-callpath-")
    os.environ["SUPERALIGN_HOME"] = home
    os.environ.pop("SUPERALIGN_RUNS", None)
    spec = Path(home) / "spec.yaml"
    spec.write_text(SPECS[kind_name])

    from superalign.engine import KINDS
    from superalign.engine.store import RunStore

    kind = KINDS.get(kind_name)
    seen: dict[str, list] = {}
    original_run, original_put = kind.run, RunStore.put

    code = getattr(original_run, "__code__", None)
    run_frame = (_part(code.co_filename), str(Path(code.co_filename).resolve().relative_to(PACKAGE)),
                 code.co_name) if code and _part(code.co_filename) else ("engine", "?", "run")

    def run(config):
        seen.setdefault("run", superalign_stack() + [run_frame])  # the kind's own run function ends the path
        return original_run(config)

    def put(self, record):
        if record.get("kind") == kind_name:
            seen.setdefault("put", superalign_stack())
        return original_put(self, record)

    kind.run, RunStore.put = run, put
    from superalign.cli.main import main as cli

    try:
        cli(["run", str(spec)])
    except SystemExit:
        pass
    frames: list[tuple[str, str, str]] = []
    for name in ("run", "put"):
        stack = seen[name]
        print(f"\n{name}: {len(stack)} calls")
        for depth, (part, file, function) in enumerate(stack):
            print(f"  {'  ' * min(depth, 12)}{file}:{function}")
        frames += [f for f in stack if f not in frames]  # the shared prefix counted once
    ups = 0
    for stack in seen.values():
        ups += sum(LAYERS[b[0]] > LAYERS[a[0]] for a, b in zip(stack, stack[1:]))
    print(f"\n{kind_name}: {len(frames)} calls in {len({f[1] for f in frames})} files from the CLI to the kind's run "
          f"and the stored record; {ups} returns to a higher layer")


if __name__ == "__main__":
    main(*sys.argv[1:2])
