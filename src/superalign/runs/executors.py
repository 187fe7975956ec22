"""Executors run pending configs and hand every outcome to one writer callback, in this process.

local    in-process, one run after another
process  a local process pool (`jobs` workers); a worker that dies is replaced and its runs retried once,
         then recorded as failed, never dropped
ray      Ray tasks on a cluster (`address`), or a local Ray cluster started by `ray.init()`;
         Ray retries a task whose worker died (max_retries=1) before it is recorded as failed
Workers use one thread each (their runs are small); featurizing has already happened.
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any, Callable

from superalign.errors import MissingDependencyError, SuperalignError
from superalign.runs.sweep import execute_one
from superalign.w2s.pipeline import ExperimentConfig

OnOutcome = Callable[[ExperimentConfig, dict[str, Any]], None]
EXECUTORS = ("local", "process", "ray")


def _worker_start(parent: int) -> None:
    """A pool worker: one thread; dies with its parent (even a SIGKILLed one), and leaves Ctrl-C to the parent,
    which stops the pool at once and keeps what finished."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)
    from superalign.settings import configure

    configure(threads=1, progress=False)
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


def die_with_parent(parent: int) -> None:
    """Linux: the kernel sends this process SIGKILL when its parent exits (prctl PR_SET_PDEATHSIG); a parent that
    died before the call is caught by the pid check."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: workers end when the pool's pipe closes, as before
        return
    if os.getppid() != parent:
        os._exit(1)


def run_local(configs: list[ExperimentConfig], on_outcome: OnOutcome) -> None:
    for config in configs:
        on_outcome(config, execute_one(config.model_dump(mode="json")))


def run_process_pool(configs: list[ExperimentConfig], on_outcome: OnOutcome, jobs: int) -> None:
    attempts = {c.config_hash(): 0 for c in configs}
    queue = list(configs)
    while queue:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_worker_start,
                                   initargs=(os.getpid(),))
        try:
            futures = {pool.submit(execute_one, c.model_dump(mode="json")): c for c in queue}
            queue = []
            remaining = set(futures)
            while remaining:
                done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                for future in done:
                    config = futures[future]
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        key = config.config_hash()
                        attempts[key] += 1
                        if attempts[key] <= 1:
                            queue.append(config)  # the pool is gone; retried in a fresh one
                            continue
                        outcome = {"ok": False, "error": "worker process died twice running this config"}
                    on_outcome(config, outcome)
        except BaseException:  # Ctrl-C or an error in the writer: the runs in flight are dropped, not waited for
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


def run_ray(configs: list[ExperimentConfig], on_outcome: OnOutcome, address: str | None = None,
            jobs: int | None = None) -> None:
    try:
        import ray
    except ImportError as exc:
        raise MissingDependencyError("the ray executor needs Ray: pip install 'superalign[ray]' (or pip install ray)") from exc
    started_here = not ray.is_initialized()
    if started_here:
        env = {"env_vars": {"SUPERALIGN_THREADS": "1", "SUPERALIGN_PROGRESS": "0", "OMP_NUM_THREADS": "1",
                            **{k: v for k, v in os.environ.items() if k.startswith("SUPERALIGN_") and k != "SUPERALIGN_THREADS"}}}
        ray.init(address=address, num_cpus=None if address else jobs, runtime_env=env, include_dashboard=False,
                 log_to_driver=False, ignore_reinit_error=True)
    remote = ray.remote(max_retries=1, num_cpus=1)(execute_one)
    try:
        refs = {remote.remote(c.model_dump(mode="json")): c for c in configs}
        remaining = list(refs)
        while remaining:
            done, remaining = ray.wait(remaining, num_returns=1)
            for ref in done:
                try:
                    outcome = ray.get(ref)
                except Exception as exc:  # the worker died twice, or Ray itself failed for this task
                    outcome = {"ok": False, "error": f"ray: {type(exc).__name__}: {str(exc)[:300]}"}
                on_outcome(refs[ref], outcome)
    finally:
        if started_here:
            ray.shutdown()


def run_with(executor: str, configs: list[ExperimentConfig], on_outcome: OnOutcome, jobs: int = 1,
             address: str | None = None) -> None:
    if executor == "local" or (executor == "process" and jobs <= 1):
        run_local(configs, on_outcome)
    elif executor == "process":
        run_process_pool(configs, on_outcome, jobs)
    elif executor == "ray":
        run_ray(configs, on_outcome, address=address, jobs=jobs)
    else:
        raise SuperalignError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
