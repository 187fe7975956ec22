"""The activation cache: hit, miss, corruption, concurrent writers."""

import json
import multiprocessing as mp
import time

import numpy as np
import pytest

from superalign.data.task import Task
from superalign.models.cache import ActivationCache, CacheCorruptionWarning
from superalign.models.encoder import Encoder


class CountingEncoder(Encoder):
    """A real computation (character statistics) that logs each call to a file, to count recomputes."""

    name = "counting"
    modalities = ("text",)

    def __init__(self, log_path, delay=0.0):
        self.log_path, self.delay = str(log_path), delay

    def identity(self):
        return {"kind": "counting", "version": 1}

    def n_params(self):
        return 0

    def encode(self, inputs, progress=lambda n: None):
        with open(self.log_path, "a") as f:
            f.write("call\n")
        time.sleep(self.delay)
        progress(len(inputs))
        return np.array([[len(t), t.count(" "), sum(map(ord, t)) % 97] for t in inputs], dtype=np.float32)


def _task(n=30):
    return Task("toy", [f"text number {i} " * (i % 4 + 1) for i in range(n)], np.arange(n) % 2, ["a", "b"], "text")


def _calls(log):
    return log.read_text().count("call") if log.exists() else 0


def test_miss_then_hit(tmp_path):
    cache, log = ActivationCache(tmp_path / "c"), tmp_path / "log"
    first = cache.featurize(_task(), CountingEncoder(log))
    second = cache.featurize(_task(), CountingEncoder(log))
    assert _calls(log) == 1 and np.array_equal(first, second)
    meta = json.loads(next((tmp_path / "c").glob("*.json")).read_text())
    assert meta["shape"] == [30, 3] and meta["task"] == "toy"
    cache.featurize(_task(), CountingEncoder(log), refresh=True)
    assert _calls(log) == 2


def test_other_data_is_a_miss(tmp_path):
    cache, log = ActivationCache(tmp_path / "c"), tmp_path / "log"
    cache.featurize(_task(30), CountingEncoder(log))
    cache.featurize(_task(31), CountingEncoder(log))
    assert _calls(log) == 2


@pytest.mark.parametrize("damage", ["truncate", "flip", "sidecar", "sidecar-shape"])
def test_corrupt_entry_is_detected_and_rebuilt(tmp_path, damage):
    cache, log = ActivationCache(tmp_path / "c"), tmp_path / "log"
    good = np.array(cache.featurize(_task(), CountingEncoder(log)))
    npy = next((tmp_path / "c").glob("*.npy"))
    if damage == "truncate":
        npy.write_bytes(npy.read_bytes()[:100])
    elif damage == "flip":
        data = bytearray(npy.read_bytes())
        data[-1] ^= 0xFF
        npy.write_bytes(bytes(data))
    elif damage == "sidecar":
        next((tmp_path / "c").glob("*.json")).write_text("{not json")
    else:  # valid JSON, wrong shape
        next((tmp_path / "c").glob("*.json")).write_text("[1, 2, 3]")
    assert len(cache.entries()) == 1
    with pytest.warns(CacheCorruptionWarning):
        rebuilt = cache.featurize(_task(), CountingEncoder(log))
    assert _calls(log) == 2 and np.array_equal(good, rebuilt)


def _worker(root, log):
    ActivationCache(root).featurize(_task(), CountingEncoder(log, delay=1.0))


def test_concurrent_writers_compute_once(tmp_path):
    root, log = tmp_path / "c", tmp_path / "log"
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(root, log)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    assert _calls(log) == 1
    assert len(list(root.glob("*.npy"))) == 1 and not list(root.glob(".*.tmp"))


def test_subset_tasks_reuse_the_root_features(tmp_path):
    cache, log = ActivationCache(tmp_path / "c"), tmp_path / "log"
    task = _task()
    sub = task.subset(np.array([3, 4, 7]))
    full = cache.featurize(task, CountingEncoder(log))
    part = cache.featurize(sub, CountingEncoder(log))
    assert _calls(log) == 1 and np.array_equal(part, np.asarray(full)[[3, 4, 7]])


def test_ls_and_clear(tmp_path):
    cache = ActivationCache(tmp_path / "c")
    cache.featurize(_task(), CountingEncoder(tmp_path / "log"))
    assert len(cache.entries()) == 1
    assert cache.clear() == 1 and cache.entries() == []

