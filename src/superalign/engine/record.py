"""Run records: everything needed to reproduce and audit a run, as plain JSON.

A record has: schema version, kind, config and its hash, seed, git revision, package versions,
the result (metrics, timings), the host, its CPU and creation time.
"""

from __future__ import annotations

import platform
import subprocess
import time
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 2  # 2: status field in the record, test_correct and budget in w2s results
_PACKAGES = ("superalign", "torch", "transformers", "sentence-transformers", "scikit-learn", "numpy", "onnxruntime")


@lru_cache(maxsize=1)
def git_revision() -> str | None:
    """The commit this process runs (`-dirty` with uncommitted changes), read once: `run_grid` reads it as a grid
    starts, so a run that takes hours is not stamped with a commit made while it ran."""
    return _read_git_revision()


def _read_git_revision() -> str | None:
    try:
        root = Path(__file__).resolve().parents[3]
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if out.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


@lru_cache(maxsize=1)
def cpu_name() -> str:
    """The CPU's model name (a table's timings and llama.cpp's numerics depend on it)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def make_record(kind: str, config: dict[str, Any], config_hash: str, result: dict[str, Any],
                status: str = "ok", seconds: float | None = None) -> dict[str, Any]:
    """A run record; a failed run's `result` holds `error` (one line) and `traceback`; `seconds` is the run's wall
    time where the executor measured it."""
    record = {
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "status": status,
        "config_hash": config_hash,
        "config": config,
        "seed": config.get("seed"),
        "git_revision": git_revision(),
        "packages": package_versions(),
        "host": platform.node(),
        "cpu": cpu_name(),
        "created": time.time(),
        "result": result,
    }
    if seconds is not None:
        record["seconds"] = seconds
    return record
