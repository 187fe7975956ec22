"""What the sandbox costs: one agent-written method (`fit_predict`, scikit-learn logistic regression) run in the
sandbox (bubblewrap namespaces, seccomp, fresh interpreter, audit hook, limits, inputs through files) against the same
function called in this process (what a user without a sandbox would do), on digits PCA-4 -> raw features.

Prints the seconds of each (median of 5), the ratio, and whether the predictions agree exactly.
"""

from __future__ import annotations

import importlib.util
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from record import row
from superalign.sandbox.method_file import run_method_file
from superalign.w2s.pipeline import ExperimentConfig, train_models

METHOD = '''import numpy as np
from sklearn.linear_model import LogisticRegression


def fit_predict(transfer_x, transfer_weak, val_x, val_weak, query_x, n_classes, seed):
    clf = LogisticRegression(max_iter=1000, random_state=seed).fit(transfer_x, transfer_weak.argmax(1))
    probs = np.zeros((len(query_x), n_classes))
    probs[:, clf.classes_] = clf.predict_proba(query_x)
    return probs
'''


def main() -> None:
    t = train_models(ExperimentConfig(task="digits", weak="pca:4", strong="raw"))
    s = t.splits
    arrays = {"transfer_x": t.x_strong[s.transfer], "transfer_weak": t.weak_transfer, "val_x": t.x_strong[s.val],
              "val_weak": t.weak_head.predict_proba(t.x_weak[s.val]), "query_x": t.x_strong[s.test]}
    arrays = {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "method.py"
        path.write_text(METHOD)
        spec = importlib.util.spec_from_file_location("bench_method", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        in_process, sandboxed = [], []
        for _ in range(5):
            start = time.perf_counter()
            direct = module.fit_predict(**{k: v.copy() for k, v in arrays.items()}, n_classes=10, seed=0)
            in_process.append(time.perf_counter() - start)
            start = time.perf_counter()
            run = run_method_file(path, arrays, 10, 0)
            sandboxed.append(time.perf_counter() - start)
            assert run.ok, run.error()
    ours, base = statistics.median(sandboxed), statistics.median(in_process)
    agree = float((run.probabilities.argmax(1) == direct.argmax(1)).mean())
    print(f"sandboxed {ours:.2f} s, in process {base:.2f} s: the sandbox costs {ours / base:.1f}x "
          f"({ours - base:.2f} s a call, mostly a fresh interpreter importing scikit-learn); "
          f"seccomp filter: {run.sandbox.seccomp}; predictions agree on {agree:.3f} of test")
    row("an agent-written method (digits PCA-4 -> raw) in the sandbox: bubblewrap, seccomp, audit hook, limits",
        f"{ours:.2f} s a call", f"called in process {base:.2f} s", f"{base / ours:.2f}x",
        f"{ours / base:.1f}x slower; predictions agree on {agree:.3f} of test")


if __name__ == "__main__":
    main()
