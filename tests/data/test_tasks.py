"""Contract tests over every registered task, plus splits."""

import numpy as np
import pytest

from superalign.data.hub import HUB_TASKS
from superalign.data.registry import load_task, task_names
from superalign.data.task import SplitSizes, Task, make_splits
from superalign.errors import MissingDependencyError, SuperalignError

HUB = {t.name for t in HUB_TASKS}
LOCAL_TASKS = [name for name in task_names() if name not in HUB]


def _load(name):
    try:
        return load_task(name)
    except MissingDependencyError as exc:  # only fashion-mnist depends on a system package
        assert name == "fashion-mnist", exc
        pytest.skip(f"{name}: {exc}")


@pytest.mark.parametrize("name", LOCAL_TASKS)
def test_task_contract(name):
    task = _load(name)
    assert len(task) == len(task.labels) >= 100
    assert task.labels.dtype == np.int64
    assert set(np.unique(task.labels)) == set(range(task.n_classes))
    assert task.modality in ("text", "image", "tabular")
    if task.modality == "text":
        assert all(isinstance(t, str) and t for t in task.inputs[:50])
    assert task.content_hash == load_task(name).content_hash  # deterministic


@pytest.mark.parametrize("name", ["bbc-news", "bbc-sport-vs-tech", "breast-cancer", "digits"])
def test_splits_are_disjoint_stratified_and_deterministic(name):
    task = load_task(name)
    splits = make_splits(task, SplitSizes(), seed=3)
    all_idx = np.concatenate([idx for _, idx in splits.items()])
    assert len(np.unique(all_idx)) == len(all_idx)
    overall = np.bincount(task.labels) / len(task)
    for _, idx in splits.items():
        share = np.bincount(task.labels[idx], minlength=task.n_classes) / len(idx)
        assert np.abs(share - overall).max() < 0.05
    again = make_splits(task, SplitSizes(), seed=3)
    assert all((a == b).all() for (_, a), (_, b) in zip(splits.items(), again.items()))
    other = make_splits(task, SplitSizes(), seed=4)
    assert not np.array_equal(splits.test, other.test)


def test_split_sizes_as_counts_and_impossible_sizes():
    task = load_task("breast-cancer")
    splits = make_splits(task, SplitSizes(weak_train=100, transfer=200, val=50, test=100))
    assert [len(i) for _, i in splits.items()] == [100, 200, 50, 100]
    with pytest.raises(SuperalignError, match="only 569 examples"):
        make_splits(task, SplitSizes(weak_train=300, transfer=300, val=50, test=100))


def test_split_sizes_parse_the_command_line_form():
    assert SplitSizes.parse("40,100,0.1,20") == SplitSizes(weak_train=40, transfer=100, val=0.1, test=20)
    for bad, reason in [("40,100,20", "four numbers"), ("40,x,20,20", "four numbers"), ("40,0,20,20", "transfer")]:
        with pytest.raises(SuperalignError, match=reason):
            SplitSizes.parse(bad)


def test_bbc_binary_tasks_share_the_root_for_features():
    task = load_task("bbc-business-vs-tech")
    assert task.parent is not None and task.parent.name == "bbc-news"
    assert task.label_names == ["business", "tech"]
    assert [task.parent.inputs[i] for i in task.parent_indices[:5]] == task.inputs[:5]


def test_single_class_task_is_refused():
    with pytest.raises(SuperalignError, match="single class"):
        Task("one", ["a", "b", "c"], np.array([0, 0, 0]), ["x", "y"], "text")


def test_unknown_task_suggests():
    with pytest.raises(SuperalignError, match="did you mean 'bbc-news'"):
        load_task("bbc-nwes")
