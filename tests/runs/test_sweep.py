"""Sweeps: expansion, executors (local, process pool, Ray), failures, and resume after kill -9."""

import os
import signal
import subprocess
import sys
import time

import pytest

from superalign.errors import SuperalignError
from superalign.engine.store import RunStore
from superalign.runs.sweep import expand, load_sweep, run_sweep
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
    again = run_sweep(configs, store)  # a recorded failure is not retried unless asked
    assert (again.stored, again.done, again.failed) == (2, 0, 0)
    retried = run_sweep(configs, store, retry_failed=True)
    assert (retried.stored, retried.failed) == (1, 1)


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


def _children(pid: int) -> list[int]:
    from pathlib import Path

    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        found += [int(c) for c in children]
    return found


def test_pool_workers_die_with_a_killed_parent_and_ctrl_c_stops_the_pool_at_once(tmp_path):
    """kill -9 of `sweep --jobs 2` used to leave its workers (~450 MB each) alive indefinitely; Ctrl-C took 15 s."""
    import os
    import signal
    import subprocess
    import sys
    import time

    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("tasks: [digits]\nladder: [pca:4, raw]\nmethods: [naive, aux-conf]\nseeds: 40\n")
    env = {**os.environ, "SUPERALIGN_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "superalign.cli.main", "sweep", str(sweep), "--jobs", "2"]

    def start_with_workers():
        # SIGINT as at a terminal (a CI runner may start us with it ignored, which the child would inherit)
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.time() + 180
        while time.time() < deadline and len(_children(process.pid)) < 2:
            assert process.poll() is None, process.stderr.read()
            time.sleep(0.2)
        time.sleep(3)  # the workers have imported and started runs
        workers = _children(process.pid)
        assert len(workers) >= 2
        return process, workers

    def alive(pid: int) -> bool:
        try:
            return not open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] == "Z"
        except FileNotFoundError:
            return False

    process, workers = start_with_workers()
    process.kill()
    process.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(alive(w) for w in workers):
        time.sleep(0.1)
    assert not any(alive(w) for w in workers), "pool workers outlived their SIGKILLed parent"

    process, workers = start_with_workers()
    process.send_signal(signal.SIGINT)
    start = time.time()
    _, stderr = process.communicate(timeout=60)
    assert time.time() - start < 3, f"Ctrl-C took {time.time() - start:.1f}s"
    assert process.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr
    deadline = time.time() + 5  # the killed workers and multiprocessing's resource tracker, once it sees EOF
    while time.time() < deadline and any(alive(w) for w in workers):
        time.sleep(0.1)
    assert not any(alive(w) for w in workers)
