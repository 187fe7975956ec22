"""Comparison of researchers (agents and search baselines) on held-out PGR, and an agent's transcript."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

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


def _ratio(acc: np.ndarray) -> float:
    weak, student, ceiling = acc.mean(0)
    return (student - weak) / (ceiling - weak) if ceiling - weak > 0 else float("nan")


def compare(results: list[dict[str, Any]], n_boot: int = 4000, seed: int = 0) -> list[dict[str, Any]]:
    """One row per researcher: held-out PGR as the ratio of mean accuracies over its seeds, with an interval
    that resamples seeds (what varies between runs of a researcher); failed held-out runs are counted, not
    dropped (a seed whose final method failed scores the weak supervisor's accuracy: PGR 0)."""
    rows = []
    by_policy: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_policy.setdefault(r["policy"], []).append(r)
    rng = np.random.default_rng(seed)
    for policy, runs in by_policy.items():
        acc, failed = [], 0
        for r in runs:
            weak, student, ceiling = _accuracies(r)
            if r["held_out"]["failed"] or math.isnan(student):
                failed += 1
                student = weak
            acc.append((weak, student, ceiling))
        acc = np.array(acc)
        point = _ratio(acc)
        if len(runs) > 1:
            draws = [_ratio(acc[rng.integers(0, len(runs), len(runs))]) for _ in range(n_boot)]
            lo, hi = np.nanpercentile(draws, [2.5, 97.5])
        else:
            lo = hi = float("nan")
        finals = sorted({f"{r['final']['method']}" + (f" {json.dumps(r['final']['options'])}" if r['final']['options'] else "")
                         for r in runs})
        dev = [r["dev"]["pgr"] for r in runs if r.get("dev") and r["dev"]["pgr"] is not None]
        rows.append({"researcher": policy, "seeds": len(runs), "experiments": float(np.mean([r["experiments"] for r in runs])),
                     "dev_pgr": float(np.mean(dev)) if dev else float("nan"), "weak": float(acc[:, 0].mean()),
                     "student": float(acc[:, 1].mean()), "ceiling": float(acc[:, 2].mean()), "pgr": point,
                     "lo": float(lo), "hi": float(hi), "failed": failed,
                     # one seed: the held-out evaluation's own interval (held-out runs and test examples resampled)
                     "eval_lo": _num(runs[0]["held_out"]["lo"]) if len(runs) == 1 else float("nan"),
                     "eval_hi": _num(runs[0]["held_out"]["hi"]) if len(runs) == 1 else float("nan"),
                     "flags": sum(len(r.get("flags", [])) for r in runs), "finals": finals})
    return rows


def _num(value) -> float:
    return float("nan") if value is None else float(value)


def _f(x: float, fmt: str = "+.2f") -> str:
    return "n/a" if x is None or x != x else format(x, fmt)


def markdown(rows: list[dict[str, Any]]) -> str:
    header = ["researcher", "seeds", "dev experiments", "mean dev PGR", "held-out weak", "held-out student",
              "held-out ceiling", "held-out PGR [95% CI over seeds]", "one seed: CI over held-out runs", "failed",
              "flagged attempts", "final methods"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        interval = f"[{_f(r['lo'])}, {_f(r['hi'])}]"
        lines.append("| " + " | ".join([r["researcher"], str(r["seeds"]), f"{r['experiments']:g}", _f(r["dev_pgr"]),
                                        f"{r['weak']:.3f}", f"{r['student']:.3f}", f"{r['ceiling']:.3f}",
                                        f"{_f(r['pgr'])} {interval}",
                                        "" if r["eval_lo"] != r["eval_lo"] else f"[{_f(r['eval_lo'])}, {_f(r['eval_hi'])}]",
                                        str(r["failed"]), str(r["flags"]),
                                        "; ".join(r["finals"])[:200]]) + " |")
    return "\n".join(lines)


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
