"""Executors run pending configs of one kind and hand every outcome to one writer callback, in this process.

local    in-process, one run after another
process  a local process pool (`jobs` workers, spawned); a worker that dies is replaced and its runs retried once,
         then recorded as failed, never dropped; workers die with their parent, even a SIGKILLed one, and Ctrl-C
         stops the pool at once
ray      Ray tasks on a cluster (`address`), or a local Ray cluster; each task asks for the kind's CPUs and GPUs;
         Ray retries a task whose worker died (max_retries=1) before it is recorded as failed
A worker receives (kind name, config as JSON) and looks the kind up itself: kinds from plugins run anywhere their
package is installed. Workers use one thread each.
"""

from __future__ import annotations

import os
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any, Callable

from pydantic import BaseModel

from superalign.errors import MissingDependencyError, SuperalignError

OnOutcome = Callable[[int, dict[str, Any]], None]  # (index of the config, outcome)
EXECUTORS = ("local", "process", "ray")


def execute(kind_name: str, config_json: dict[str, Any]) -> dict[str, Any]:
    """Runs one config in whatever process the executor chose; errors come back as data (a missing package is
    raised: it is this machine's state, not the run's)."""
    from superalign.engine.kind import KINDS

    kind = KINDS.get(kind_name)
    start = time.time()
    try:
        result = kind.run(kind.config(**config_json))
        if isinstance(result, BaseModel):
            result = result.model_dump(mode="json")
        return {"ok": True, "result": result, "seconds": round(time.time() - start, 3)}
    except ImportError:
        raise
    except Exception as exc:  # a failed run is recorded, not lost
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(),
                "seconds": round(time.time() - start, 3)}


def die_with_parent(parent: int) -> None:
    """Linux: the kernel sends this process SIGKILL when its parent exits (prctl PR_SET_PDEATHSIG); a parent that
    died before the call is caught by the pid check."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: workers end when the pool's pipe closes
        return
    if os.getppid() != parent:
        os._exit(1)


def _worker_start(parent: int) -> None:
    """A pool worker: one thread; dies with its parent; leaves Ctrl-C to the parent, which stops the pool."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)
    os.environ["OMP_NUM_THREADS"] = "1"  # read by torch and BLAS when a kind first imports them
    from superalign.settings import configure

    configure(threads=1, progress=False)


def run_local(kind_name: str, configs: list[dict], on_outcome: OnOutcome) -> None:
    for index, config in enumerate(configs):
        on_outcome(index, execute(kind_name, config))


# Thread pools that numerical libraries size when they load. A spawned worker imports numpy while it unpickles its
# initializer (superalign's own modules import it), before the initializer runs, so the limits must already be in
# the environment it inherits: else every worker runs BLAS with a thread per core, and two workers on two cores
# ran slower than one.
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def run_process_pool(kind_name: str, configs: list[dict], on_outcome: OnOutcome, jobs: int) -> None:
    saved = {name: os.environ.get(name) for name in _THREAD_VARIABLES}
    os.environ.update({name: "1" for name in _THREAD_VARIABLES})  # inherited by the workers spawned below
    try:
        _run_pool(kind_name, configs, on_outcome, jobs)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_pool(kind_name: str, configs: list[dict], on_outcome: OnOutcome, jobs: int) -> None:
    attempts = [0] * len(configs)
    queue = list(range(len(configs)))
    while queue:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_worker_start,
                                   initargs=(os.getpid(),))
        try:
            futures = {pool.submit(execute, kind_name, configs[i]): i for i in queue}
            queue = []
            remaining = set(futures)
            while remaining:
                done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                for future in done:
                    index = futures[future]
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        attempts[index] += 1
                        if attempts[index] <= 1:
                            queue.append(index)  # the pool is gone; retried in a fresh one
                            continue
                        outcome = {"ok": False, "error": "worker process died twice running this config"}
                    on_outcome(index, outcome)
        except BaseException:  # Ctrl-C or an error in the writer: the runs in flight are dropped, not waited for
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


def run_ray(kind_name: str, configs: list[dict], on_outcome: OnOutcome, address: str | None = None,
            jobs: int | None = None, cpus: float = 1.0, gpus: float = 0.0,
            resources: Callable[[dict], dict[str, float]] | None = None) -> None:
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
    remote = ray.remote(max_retries=1, num_cpus=cpus, num_gpus=gpus)(execute)
    try:
        refs = {_with_resources(remote, resources, config).remote(kind_name, config): i
                for i, config in enumerate(configs)}
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


def _with_resources(remote, resources: Callable[[dict], dict[str, float]] | None, config: dict):
    """The remote function with this run's own CPUs and GPUs reserved, where its kind says what they are."""
    if resources is None:
        return remote
    wanted = resources(config)
    return remote.options(**{f"num_{k}": v for k, v in wanted.items() if k in ("cpus", "gpus")})


def check_executor(executor: str, jobs: int) -> None:
    if executor not in EXECUTORS:
        raise SuperalignError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
    if jobs < 1:
        raise SuperalignError(f"--jobs {jobs}: give at least 1 worker")


def run_with(executor: str, kind_name: str, configs: list[dict], on_outcome: OnOutcome, jobs: int = 1,
             address: str | None = None, cpus: float = 1.0, gpus: float = 0.0,
             resources: Callable[[dict], dict[str, float]] | None = None) -> None:
    check_executor(executor, jobs)
    if executor == "local" or (executor == "process" and jobs <= 1):
        run_local(kind_name, configs, on_outcome)
    elif executor == "process":
        run_process_pool(kind_name, configs, on_outcome, jobs)
    else:
        run_ray(kind_name, configs, on_outcome, address=address, jobs=jobs, cpus=cpus, gpus=gpus, resources=resources)
