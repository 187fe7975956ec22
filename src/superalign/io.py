"""Atomic writes and content hashing.

Every file superalign writes goes to a temporary file in the same folder and is renamed into place,
so a reader never sees half a file and a killed process leaves nothing corrupt behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yields a temporary path beside `path`; renames it onto `path` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_json(path: Path, obj: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str))


def write_npy(path: Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, array, allow_pickle=False)


def stable_hash(obj: Any, length: int = 16) -> str:
    """Hash of a JSON-serialisable object, independent of dict order."""
    text = json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def hash_strings(items: list[str]) -> str:
    h = hashlib.sha256()
    for item in items:
        data = item.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def hash_array(array: np.ndarray) -> str:
    array = np.ascontiguousarray(array)
    h = hashlib.sha256()
    h.update(str(array.dtype).encode() + str(array.shape).encode())
    h.update(array.tobytes())
    return h.hexdigest()


def file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_yaml(path: Path, what: str) -> Any:
    """Parses a YAML file; a missing or malformed file is one clear error with file, line and column."""
    import yaml

    from superalign.errors import SuperalignError

    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuperalignError(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise SuperalignError(f"{path}: a folder, not a {what} file") from None
    except UnicodeDecodeError as exc:
        raise SuperalignError(f"{path}: not UTF-8 text (byte {exc.start}); a {what} file is YAML text") from None
    except OSError as exc:
        raise SuperalignError(f"{path}: cannot read the {what} file ({exc.strerror})") from None
    except RecursionError:
        raise SuperalignError(f"{path}: nested too deeply to read as a {what} file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise SuperalignError(f"{path}{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from exc
