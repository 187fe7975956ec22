"""The activation cache: features computed once per (encoder identity, dataset content), kept on disk.

Layout in `features_dir()`:
    <key>.npy    the float32 (or float16) matrix [n, d], memory-mapped on read
    <key>.json   sidecar: encoder identity, task, shape, dtype, SHA-256 of the .npy, timings
The sidecar is written last, so an entry without one is incomplete. A corrupt or truncated entry
(checksum or shape mismatch, unreadable file) is detected on read, reported with a warning and rebuilt.
A lock file per key makes concurrent writers compute an entry once; the others wait and read it.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from superalign.data.task import Task
from superalign.io import file_sha256, hash_strings, stable_hash, write_json, write_npy
from superalign.models.encoder import Encoder, get_encoder
from superalign.paths import features_dir
from superalign.progress import progress_bar


class CacheCorruptionWarning(UserWarning):
    """A cache entry failed its integrity check and is being rebuilt."""


@dataclass(frozen=True)
class CacheEntry:
    key: str
    npy: Path
    sidecar: Path
    meta: dict[str, Any]

    @property
    def size_bytes(self) -> int:
        return self.npy.stat().st_size if self.npy.exists() else 0


class ActivationCache:
    def __init__(self, root: Path | None = None, dtype: str = "float32"):
        self.root = Path(root) if root is not None else features_dir()
        self.root.mkdir(parents=True, exist_ok=True)
        if dtype not in ("float32", "float16"):
            raise ValueError(f"cache dtype must be float32 or float16, not {dtype!r}")
        self.dtype = dtype

    def key(self, task: Task, encoder: Encoder) -> str:
        return stable_hash({"encoder": encoder.identity(), "data": task.content_hash, "dtype": self.dtype}, length=32)

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.root / f"{key}.npy", self.root / f"{key}.json"

    def load(self, key: str) -> np.ndarray | None:
        """The cached matrix, or None on a miss; a corrupt entry warns, is removed, and counts as a miss."""
        npy, sidecar = self._paths(key)
        if not sidecar.exists():
            return None
        try:
            meta = json.loads(sidecar.read_text())
            if file_sha256(npy) != meta["sha256"]:
                raise ValueError("checksum mismatch")
            array = np.load(npy, mmap_mode="r", allow_pickle=False)
            if list(array.shape) != meta["shape"] or str(array.dtype) != meta["dtype"]:
                raise ValueError(f"shape {array.shape} / dtype {array.dtype} differ from the sidecar")
            return array
        except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:  # TypeError: valid JSON,
            # wrong shape (a list, a number where the sidecar's fields should be)
            warnings.warn(f"activation cache entry {key} is corrupt ({exc}); rebuilding it", CacheCorruptionWarning,
                          stacklevel=2)
            self.remove(key)
            return None

    def store(self, key: str, array: np.ndarray, meta: dict[str, Any]) -> np.ndarray:
        npy, sidecar = self._paths(key)
        array = np.ascontiguousarray(array, dtype=self.dtype)
        write_npy(npy, array)
        write_json(sidecar, {**meta, "key": key, "shape": list(array.shape), "dtype": str(array.dtype),
                             "sha256": file_sha256(npy), "created": time.time()})
        return np.load(npy, mmap_mode="r", allow_pickle=False)

    def remove(self, key: str) -> None:
        for path in self._paths(key):
            path.unlink(missing_ok=True)

    def entries(self) -> list[CacheEntry]:
        out = []
        for sidecar in sorted(self.root.glob("*.json")):
            try:
                meta = json.loads(sidecar.read_text())
            except (OSError, json.JSONDecodeError):
                meta = {"corrupt": True}
            if not isinstance(meta, dict):
                meta = {"corrupt": True}
            out.append(CacheEntry(sidecar.stem, self.root / f"{sidecar.stem}.npy", sidecar, meta))
        return out

    def clear(self) -> int:
        entries = self.entries()
        for entry in entries:
            self.remove(entry.key)
        for stray in list(self.root.glob("*.npy")) + list(self.root.glob("*.lock")) + list(self.root.glob(".*.tmp")):
            stray.unlink(missing_ok=True)
        return len(entries)

    def is_cached(self, task: Task, encoder: Encoder) -> bool:
        return self._paths(self.key(task.parent or task, encoder))[1].exists()

    def featurize(self, task: Task, encoder: Encoder, refresh: bool = False) -> np.ndarray:
        """Features `[n, d]` for every input of `task`, from the cache or computed and stored."""
        encoder.check_modality(task.modality)
        if task.parent is not None:
            # Computed once for the root task and indexed for the subset, always: encoders fit on the data
            # (TF-IDF, PCA) must see the same texts whatever was cached before, or results would depend on
            # the cache's history. (This makes a subset cost as much as its root task to featurize.)
            return np.asarray(self.featurize(task.parent, encoder, refresh=refresh))[task.parent_indices]
        return self._features(self.key(task, encoder), task.inputs, task.name, task.content_hash, encoder, refresh)

    def featurize_texts(self, texts: list[str], encoder: Encoder, name: str = "texts") -> np.ndarray:
        """Features `[n, d]` of loose texts (inputs a model wrote: no task, no labels), cached by their content."""
        encoder.check_modality("text")
        data_hash = hash_strings(list(texts))
        key = stable_hash({"encoder": encoder.identity(), "texts": data_hash, "dtype": self.dtype}, length=32)
        return self._features(key, list(texts), name, data_hash, encoder)

    def _features(self, key: str, inputs, name: str, data_hash: str, encoder: Encoder, refresh: bool = False) -> np.ndarray:
        if not refresh and (hit := self.load(key)) is not None:
            return hit
        with FileLock(str(self.root / f"{key}.lock")):
            # Another process may have written the entry while this one waited for the lock.
            if not refresh and (hit := self.load(key)) is not None:
                return hit
            start = time.perf_counter()
            with progress_bar(f"featurizing {name} with {encoder.name}", len(inputs)) as advance:
                features = encoder.encode(inputs, progress=advance)
            if features.shape[0] != len(inputs) or features.ndim != 2:
                raise RuntimeError(f"encoder {encoder.name} returned shape {features.shape} for {len(inputs)} inputs")
            meta = {"encoder": encoder.identity(), "encoder_name": encoder.name, "task": name,
                    "data_hash": data_hash, "seconds": round(time.perf_counter() - start, 3)}
            return self.store(key, features, meta)


def featurize(task: Task, encoder: Encoder | str, refresh: bool = False, cache: ActivationCache | None = None) -> np.ndarray:
    """Features of a task's inputs under an encoder (by name or instance), through the activation cache."""
    if isinstance(encoder, str):
        encoder = get_encoder(encoder)
    return (cache or ActivationCache()).featurize(task, encoder, refresh=refresh)
