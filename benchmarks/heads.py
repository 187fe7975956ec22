"""Our logistic head vs scikit-learn's LogisticRegression on the same cached features.

Both standardise inside the timed fit (our head does; for scikit-learn the usual
`make_pipeline(StandardScaler(), LogisticRegression())`), same C (fixed, no selection), same
train/test split; prints accuracy of both and the speed ratio (median of 11 fits each).
"""

from __future__ import annotations

import statistics

from record import row
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from superalign.data.registry import load_task
from superalign.data.task import make_splits
from superalign.models.cache import featurize
from superalign.w2s.heads import LogisticHead


def timed(fn, repeats=11):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    print(f"{'task':24} {'encoder':10} {'ours acc':>8} {'sk acc':>8} {'ours s':>8} {'sk s':>8} {'speed-up':>8}")
    total_ours = total_sk = 0.0
    for task_name in ["bbc-news", "bbc-business-vs-rest"]:
        task = load_task(task_name)
        splits = make_splits(task)
        for encoder in ["minilm-l3", "minilm-l6", "mpnet"]:
            x = np.asarray(featurize(task, encoder))
            xtr, ytr, xte, yte = x[splits.transfer], task.labels[splits.transfer], x[splits.test], task.labels[splits.test]
            t_ours, ours = timed(lambda: LogisticHead(C=1.0).fit(xtr, ytr))
            t_sk, sk = timed(lambda: make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000)).fit(xtr, ytr))
            acc_ours = (ours.predict(xte) == yte).mean()
            acc_sk = (sk.predict(xte) == yte).mean()
            total_ours, total_sk = total_ours + t_ours, total_sk + t_sk
            print(f"{task_name:24} {encoder:10} {acc_ours:8.3f} {acc_sk:8.3f} {t_ours:8.3f} {t_sk:8.3f} {t_sk / t_ours:7.2f}x")
            row(f"logistic head, {task_name}, {encoder} features ({len(xtr)} rows), standardising included",
                f"{t_ours * 1000:.0f} ms (acc {acc_ours:.3f})",
                f"`StandardScaler` + `LogisticRegression` {t_sk * 1000:.0f} ms (acc {acc_sk:.3f})", f"{t_sk / t_ours:.1f}x")
    print(f"all six fits: ours {total_ours:.3f}s, scikit-learn {total_sk:.3f}s, speed-up {total_sk / total_ours:.1f}x")


if __name__ == "__main__":
    main()
