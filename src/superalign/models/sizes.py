"""Parameter counts of encoders, memoized on disk by encoder identity (counting may load a model)."""

from __future__ import annotations

import json

from filelock import FileLock

from superalign.io import stable_hash, write_json
from superalign.models.encoder import Encoder
from superalign.paths import models_dir


def param_count(encoder: Encoder) -> int:
    path = models_dir() / "param-counts.json"
    key = stable_hash(encoder.identity())
    with FileLock(str(path) + ".lock"):
        try:
            known = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            known = {}
        if key not in known:
            known[key] = {"name": encoder.name, "params": int(encoder.n_params())}
            write_json(path, known)
    return int(known[key]["params"])
