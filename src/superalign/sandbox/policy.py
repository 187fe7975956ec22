"""What sandboxed code may touch: the decision is a pure function of the policy and the path, shared by the
guard (inside the sandbox) and the tests."""

from __future__ import annotations

import os
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

# Files with these endings hold data (and so, somewhere, labels): sandboxed code reads data only from its
# workspace, where the harness puts what it may see.
DATA_SUFFIXES = (".csv", ".tsv", ".gz", ".bz2", ".xz", ".zip", ".npy", ".npz", ".parquet", ".jsonl", ".arrow",
                 ".feather", ".sqlite", ".db", ".bin", ".gguf", ".pkl", ".pickle", ".safetensors", ".ubyte", ".idx")
# System files that Python, numpy and scikit-learn read at start-up or import.
SYSTEM_READS = ("/dev/null", "/dev/urandom", "/dev/random", "/proc/self", "/proc/cpuinfo", "/proc/stat", "/proc/meminfo",
                "/sys/devices/system/cpu", "/sys/fs/cgroup", "/etc/localtime", "/usr/share/zoneinfo",
                "/etc/ld.so.cache", "/usr/lib", "/lib", "/usr/lib64", "/lib64")


def python_roots() -> list[str]:
    """The interpreter's own files and every installed package: readable (imports), never writable."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    roots.update(p for p in sysconfig.get_paths().values())
    roots.update(p for p in sys.path if p)  # zip entries too (the standard library's python311.zip)
    import superalign  # an editable install maps the package from its source folder, which is on no path

    roots.add(os.path.dirname(os.path.dirname(os.path.abspath(superalign.__file__))))
    return sorted(os.path.realpath(r) for r in roots if r)


@dataclass
class Policy:
    workspace: Path
    read_roots: list[str] = field(default_factory=python_roots)
    # Never readable even under a read root: the superalign home (features, runs), held-out task lists, the
    # evaluator's records. Writing anywhere here is an attempt to change the evaluator.
    protected: list[str] = field(default_factory=list)

    def to_args(self) -> list[str]:
        args = ["--workspace", str(self.workspace)]
        for root in self.read_roots:
            args += ["--read-root", root]
        for root in self.protected:
            args += ["--protected", str(root)]
        return args


def under(path: str, root: str) -> bool:
    root = root.rstrip("/") or "/"
    return path == root or path.startswith(root + "/")


def check(path: str, write: bool, workspace: str, read_roots: list[str], protected: list[str]) -> str | None:
    """None if allowed, else the kind of the violation: 'write-outside', 'protected', 'data', 'read-outside'."""
    real = os.path.realpath(path)
    if under(real, workspace):  # first: a run's workspace usually sits inside the protected superalign home
        return None
    if any(under(real, p) for p in protected):
        return "protected"
    if write:
        return None if real == "/dev/null" else "write-outside"
    if real in read_roots:  # a path entry itself, such as the standard library's zip
        return None
    if real.endswith(DATA_SUFFIXES):
        return "data"
    if any(under(real, r) for r in read_roots) or any(under(real, s) for s in SYSTEM_READS):
        return None
    return "read-outside"
