"""What sandboxed code may see and touch. One description serves both layers: the operating system mounts
exactly these paths (`superalign.sandbox.isolation`), and the audit hook inside refuses and reports anything
else (`superalign.sandbox.guard`). The path decision is a pure function, shared by the guard and the tests.

Nothing is visible by default. Sandboxed code sees the interpreter and its standard library, the installed
files of the packages it may import (numpy and scikit-learn with what they require, unless the policy names
others), the sandbox's own harness, the system's shared libraries and its workspace. Not the rest of
site-packages (registry packages ship corpora whose file names are labels), not superalign, not the
superalign home (features, run store), not /usr/share (Debian's datasets), not the caller's home.

This module is imported inside the sandbox by the guard, so it imports only the standard library.
"""

from __future__ import annotations

import functools
import os
import re
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
# What a method file imports by default; every distribution they require comes along.
DEFAULT_PACKAGES = ("numpy", "scikit-learn")
SANDBOX_CODE = os.path.dirname(os.path.abspath(__file__))  # guard, harness and this file: no data


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=16)
def package_paths(names: tuple[str, ...]) -> list[str]:
    """The top-level files and folders of these installed distributions and of every distribution they require
    (extras left out): what sandboxed code may import. A name that is not installed is skipped."""
    from importlib import metadata

    seen: set[str] = set()
    todo = list(names)
    paths: set[str] = set()
    while todo:
        name = _canonical(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for file in dist.files or []:
            top = file.parts[0] if file.parts else ""
            if top in ("", "..") or top.endswith(".pth"):
                continue  # scripts in bin/, and .pth start-up hooks (editable installs map superalign through one)
            # a top-level module's compiled file sits in the shared __pycache__: that file alone
            path = os.path.realpath(dist.locate_file(file if top == "__pycache__" else top))
            if os.path.exists(path):
                paths.add(path)
        for requirement in dist.requires or []:
            if "extra ==" not in requirement.replace('"', "'").replace("extra==", "extra =="):
                todo.append(re.split(r"[\s;<>=!~\[(]", requirement.strip(), maxsplit=1)[0])
    return sorted(paths)


def interpreter() -> str:
    """The real interpreter binary (a virtual environment's python is a link to it)."""
    return os.path.realpath(sys.executable)


def standard_library() -> list[str]:
    """The base interpreter's standard library (in a virtual environment, `platstdlib` would name the venv)."""
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix, "installed_base": sys.base_prefix,
            "installed_platbase": sys.base_exec_prefix}
    paths = sysconfig.get_paths(vars=base)
    return sorted({os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib")})


def standard_library_zips() -> list[str]:
    """The zip entry the interpreter puts on its path (python311.zip) whether or not it exists: it tries to read it."""
    return sorted(os.path.realpath(p) for p in sys.path if p.endswith(".zip"))


def site_folders(package_paths_: list[str]) -> list[str]:
    """The folders that hold the allowed packages: put on the sandboxed interpreter's path."""
    return sorted({os.path.dirname(p) for p in package_paths_})


@dataclass
class Policy:
    workspace: Path
    packages: tuple[str, ...] = DEFAULT_PACKAGES
    # Readable: computed from `packages` when not given (the interpreter, its standard library, the packages, the
    # sandbox's own code). Everything else is refused by the guard and not mounted by the isolation layer.
    read_roots: list[str] | None = None
    # Never readable even under a read root: the superalign home (features, runs), held-out task lists, the
    # evaluator's records. Writing anywhere here is an attempt to change the evaluator.
    protected: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.read_roots is None:
            self.read_roots = sorted({interpreter(), *standard_library(), *standard_library_zips(), *self.package_paths(),
                                      SANDBOX_CODE})

    def package_paths(self) -> list[str]:
        return list(package_paths(tuple(self.packages)))

    def to_args(self) -> list[str]:
        args = ["--workspace", str(self.workspace)]
        for root in self.read_roots:
            args += ["--read-root", root]
        for root in self.protected:
            args += ["--protected", str(root)]
        for folder in site_folders(self.package_paths()):
            args += ["--path", folder]
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
