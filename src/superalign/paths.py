"""Where superalign keeps its caches and runs.

`SUPERALIGN_HOME` (see `superalign.settings`) overrides the root (tests point it at a temporary folder);
otherwise the user cache dir of the platform (`~/.cache/superalign` on Linux).
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

from superalign.errors import SuperalignError
from superalign.settings import settings


def _make(path: Path, setting: str) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SuperalignError(f"cannot create {path} ({exc.strerror}); set {setting} to a folder you can write "
                              "to") from None
    return path


def home() -> Path:
    root = settings().home
    path = Path(root) if root else Path(platformdirs.user_cache_dir("superalign"))
    return _make(path, "SUPERALIGN_HOME")


def features_dir() -> Path:
    return _sub("features")


def models_dir() -> Path:
    """Packaged models that must be assembled (mpnet's split zip, Gemma's GGUF parts)."""
    return _sub("models")


def data_dir() -> Path:
    """Data files taken out of registry packages too large to install for one file (e.g. OpenAI's evals)."""
    return _sub("data")


def runs_dir() -> Path:
    root = settings().runs
    path = Path(root) if root else home() / "runs"
    return _make(path, "SUPERALIGN_RUNS" if root else "SUPERALIGN_HOME")


def _sub(name: str) -> Path:
    return _make(home() / name, "SUPERALIGN_HOME")
