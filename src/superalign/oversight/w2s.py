"""Oversight x W2SG: weak labels that come from a judge's verdicts instead of a weak classifier.

On a binary BBC task, the transfer examples become oversight items (the debaters read the text; the
judge sees only their arguments). A strong student is trained (naive, soft labels from the verdict
confidence) on each label source, and compared on test with the ceiling trained on the same examples'
ground truth: weak classifier labels vs the unassisted judge vs the protocol-assisted judge.
"""

from __future__ import annotations

import numpy as np

from superalign.data.registry import load_task
from superalign.data.task import make_splits
from superalign.errors import SuperalignError
from superalign.metrics import pgr
from superalign.models.cache import featurize
from superalign.chat.client import ChatClient
from superalign.oversight.items import OversightItem
from superalign.oversight.protocols import Settings
from superalign.oversight.runner import run_protocol
from superalign.w2s.heads import LogisticHead


def verdict_labels(record: dict, label_names: list[str]) -> tuple[np.ndarray, int]:
    """Soft labels `[items, 2]` from the verdicts of both orders (confidence-weighted); unparseable ones count 0.5.

    Items appear in the record in the order they were given.
    """
    n = record["config"]["n_items"]
    transcripts = record["result"]["transcripts"]
    if transcripts and all(t.get("log_odds") is not None for t in transcripts):
        return _logprob_labels(transcripts, n, label_names), 0
    votes = np.zeros((n, 2))
    unparseable = 0
    index = {}
    for t in record["result"]["transcripts"]:
        i = index.setdefault(t["item_id"], len(index))
        if t["verdict"] is None:
            votes[i] += 0.5
            unparseable += 1
            continue
        confidence = t["confidence"] if t["confidence"] is not None else 0.75
        chosen = t["answers_shown"][t["verdict"]]
        label = 0 if chosen == label_names[0] else 1
        votes[i, label] += confidence
        votes[i, 1 - label] += 1 - confidence
    return votes / votes.sum(1, keepdims=True), unparseable


def _logprob_labels(transcripts: list[dict], n: int, label_names: list[str]) -> np.ndarray:
    """A log-prob judge's soft labels: sigmoid of the order-averaged signal s = (z0 - z1) / 2, so the position
    bias cancels (the judging module's definition)."""
    from superalign.oversight.judging import signal_and_bias

    index: dict[str, int] = {}
    z: dict[tuple[int, bool], float] = {}
    first: dict[int, str] = {}
    for t in transcripts:
        i = index.setdefault(t["item_id"], len(index))
        z[(i, t["swapped"])] = t["log_odds"]
        if not t["swapped"]:
            first[i] = t["answers_shown"][0]
    labels = np.full((n, 2), 0.5)
    for i in range(len(index)):
        s, _ = signal_and_bias(z[(i, False)], z[(i, True)])
        p_first = 1 / (1 + np.exp(-s))
        k = label_names.index(first[i])
        labels[i, k], labels[i, 1 - k] = p_first, 1 - p_first
    return labels


def judged_examples(transfer: np.ndarray, n_items: int, seed: int) -> np.ndarray:
    """A seeded random subset of the transfer split (split indices are sorted, hence grouped by class)."""
    return np.random.default_rng(seed).permutation(transfer)[:n_items]


def compare_label_sources(task_name: str, weak: str, strong: str, judge: ChatClient, debater: ChatClient,
                          n_items: int = 16, seed: int = 0, protocols: tuple[str, ...] = ("direct", "debate"),
                          settings: Settings | None = None) -> dict:
    task = load_task(task_name)
    if task.n_classes != 2:
        raise SuperalignError(f"oversight x W2SG needs a binary task; {task_name!r} has {task.n_classes} classes")
    splits = make_splits(task, seed=seed)
    transfer = judged_examples(splits.transfer, n_items, seed)
    x_weak, x_strong = np.asarray(featurize(task, weak)), np.asarray(featurize(task, strong))
    y, test = task.labels, splits.test
    weak_head = LogisticHead(seed=seed).fit(x_weak[splits.weak_train], y[splits.weak_train])
    sources = {"weak classifier": weak_head.predict_proba(x_weak[transfer])}
    names = task.label_names
    items = [OversightItem(f"{task_name}/{i}", "Which topic is this news text about?", (names[0], names[1]),
                           int(y[i]), task.inputs[i]) for i in transfer]
    clients = {"judge": judge, "debater_a": debater, "debater_b": debater, "consultant": debater,
               "answerer": debater, "critic": debater, "decomposer": debater}
    unparseable = {}
    for protocol in protocols:
        record = run_protocol(protocol, items, {k: v for k, v in clients.items()}, settings or Settings(),
                              item_set=f"w2s:{task_name}", seed=seed)
        labels, unparseable[protocol] = verdict_labels(record, names)
        sources[f"judge ({protocol})"] = labels
    ceiling = LogisticHead(seed=seed).fit(x_strong[transfer], y[transfer])
    weak_acc = float((weak_head.predict(x_weak[test]) == y[test]).mean())
    ceiling_acc = float((ceiling.predict(x_strong[test]) == y[test]).mean())
    out = {"n_items": len(items), "weak_acc": weak_acc, "ceiling_acc": ceiling_acc, "sources": {}}
    for name, labels in sources.items():
        student = LogisticHead(seed=seed, n_classes=2).fit(x_strong[transfer], labels)
        acc = float((student.predict(x_strong[test]) == y[test]).mean())
        # A 0.5/0.5 label is an abstention, not class 0 (argmax of a tie): it counts as a wrong label.
        decided = np.abs(labels[:, 0] - labels[:, 1]) > 1e-9
        out["sources"][name] = {"label_accuracy": float((decided & (labels.argmax(1) == y[transfer])).mean()),
                                "abstained": float(1 - decided.mean()),
                                "student_acc": acc, "pgr": pgr(weak_acc, acc, ceiling_acc)}
    out["unparseable"] = unparseable
    return out
