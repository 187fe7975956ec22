"""Fashion-MNIST from Debian's `dataset-fashion-mnist` package (gzip IDX files)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from superalign.data.registry import TASKS
from superalign.data.task import Task
from superalign.errors import MissingDependencyError, SuperalignError

FASHION_CLASSES = ["t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
                   "ankle boot"]
_DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path: Path) -> np.ndarray:
    """Reads an IDX file (gzip or plain) as a uint8 array; rejects a malformed header with its reason."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise SuperalignError(f"{path}: not an unsigned-byte IDX file (bad magic number); reinstall the dataset")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise SuperalignError(f"{path}: header says {shape} but holds {body.size} bytes (truncated?); reinstall")
    return body.reshape(shape)


def _find(root: Path, stem: str) -> Path:
    for name in (f"{stem}.gz", stem):
        if (root / name).exists():
            return root / name
    raise MissingDependencyError(
        f"Fashion-MNIST not found in {root} ({stem}); install it with: apt-get install dataset-fashion-mnist "
        "(or set SUPERALIGN_FASHION_MNIST_DIR to a folder with the IDX files)"
    )


@TASKS.register("fashion-mnist", help="Fashion-MNIST 28x28 grey images, 10 classes (70,000; apt package)")
def fashion_mnist() -> Task:
    from superalign.settings import settings

    root = Path(settings().fashion_mnist_dir)
    parts = []
    for prefix in ("train", "t10k"):
        images = read_idx(_find(root, f"{prefix}-images-idx3-ubyte"))
        labels = read_idx(_find(root, f"{prefix}-labels-idx1-ubyte"))
        parts.append((images, labels))
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts]).astype(np.int64)
    return Task("fashion-mnist", images, labels, FASHION_CLASSES, "image", "Fashion-MNIST, 28x28 grey images")
