"""Where superalign keeps its caches and runs.

`SUPERALIGN_HOME` (see `superalign.settings`) overrides the root (tests point it at a temporary folder);
otherwise the user cache dir of the platform (`~/.cache/superalign` on Linux).
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

from superalign.settings import settings


def home() -> Path:
    root = settings().home
    path = Path(root) if root else Path(platformdirs.user_cache_dir("superalign"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def features_dir() -> Path:
    return _sub("features")


def models_dir() -> Path:
    """Packaged models that must be assembled (mpnet's split zip, Gemma's GGUF parts)."""
    return _sub("models")


def runs_dir() -> Path:
    root = settings().runs
    path = Path(root) if root else home() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sub(name: str) -> Path:
    path = home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path
