"""Computed-label tasks: every label is recomputed here from the text itself."""

import re

import numpy as np

from superalign.data.computed import arithmetic_claims
from superalign.data.registry import load_task


def test_arithmetic_claims_are_labelled_by_computation():
    texts, labels = arithmetic_claims(600, seed=3)
    for text, label in zip(texts, labels):
        a, op, b, stated = re.match(r"Claim: (\d+) ([-+*]) (\d+) = (-?\d+)\.", text).groups()
        value = {"+": int(a) + int(b), "-": int(a) - int(b), "*": int(a) * int(b)}[op]
        assert label == int(value == int(stated))
    assert labels.mean() == 0.5  # balanced
    again_texts, again_labels = arithmetic_claims(600, seed=3)
    assert again_texts == texts and np.array_equal(again_labels, labels)  # deterministic


def test_false_claims_are_near_misses():
    texts, labels = arithmetic_claims(600)
    misses = []
    for text, label in zip(texts, labels):
        a, op, b, stated = re.match(r"Claim: (\d+) ([-+*]) (\d+) = (-?\d+)\.", text).groups()
        value = {"+": int(a) + int(b), "-": int(a) - int(b), "*": int(a) * int(b)}[op]
        if not label:
            misses.append(abs(int(stated) - value) / max(1, abs(value)))
    assert np.median(misses) < 0.2  # the wrong number is close to the right one


def test_registered_task():
    task = load_task("arithmetic-claims")
    assert len(task) == 2000 and task.label_names == ["false", "true"] and task.modality == "text"


def test_the_1k_task_is_the_first_thousand_claims():
    full, small = load_task("arithmetic-claims"), load_task("arithmetic-claims-1k")
    assert len(small) == 1000 and small.inputs == [t + " Answer yes or no." for t in full.inputs[:1000]]
    assert (small.labels == full.labels[:1000]).all() and 0.45 < small.labels.mean() < 0.55
