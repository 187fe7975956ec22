"""Sweeps: expansion, executors (local, process pool, Ray), failures, and resume after kill -9."""

import os
import signal
import subprocess
import sys
import time

import pytest

from superalign.errors import SuperalignError
from superalign.runs.store import RunStore
from superalign.runs.sweep import expand, load_sweep, pending, run_sweep
from superalign.settings import configure

SMALL = {"tasks": ["breast-cancer"], "ladder": ["pca:1", "pca:3", "raw"], "methods": ["naive", "knn-filter"],
         "seeds": 2}


def test_expand_grid_include_exclude():
    spec = {**SMALL, "include": [{"task": "digits", "weak": "pca:4", "strong": "raw", "method": "naive"}],
            "exclude": [{"method": "knn-filter", "weak": "pca:1"}], "head": "logistic"}
    configs = expand(spec)
    # 3 pairs x 2 methods x 2 seeds = 12, minus knn-filter from pca:1 (2 pairs x 2 seeds) = 8, plus 2 included
    assert len(configs) == 10
    assert not any(c.method == "knn-filter" and c.weak == "pca:1" for c in configs)
    assert sum(c.task == "digits" for c in configs) == 2
    assert len({c.config_hash() for c in configs}) == 10
    with pytest.raises(SuperalignError, match="unknown field"):
        expand({**SMALL, "exclude": [{"methd": "naive"}]})
    with pytest.raises(SuperalignError, match="no runs"):
        expand({**SMALL, "exclude": [{"task": "breast-cancer"}]})


def _run(configs, executor, jobs=1):
    store = RunStore()
    run_sweep(configs, store, executor=executor, jobs=jobs)
    return store


def _metrics(store):
    return {r["config_hash"]: r["result"]["metrics"] for r in store.records(kind="w2s")}


def test_process_pool_matches_local(runs_dir, monkeypatch, tmp_path):
    configs = expand(SMALL)
    local = _metrics(_run(configs, "local"))
    monkeypatch.setenv("SUPERALIGN_RUNS", str(tmp_path / "other"))
    configure()  # settings are read once: read them again
    pooled = _metrics(_run(configs, "process", jobs=2))
    assert len(local) == len(configs) == len(pooled)
    assert local == pooled  # same numbers whichever process ran them


def test_failures_are_recorded_and_retried_on_request(runs_dir):
    configs = expand({"tasks": ["breast-cancer"], "ladder": ["pca:1", "raw"], "methods": ["naive", "finetune"],
                      "seeds": 1})
    store = _run(configs, "local")
    failed = store.records(kind="w2s", status="failed")
    assert len(failed) == 1 and "finetune" in failed[0]["result"]["error"]
    assert pending(configs, store, retry_failed=False) == []
    assert [c.method for c in pending(configs, store, retry_failed=True)] == ["finetune"]


def test_kill_minus_9_then_resume_gives_exactly_the_full_set(runs_dir, tmp_path):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("tasks: [breast-cancer, digits]\nladders: {breast-cancer: [pca:1, pca:3, pca:8, raw], "
                     "digits: [pca:2, pca:8, raw]}\nmethods: [naive, knn-relabel, weak-ensemble]\nseeds: 3\n")
    _, configs = load_sweep(sweep)
    cmd = [sys.executable, "-m", "superalign.cli.main", "sweep", str(sweep), "--executor", "local"]
    env = {**os.environ, "SUPERALIGN_RUNS": str(runs_dir)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = RunStore(runs_dir / "runs.sqlite")
    deadline = time.time() + 120
    while store.count() < 5 and time.time() < deadline:
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = store.count()
    assert 5 <= partial < len(configs)  # killed in the middle
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    statuses = store.statuses()
    assert set(statuses) == {c.config_hash() for c in configs}  # none lost, none extra
    assert set(statuses.values()) == {"ok"}
    assert len(store.records(kind="w2s")) == len(configs)  # no duplicates


def test_ray_executor_on_a_local_cluster(runs_dir):
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install ray)")
    configs = expand({**SMALL, "seeds": 1})
    store = _run(configs, "ray", jobs=2)
    assert not ray.is_initialized()  # the executor shuts down the cluster it started
    assert len(store.records(kind="w2s")) == len(configs)
