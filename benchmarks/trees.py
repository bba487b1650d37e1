"""Trees and ensembles: groundup vs scikit-learn, fit time and test accuracy, each side in its own process.

    uv run python benchmarks/trees.py --quick --rounds 1        # subsets, minutes
    uv run python benchmarks/trees.py --rounds 1 --case tree    # the issue's full anchors

Cases (full / --quick): tree = DecisionTreeClassifier() on MNIST (60k / 10k rows); forest =
RandomForestClassifier(100, n_jobs=2) on MNIST (60k / 5k, 20 trees); hgb_mnist =
HistGradientBoostingClassifier(max_iter=100) on 10k MNIST rows (2k, 20 iterations), hgb_mnist60k on
all 60k rows (10k); hgb_tabular and gb_tabular on make_classification(100_000, 20) (20k rows);
hgb_tabular_nan the same with 5% of the values missing (NaN, at random).
gb_tabular runs both GradientBoostingClassifier(n_estimators=100) with their defaults: exact splits on
raw values, the same work. gb_tabular_binned runs groundup's with max_bins=255 (first-order boosting
on quantile-binned features) against scikit-learn's exact booster: a different, cheaper algorithm.
tree_mae = DecisionTreeRegressor(criterion="absolute_error") on make_regression(n_features=10,
noise=10) with 20,000 training rows (5,000): fit time and test R². The trees agree to depth 8
(node for node); deeper, exact ties between features are broken in a random feature order per node
by both libraries, from different random streams, so the full trees and their R² differ slightly.
"""

from __future__ import annotations

import gzip
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import main  # noqa: E402

MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "mnist"


def _mnist(kind):
    with gzip.open(MNIST / f"{kind}-images-idx3-ubyte.gz") as fh:
        X = np.frombuffer(fh.read(), np.uint8, offset=16).reshape(-1, 784) / 255.0
    with gzip.open(MNIST / f"{kind}-labels-idx1-ubyte.gz") as fh:
        y = np.frombuffer(fh.read(), np.uint8, offset=8).astype(np.intp)
    return X, y


def _data(case, quick):
    if case == "tree_mae":
        from sklearn.datasets import make_regression
        n = 5_000 if quick else 20_000
        X, y = make_regression(n_samples=n + 5_000, n_features=10, noise=10.0, random_state=0)
        return X[:n], y[:n], X[n:], y[n:]
    if case.startswith(("tree", "forest", "hgb_mnist")):
        X, y = _mnist("train")
        Xt, yt = _mnist("t10k")
        n = {"tree": 10_000, "forest": 5_000, "hgb_mnist": 2_000, "hgb_mnist60k": 10_000}[case] if quick else (
            10_000 if case == "hgb_mnist" else 60_000)
        return X[:n], y[:n], Xt, yt
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split
    X, y = make_classification(n_samples=20_000 if quick else 100_000, n_features=20, random_state=0)
    if case == "hgb_tabular_nan":
        X[np.random.default_rng(0).random(X.shape) < 0.05] = np.nan
    Xa, Xb, ya, yb = train_test_split(X, y, random_state=0)
    return Xa, ya, Xb, yb


def _model(side, case, quick):
    if side == "groundup":
        from groundup.ml import ensemble, tree
    else:
        from sklearn import ensemble, tree
    if case == "tree":
        return tree.DecisionTreeClassifier(random_state=0)
    if case == "tree_mae":
        return tree.DecisionTreeRegressor(criterion="absolute_error", random_state=0)
    if case == "forest":
        return ensemble.RandomForestClassifier(20 if quick else 100, n_jobs=2, random_state=0)
    if case.startswith("hgb"):
        it = 20 if quick and case.startswith("hgb_mnist") else 100
        return ensemble.HistGradientBoostingClassifier(max_iter=it, early_stopping=False, random_state=0)
    kw = {"max_bins": 255} if side == "groundup" and case == "gb_tabular_binned" else {}
    return ensemble.GradientBoostingClassifier(n_estimators=100, random_state=0, **kw)


def _workload(side):
    def run(args):
        case = args.case[0]
        Xa, ya, Xb, yb = _data(case, args.quick)
        model = _model(side, case, args.quick)
        t0 = time.perf_counter()
        model.fit(Xa, ya)
        seconds = time.perf_counter() - t0
        if case == "tree_mae":
            return {"seconds": seconds, "r2": float(model.score(Xb, yb))}
        return {"seconds": seconds, "accuracy": float(np.mean(model.predict(Xb) == yb))}
    return run


CASES = {name: (_workload("groundup"), _workload("anchor"))
         for name in ("tree", "tree_mae", "forest", "hgb_mnist", "hgb_mnist60k", "hgb_tabular", "hgb_tabular_nan",
                      "gb_tabular", "gb_tabular_binned")}

if __name__ == "__main__":
    main(CASES, anchor="scikit-learn",
         extra_args=lambda p: p.add_argument("--quick", action="store_true", help="subsets, minutes not hours"))
