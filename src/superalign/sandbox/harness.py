"""Runs a method file inside the sandbox: `fit_predict` on the inputs the parent put in the workspace, with the
contract checks. Started by the guard as a script, so it imports nothing the method could not.

    inputs.npz   transfer_x, transfer_weak, val_x, val_weak, query_x (no ground truth anywhere)
    options.json n_classes, seed, options
    -> outputs.npy (query probabilities) and report.json (which checks passed)
"""

from __future__ import annotations

import importlib.util
import json
import sys
import traceback

import numpy as np


def _load(path: str):
    spec = importlib.util.spec_from_file_location("agent_method", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check_probabilities(probs, n: int, k: int) -> str | None:
    probs = np.asarray(probs)
    if probs.shape != (n, k):
        return f"fit_predict returned shape {probs.shape}, expected ({n}, {k})"
    if not np.isfinite(probs).all():
        return "fit_predict returned non-finite values"
    if (probs < 0).any() or not np.allclose(probs.sum(1), 1, atol=1e-4):
        return "fit_predict's rows are not probabilities (non-negative, summing to 1)"
    return None


def _format(exc: BaseException) -> str:
    """The traceback, less the monitor's own frames at the end of a refusal (the monitor refuses reads of them)."""
    entries = []
    tb = exc.__traceback__
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    if isinstance(exc, PermissionError) and str(exc).startswith("sandbox:"):
        entries = entries[:-2]  # the hook (or the process stub) and its report
    stack = traceback.StackSummary.extract((entry.tb_frame, entry.tb_lineno) for entry in entries)
    return "".join(["Traceback (most recent call last):\n", *stack.format(),
                    *traceback.format_exception_only(type(exc), exc)])


def main(method_path: str, exchange: str, contract: bool) -> int:
    report: dict = {"checks": [], "ok": False}
    try:
        with open(f"{exchange}/options.json") as f:
            spec = json.load(f)
        data = np.load(f"{exchange}/inputs.npz", allow_pickle=False)
        arrays = {name: data[name] for name in ("transfer_x", "transfer_weak", "val_x", "val_weak", "query_x")}
        module = _load(method_path)
        report["checks"].append("imports")
        fit_predict = getattr(module, "fit_predict", None)
        if not callable(fit_predict):
            raise TypeError("the method file defines no function fit_predict(transfer_x, transfer_weak, val_x, "
                            "val_weak, query_x, n_classes, seed, **options)")
        k, n = spec["n_classes"], len(arrays["query_x"])

        def call():
            return np.asarray(fit_predict(**{k_: v.copy() for k_, v in arrays.items()}, n_classes=k,
                                          seed=spec["seed"], **spec["options"]), dtype=np.float64)

        probs = call()
        if problem := _check_probabilities(probs, n, k):
            raise ValueError(problem)
        report["checks"].append("probabilities")
        if contract:
            if not np.allclose(call(), probs, atol=1e-6):
                raise ValueError("fit_predict is not deterministic for a fixed seed")
            report["checks"].append("deterministic")
        np.save(f"{exchange}/outputs.npy", probs, allow_pickle=False)
        report["ok"] = True
    except Exception as exc:  # reported to the parent, which decides what it means
        report["error"] = f"{type(exc).__name__}: {exc}"
        report["traceback"] = _format(exc)[-3000:]
    with open(f"{exchange}/report.json", "w") as f:
        json.dump(report, f)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], "--contract" in sys.argv[3:]))
