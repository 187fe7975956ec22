"""`make bench`: runs the benchmarks and writes docs/benchmarks.md from the rows they record. Nothing on that page is
typed by hand.

    python benchmarks/make_page.py                       # the CPU benchmarks (about 10 minutes on 2 cores)
    python benchmarks/make_page.py --llm                 # also the language-model ones (needs `make llm`; about an hour)
    python benchmarks/make_page.py --only oversight.py   # one script (repeatable); the other scripts' rows stay
    python benchmarks/make_page.py --render              # the page again from the stored rows, running nothing

Each script's rows are kept in benchmarks/results/<script>.json with where they were measured (commit, package
versions, CPU, date, seconds), and the page is written from all of those files: scripts run at different times,
or on different machines, add up, and each row's stamp says where it came from. A script that fails keeps its
earlier rows, and the page names its error line.
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
sys.path.insert(0, str(ROOT / "src"))  # run as a script, before or without `pip install -e .`
RESULTS = ROOT / "benchmarks" / "results"
PAGE = ROOT / "docs" / "benchmarks.md"
CPU = ["cli.py", "heads.py", "featurize.py", "featurize.py --model mpnet", "pipeline.py", "sandbox.py", "sweep.py",
       "lora_rm.py"]
LLM = ["llm.py", "oversight.py", "llama_batching.py"]
INTRO = """# Speed

Every row is ours beside the baseline a user would otherwise use, measured side by side in one run of the script
named in its row. `make bench` runs the CPU benchmarks and writes this page; `python benchmarks/make_page.py --llm`
adds the language-model ones (llama.cpp, the oversight throughput), which need `make llm`, and `--only SCRIPT`
runs one script. Each script's rows are kept in `benchmarks/results/` with where they were measured, so the rows
below can come from different commits and days: the stamps under the table say which.
"""


def result_file(script: str) -> Path:
    """`featurize.py --model mpnet` -> benchmarks/results/featurize---model-mpnet.json"""
    return RESULTS / (script.replace(".py", "").replace(" ", "-") + ".json")


def run_script(script: str) -> dict:
    """Runs one benchmark script and returns its stored result: the rows it recorded, stamped, or (keeping the
    rows of an earlier run) its error line."""
    from superalign.engine.record import cpu_name, git_revision, package_versions

    # Where, read before the script runs: its rows name the code it started with, not a commit made meanwhile.
    where = {"commit": git_revision(), "packages": package_versions(), "cpu": cpu_name(),
             "date": time.strftime("%Y-%m-%d")}
    name, *options = script.split()
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as record:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), *options], cwd=ROOT,
                              env={**os.environ, "BENCH_OUT": record.name, "SUPERALIGN_PROGRESS": "0"},
                              capture_output=True, text=True)
        seconds = round(time.perf_counter() - start)
        rows = [json.loads(line) for line in Path(record.name).read_text().splitlines() if line.strip()]
    print(done.stdout, end="")
    where["seconds"] = seconds
    if done.returncode != 0 or not rows:
        error = (done.stderr.strip().splitlines() or ["no rows and no error output"])[-1]
        print(f"{script} failed: {error}", file=sys.stderr)
        earlier = load(script) or {"script": script, "rows": []}
        return {**earlier, "failed": {"error": error, **where}}
    return {"script": script, "rows": rows, **where}


def load(script: str) -> dict | None:
    path = result_file(script)
    return json.loads(path.read_text()) if path.exists() else None


def save(result: dict) -> None:
    from superalign.io import atomic_path

    RESULTS.mkdir(parents=True, exist_ok=True)
    with atomic_path(result_file(result["script"])) as tmp:
        tmp.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")


def render() -> str:
    """The page, from the stored results alone (the same files give the same page on any machine)."""
    from superalign.report.docs import stamp_line

    results = [(script, load(script)) for script in CPU + LLM]
    stored = [(script, result) for script, result in results if result]
    lines = [INTRO, "| benchmark | ours | baseline | ratio | script |", "|---|---|---|---|---|"]
    lines += [f"| {r['benchmark']}{' (' + r['note'] + ')' if r['note'] else ''} | {r['ours']} | {r['baseline']} | "
              f"**{r['ratio']}** | `{r['script']}` |" for _, result in stored for r in result["rows"]]
    lines += ["", "Where the rows were measured (scripts measured together share a stamp):", ""]
    groups: dict[str, list] = {}  # scripts with the same commit, packages, CPU and date, in page order
    for script, result in stored:
        if result["rows"]:
            where = json.dumps([result[k] for k in ("commit", "packages", "cpu", "date")], sort_keys=True)
            groups.setdefault(where, []).append((script, result))
    for members in groups.values():
        first = members[0][1]
        n = sum(len(result["rows"]) for _, result in members)
        seconds = [result.get("seconds") for _, result in members]
        timing = f" in {sum(seconds)} s" if None not in seconds else ""
        lines.append("- " + stamp_line(", ".join(f"benchmarks/{script}" for script, _ in members),
                                       f"{n} row{'s' if n != 1 else ''}{timing}", [first["commit"]],
                                       versions=first["packages"], cpus=[first["cpu"]], day=first["date"]))
    failed = [(script, result["failed"]) for script, result in stored if result.get("failed")]
    if failed:
        lines += ["", "Scripts whose last run failed (their earlier rows, if any, are above): " + "; ".join(
            f"`benchmarks/{script}` on {f['date']}: {f['error']}" for script, f in failed)]
    missing = [script for script, result in results if not result]
    if missing:
        lines += ["", "Not run yet: " + ", ".join(f"`benchmarks/{s}`" for s in missing) +
                  (" (`python benchmarks/make_page.py --llm`, with `make llm`)" if set(missing) & set(LLM) else "")
                  + "."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--llm", action="store_true", help="also the language-model benchmarks")
    parser.add_argument("--only", action="append", default=[], metavar="SCRIPT",
                        help=f"run only this script (repeatable), one of: {', '.join(CPU + LLM)}")
    parser.add_argument("--render", action="store_true", help="write the page from the stored rows; run nothing")
    args = parser.parse_args()
    unknown = [s for s in args.only if s not in CPU + LLM]
    if unknown:
        print(f"no benchmark {unknown[0]!r}: --only takes one of {', '.join(CPU + LLM)}", file=sys.stderr)
        raise SystemExit(2)
    scripts = [] if args.render else args.only or CPU + (LLM if args.llm else [])
    for script in scripts:
        save(run_script(script))
    from superalign.io import atomic_path

    with atomic_path(PAGE) as tmp:
        tmp.write_text(render())
    print(f"wrote {PAGE.relative_to(ROOT)} from benchmarks/results/ ({len(scripts)} scripts run now)")


if __name__ == "__main__":
    main()
