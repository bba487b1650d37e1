"""PCA and t-SNE: groundup vs scikit-learn on MNIST, each side in its own process.

Cases:
  pca   PCA(50).fit on the 60,000 MNIST training images (pixels / 255); quality = the explained
        variance ratio kept by the 50 components.
  tsne  TSNE(2, perplexity 30, max_iter 1000, init "pca", method "barnes_hut") on the first 5,000
        training images; quality = sklearn.manifold.trustworthiness (12 neighbours) of the map.

Run:  uv run python benchmarks/decomposition.py [--rounds 3] [--case pca] [--case tsne]
(These cases are also meant to be merged into benchmarks/classical.py's CASES.)
"""

from __future__ import annotations

import gzip
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import main  # noqa: E402

MNIST = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist"


def mnist_pixels(n: int | None = None) -> np.ndarray:
    """MNIST training images as float64 pixels / 255, shape (n, 784)."""
    with gzip.open(MNIST / "train-images-idx3-ubyte.gz", "rb") as fh:
        X = np.frombuffer(fh.read(), dtype=np.uint8, offset=16).reshape(-1, 784)
    return (X if n is None else X[:n]) / 255.0


def _pca(PCA):
    X = mnist_pixels()
    t0 = time.perf_counter()
    model = PCA(n_components=50).fit(X)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "variance_kept": float(np.sum(model.explained_variance_ratio_))}


def groundup_pca(args):
    from groundup.ml.decomposition import PCA

    return _pca(PCA)


def sklearn_pca(args):
    from sklearn.decomposition import PCA

    return _pca(PCA)


def _tsne(TSNE):
    from sklearn.manifold import trustworthiness  # quality metric for both sides

    X = mnist_pixels(5000)
    model = TSNE(n_components=2, perplexity=30.0, max_iter=1000, init="pca",
                 method="barnes_hut", random_state=0)
    t0 = time.perf_counter()
    embedding = model.fit_transform(X)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "trustworthiness": float(trustworthiness(X, embedding)),
            "kl": float(model.kl_divergence_)}


def groundup_tsne(args):
    from groundup.ml.manifold import TSNE

    return _tsne(TSNE)


def sklearn_tsne(args):
    from sklearn.manifold import TSNE

    return _tsne(TSNE)


CASES = {
    "pca": (groundup_pca, sklearn_pca),
    "tsne": (groundup_tsne, sklearn_tsne),
}

if __name__ == "__main__":
    main(CASES, anchor="scikit-learn")
