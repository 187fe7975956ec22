"""TF-IDF + truncated SVD: the weakest text rung, no pretrained weights at all.

Fit on the texts it encodes (unsupervised: it never sees labels), so it is deterministic per task.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from superalign.models.encoder import ENCODERS, Encoder


class TfidfSvd(Encoder):
    name = "tfidf"
    modalities = ("text",)
    fitted_on_inputs = True

    def __init__(self, dim: int = 128, max_features: int = 20000):
        self.dim = dim
        self.max_features = max_features
        self._n_params = 0

    def identity(self) -> dict[str, Any]:
        return {"kind": "tfidf-svd", "dim": self.dim, "max_features": self.max_features, "version": 1}

    def n_params(self) -> int:
        # Counted as the size of the fitted projection: vocabulary x dim (0 before fitting).
        return self._n_params or self.max_features * self.dim

    def encode(self, inputs, progress=lambda n: None) -> np.ndarray:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        tfidf = TfidfVectorizer(max_features=self.max_features, sublinear_tf=True, ngram_range=(1, 2), min_df=2)
        sparse = tfidf.fit_transform(list(inputs))  # [n, vocab]
        dim = min(self.dim, sparse.shape[1] - 1, sparse.shape[0] - 1)
        svd = TruncatedSVD(n_components=dim, random_state=0)
        features = svd.fit_transform(sparse).astype(np.float32)  # [n, dim]
        self._n_params = int(svd.components_.size)
        progress(len(inputs))
        return features


ENCODERS.add("tfidf", TfidfSvd, help="TF-IDF (1-2 grams) + SVD to 128-d; no pretrained weights")
