"""Label-preserving transformations of inputs, for consistency checks without labels.

Text (topic tasks): templated rewordings that keep the topic, and evidence appending for monotonicity.
Images: one-pixel shifts (digits, Fashion-MNIST) and horizontal flips (Fashion-MNIST only: a flipped
digit is another digit).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

TextTransform = Callable[[str], str]


def _swap_headline(text: str) -> str:
    title, sep, rest = text.partition(". ")
    return f"{rest.rstrip('.')}. {title}." if sep and rest else text


TEXT_PARAPHRASES: dict[str, TextTransform] = {
    "prefix": lambda t: f"News report: {t}",
    "lowercase": str.lower,
    "suffix": lambda t: f"{t} (as reported by the BBC)",
    "swap-headline": _swap_headline,
}


def shift(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Shift `[n, h, w]` images by (dy, dx) pixels, filling with zeros."""
    out = np.zeros_like(images)
    h, w = images.shape[1:3]
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[:, yd, xd] = images[:, ys, xs]
    return out


def image_transforms(task_name: str) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    transforms = {"shift-right": lambda x: shift(x, 0, 1), "shift-down": lambda x: shift(x, 1, 0),
                  "shift-left": lambda x: shift(x, 0, -1)}
    if task_name.startswith("fashion"):
        transforms["flip"] = lambda x: x[:, :, ::-1].copy()
    return transforms
