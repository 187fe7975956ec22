"""Comparison of researchers (agents and search baselines) on held-out PGR, and an agent's transcript."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from superalign.engine.store import RunStore
from superalign.metrics import correctness, pgr, pgr_of_means
from superalign.researcher.notebook import Notebook


def load_results(root: Path) -> list[dict[str, Any]]:
    """Every finished researcher run under `root` (one folder per run, with its evaluation.json)."""
    results = []
    for path in sorted(Path(root).glob("*/evaluation.json")):
        result = json.loads(path.read_text())
        result["run_dir"] = str(path.parent)
        results.append(result)
    return results


def _accuracies(result: dict[str, Any]) -> tuple[float, float, float]:
    h = result["held_out"]
    return tuple(float("nan") if h[k] is None else float(h[k]) for k in ("weak", "student", "ceiling"))


def _held_out_runs(result: dict[str, Any], store: RunStore) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None:
    """Per-example correctness of weak, student and ceiling in each held-out run of one researcher seed, from the
    run store; None where the evaluation predates its run keys or a record is missing."""
    keys = result["held_out"].get("records")
    if not keys or len(keys) != result["held_out"]["runs"]:
        return None
    runs = []
    for key in keys:
        record = store.get(key)
        if record is None or record.get("status") != "ok" or "test_correct" not in record["result"]:
            return None
        runs.append(tuple(correctness(record["result"]["test_correct"][m]) for m in ("weak", "student", "ceiling")))
    return runs


def compare(results: list[dict[str, Any]], store: RunStore | None = None) -> list[dict[str, Any]]:
    """One row per researcher: held-out PGR as the ratio of mean accuracies over its seeds, with a hierarchical
    bootstrap interval: the researcher's seeds are resampled (what varies between its runs: the method it
    chooses), and within each drawn seed every held-out run with its test examples resampled. A seed whose final
    method failed held out scores the weak supervisor's accuracy (PGR 0): counted, not dropped."""
    store = store or RunStore()
    rows = []
    by_policy: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_policy.setdefault(r["policy"], []).append(r)
    for policy, seeds in by_policy.items():
        runs, clusters, complete = [], [], True
        acc = np.array([[_num(r["held_out"][k]) for k in ("weak", "student", "ceiling")] for r in seeds])
        failed_seeds = np.array([bool(r["held_out"]["failed"]) or np.isnan(a[1]) for r, a in zip(seeds, acc)])
        acc[failed_seeds, 1] = acc[failed_seeds, 0]  # a failed method scores the weak labels' accuracy
        for i, r in enumerate(seeds):
            held = None if failed_seeds[i] else _held_out_runs(r, store)  # a failed run has no student to resample
            complete = complete and held is not None
            runs += held or []
            clusters += [i] * len(held or [])
        failed = int(failed_seeds.sum())
        # without per-example records for every seed: the point from the seeds' accuracies, and no interval
        estimate = pgr_of_means(runs, clusters=clusters) if complete else None
        weak, student, ceiling = acc.mean(0) if estimate is None else (estimate.weak, estimate.student, estimate.ceiling)
        finals = sorted({f"{r['final']['method']}" + (f" {json.dumps(r['final']['options'])}" if r['final']['options'] else "")
                         for r in seeds})
        dev = [r["dev"]["pgr"] for r in seeds if r.get("dev") and r["dev"]["pgr"] is not None]
        rows.append({"researcher": policy, "seeds": len(seeds), "experiments": float(np.mean([r["experiments"] for r in seeds])),
                     "dev_pgr": float(np.mean(dev)) if dev else float("nan"), "weak": float(weak),
                     "student": float(student), "ceiling": float(ceiling),
                     "pgr": estimate.pgr if estimate else pgr(weak, student, ceiling),
                     "lo": estimate.lo if estimate else float("nan"), "hi": estimate.hi if estimate else float("nan"),
                     "failed": failed, "flags": sum(len(r.get("flags", [])) for r in seeds), "finals": finals})
    return rows


def _num(value) -> float:
    return float("nan") if value is None else float(value)


def _f(x: float, fmt: str = "+.2f") -> str:
    return "n/a" if x is None or x != x else format(x, fmt)


HEADER = ["researcher", "seeds", "dev experiments", "mean dev PGR", "held-out weak", "held-out student",
          "held-out ceiling", "held-out PGR [95% CI]", "failed", "flagged attempts", "final methods"]
INTERVAL_NOTE = ("95% CI: hierarchical bootstrap over the researcher's seeds and, within each, its held-out runs and "
                 "their test examples; n/a where the held-out records are not in this store")


def table_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    return [[r["researcher"], str(r["seeds"]), f"{r['experiments']:g}", _f(r["dev_pgr"]), f"{r['weak']:.3f}",
             f"{r['student']:.3f}", f"{r['ceiling']:.3f}", f"{_f(r['pgr'])} [{_f(r['lo'])}, {_f(r['hi'])}]",
             str(r["failed"]), str(r["flags"]), "; ".join(r["finals"])[:200]] for r in rows]


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cells) + " |" for cells in table_rows(rows)]
    return "\n".join(lines + ["", INTERVAL_NOTE])


def transcript(run_dir: Path, width: int = 300) -> list[str]:
    """The agent's notebook, one line per entry, in order."""
    path = Path(run_dir) / "notebook.sqlite"
    if not path.exists():
        return []
    notebook = Notebook(path)
    try:
        return [e.line(width) for e in notebook.entries()]
    finally:
        notebook.close()


def agent_methods(run_dir: Path) -> dict[str, str]:
    """The method files the agent wrote: name -> source."""
    return {p.stem: p.read_text() for p in sorted((Path(run_dir) / "workspace" / "methods").glob("*.py"))}
