"""A weak-to-strong method written as a file (by a model, usually) and run only in the sandbox.

The file defines

    def fit_predict(transfer_x, transfer_weak, val_x, val_weak, query_x, n_classes, seed, **options):
        return probabilities  # [len(query_x), n_classes]

and sees only strong features and the weak supervisor's soft labels (the `weak-labels` budget): no ground truth
reaches the sandbox. Each call copies the file into a fresh scratch workspace with its inputs.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from superalign.errors import SuperalignError
from superalign.io import file_sha256
from superalign.sandbox.policy import Policy
from superalign.sandbox.runner import Limits, SandboxResult, run_python

HARNESS = Path(__file__).with_name("harness.py")


@dataclass
class MethodRun:
    probabilities: np.ndarray | None
    report: dict
    sandbox: SandboxResult
    events: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.report.get("ok")) and self.probabilities is not None

    def error(self) -> str:
        if self.sandbox.timed_out:
            return "timed out"
        return self.report.get("error") or self.sandbox.error_tail() or f"exit status {self.sandbox.returncode}"


def run_method_file(path: Path, arrays: dict[str, np.ndarray], n_classes: int, seed: int,
                    options: dict[str, Any] | None = None, contract: bool = False, limits: Limits | None = None,
                    protected: list[str] | None = None, sha256: str = "") -> MethodRun:
    path = Path(path)
    if not path.is_file():
        raise SuperalignError(f"method file {path} does not exist")
    if sha256 and file_sha256(path) != sha256:
        raise SuperalignError(f"method file {path} changed since it was recorded (SHA-256 differs); "
                              "record the new file's hash or restore it")
    with tempfile.TemporaryDirectory(prefix="superalign-sandbox-") as scratch:
        workspace = Path(scratch)
        shutil.copy(path, workspace / "method.py")
        np.savez(workspace / "inputs.npz", **{k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()})
        (workspace / "options.json").write_text(json.dumps({"n_classes": n_classes, "seed": seed,
                                                            "options": options or {}}))
        policy = Policy(workspace, protected=list(protected or []))
        args = [str(workspace / "method.py"), str(workspace)] + (["--contract"] if contract else [])
        result = run_python(HARNESS, policy, args, limits)
        report_path = workspace / "report.json"
        try:
            report = json.loads(report_path.read_text()) if report_path.exists() else {}
        except ValueError:
            report = {"error": "the sandbox wrote an unreadable report"}
        probs = None
        if report.get("ok") and (workspace / "outputs.npy").exists():
            probs = np.load(workspace / "outputs.npy", allow_pickle=False)
            if probs.shape != (len(arrays["query_x"]), n_classes) or not np.isfinite(probs).all():
                report = {"ok": False, "error": "outputs do not match the query", "checks": report.get("checks", [])}
                probs = None
            else:  # float rounding of the saved rows: exact probabilities for every metric downstream
                probs = probs / probs.sum(1, keepdims=True)
    return MethodRun(probs, report, result, result.events)
