"""Classical ML: groundup vs scikit-learn on the same data, each side in its own process.

Cases (append more to CASES):
  logistic  LogisticRegression (multinomial, L2, C=1, max_iter=200) on MNIST pixels/255, 60k train, 10k test
  ridge     Ridge(alpha=1) on a 100,000 × 100 regression problem
  lasso     Lasso(alpha=0.01) on the same problem

Run:  uv run python benchmarks/classical.py [--rounds 3] [--case logistic]
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


def _idx(name: str, offset: int) -> np.ndarray:
    """A tiny IDX reader: gunzip and view the bytes after the header."""
    with gzip.open(MNIST / name, "rb") as fh:
        return np.frombuffer(fh.read(), dtype=np.uint8, offset=offset)


def load_mnist():
    X_train = _idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784) / 255.0
    y_train = _idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    X_test = _idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784) / 255.0
    y_test = _idx("t10k-labels-idx1-ubyte.gz", 8).astype(np.int64)
    return X_train, y_train, X_test, y_test


def _logistic(make):
    X_train, y_train, X_test, y_test = load_mnist()
    model = make()
    t0 = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "accuracy": float(np.mean(model.predict(X_test) == y_test))}


def groundup_logistic(args):
    import warnings

    from groundup.ml.linear_model import LogisticRegression

    warnings.simplefilter("ignore")
    return _logistic(lambda: LogisticRegression(C=1.0, max_iter=200))


def sklearn_logistic(args):
    import warnings

    from sklearn.linear_model import LogisticRegression

    warnings.simplefilter("ignore")
    return _logistic(lambda: LogisticRegression(C=1.0, max_iter=200))


def regression_data(n=100_000, d=100, seed=0):
    """y = Xw + noise with 20 of the 100 true weights nonzero."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) + rng.normal(size=d)
    w = np.zeros(d)
    w[:20] = rng.normal(size=20)
    y = X @ w + 0.5 * rng.normal(size=n) + 3.0
    return X, y


def _regression(make):
    X, y = regression_data()
    make().fit(X[:2000], y[:2000])  # warm up: first BLAS/LAPACK calls of a process cost extra
    times = []
    for _ in range(3):
        model = make()
        t0 = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - t0)
    seconds = sorted(times)[1]
    return {"seconds": seconds, "r2": float(model.score(X, y)), "nonzero": int(np.sum(model.coef_ != 0))}


def groundup_ridge(args):
    from groundup.ml.linear_model import Ridge

    return _regression(lambda: Ridge(alpha=1.0))


def sklearn_ridge(args):
    from sklearn.linear_model import Ridge

    return _regression(lambda: Ridge(alpha=1.0))


def groundup_lasso(args):
    from groundup.ml.linear_model import Lasso

    return _regression(lambda: Lasso(alpha=0.01))


def sklearn_lasso(args):
    from sklearn.linear_model import Lasso

    return _regression(lambda: Lasso(alpha=0.01))


CASES = {
    "logistic": (groundup_logistic, sklearn_logistic),
    "ridge": (groundup_ridge, sklearn_ridge),
    "lasso": (groundup_lasso, sklearn_lasso),
}
# PCA(50) and t-SNE on 5,000 images live beside this file; the one run covers them too.
from decomposition import CASES as _DECOMPOSITION_CASES  # noqa: E402

CASES.update(_DECOMPOSITION_CASES)

if __name__ == "__main__":
    main(CASES, anchor="scikit-learn")
