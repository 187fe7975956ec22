"""Start sandboxed Python: the isolation layer (bubblewrap namespaces and a seccomp filter), resource limits, a
clean environment, the guard's audit hook, and the monitor's events read back. Where isolation is missing,
nothing runs: `run_python` raises a `SuperalignError` that says how to install it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from superalign.errors import SuperalignError
from superalign.sandbox.isolation import isolated_command, isolation_problem, seccomp_program
from superalign.sandbox.policy import Policy, interpreter

GUARD = Path(__file__).with_name("guard.py")

_OUTPUT_LIMIT = 20_000  # characters of stdout / stderr kept


@dataclass
class Limits:
    cpu_seconds: int = 60
    memory_mb: int = 2048
    file_mb: int = 64  # largest file the code may write
    processes: int = 64  # threads included; seccomp already refuses new processes
    wall_seconds: float = 120.0

    @classmethod
    def for_cpu(cls, cpu_seconds: int, memory_mb: int) -> "Limits":
        """A CPU budget with a wall clock that leaves room for start-up and waiting on the other core."""
        return cls(cpu_seconds=cpu_seconds, memory_mb=memory_mb, wall_seconds=cpu_seconds * 2 + 30)


@dataclass
class SandboxResult:
    returncode: int
    stdout: str
    stderr: str
    events: list[dict] = field(default_factory=list)  # what the monitor refused, in order
    timed_out: bool = False
    seccomp: bool = False  # the system-call filter was on (the namespaces always are)
    seconds: float = 0.0

    @property
    def network_isolated(self) -> bool:  # always: the code never runs outside its namespaces
        return True

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def error_tail(self, lines: int = 6) -> str:
        return "\n".join(self.stderr.strip().splitlines()[-lines:])


def _limit(limits: Limits):
    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
        memory = limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        size = limits.file_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))  # not enforced for root

    return apply


def clean_environment(workspace: Path) -> dict[str, str]:
    """Nothing of the parent's environment (API keys, tokens, proxies) reaches the code."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(workspace), "TMPDIR": str(workspace / "tmp"), "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}


def run_python(script: Path, policy: Policy, args: list[str] | None = None,
               limits: Limits | None = None) -> SandboxResult:
    """Runs `script` (a file in the workspace) with the working directory set to the workspace."""
    if problem := isolation_problem():
        raise SuperalignError(problem)
    limits = limits or Limits()
    workspace = Path(policy.workspace).resolve()
    (workspace / "tmp").mkdir(parents=True, exist_ok=True)
    seccomp = seccomp_program()
    read_fd, write_fd = os.pipe()
    inner = [interpreter(), "-I", "-B", str(GUARD), "--events-fd", str(write_fd), *policy.to_args(), str(script),
             *(args or [])]
    seccomp_fd = seccomp.fileno() if seccomp else None
    env = clean_environment(workspace)
    command = isolated_command(policy, inner, seccomp_fd, env)
    events: list[dict] = []

    def collect() -> None:
        with os.fdopen(read_fd, "rb") as pipe:
            for line in pipe:
                try:
                    events.append(json.loads(line))
                except ValueError:
                    events.append({"kind": "monitor", "event": "garbled", "detail": line[:200].decode(errors="replace")})

    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    start = time.perf_counter()
    try:
        process = subprocess.Popen(command, cwd=workspace, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   stdin=subprocess.DEVNULL, preexec_fn=_limit(limits), start_new_session=True,
                                   pass_fds=(write_fd,) if seccomp_fd is None else (write_fd, seccomp_fd),
                                   text=True, errors="replace")
    finally:
        os.close(write_fd)
        if seccomp:
            seccomp.close()
    timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
    reader.join(timeout=5)
    return SandboxResult(process.returncode, stdout[-_OUTPUT_LIMIT:], stderr[-_OUTPUT_LIMIT:], events, timed_out,
                         seccomp is not None, round(time.perf_counter() - start, 3))
