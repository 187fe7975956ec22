"""scikit-learn's bundled datasets: breast-cancer (tabular, binary) and digits (8x8 images, 10 classes)."""

from __future__ import annotations

import numpy as np

from superalign.data.registry import TASKS
from superalign.data.task import Task


@TASKS.register("breast-cancer", help="Wisconsin breast cancer, 30 features, binary (569)")
def breast_cancer() -> Task:
    from sklearn import datasets  # imported when the task is built: scikit-learn is slow to import

    data = datasets.load_breast_cancer()
    return Task("breast-cancer", data.data.astype(np.float32), data.target, list(data.target_names), "tabular",
                "Wisconsin diagnostic breast cancer: 30 numeric features, malignant vs benign")


@TASKS.register("digits", help="handwritten digits, 8x8 images, 10 classes (1,797)")
def digits() -> Task:
    from sklearn import datasets

    data = datasets.load_digits()
    # Pixel values are 0..16; scale to the 0..255 range of the other image tasks.
    images = (data.images * (255.0 / 16.0)).round().astype(np.uint8)  # [n, 8, 8]
    return Task("digits", images, data.target, [str(d) for d in range(10)], "image",
                "UCI handwritten digits, 8x8 grey images")
