"""``check_estimator``: the common checks every groundup estimator must pass, reported by name."""

from __future__ import annotations

import pickle
import warnings

import numpy as np

from groundup.errors import ConvergenceWarning, NotFittedError
from groundup.ml.base import clone, is_classifier, is_regressor

__all__ = ["check_estimator", "CHECKS"]


def _data(estimator, n_samples=60, n_features=4, seed=0):
    """Small data suited to the estimator: well-separated blobs for classifiers, a noisy linear
    target for regressors, positive features for transformers."""
    rng = np.random.default_rng(seed)
    if is_classifier(estimator):
        y = np.arange(n_samples) % 3
        centers = 6.0 * rng.normal(size=(3, n_features))
        X = centers[y] + rng.normal(size=(n_samples, n_features))
        return X, y
    X = rng.normal(size=(n_samples, n_features))
    if is_regressor(estimator):
        y = X @ rng.normal(size=n_features) + 0.1 * rng.normal(size=n_samples) + 1.0
        return X, y
    return np.abs(X) + 0.5, None


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X) if y is None else est.fit(X, y)


def _outputs(est, X) -> dict:
    """Every prediction-like output of a fitted estimator on X."""
    out = {}
    for method in ("predict", "predict_proba", "decision_function", "transform"):
        if hasattr(est, method):
            out[method] = np.asarray(getattr(est, method)(X))
    return out


def _assert_same_outputs(a: dict, b: dict, what: str):
    if a.keys() != b.keys():
        raise AssertionError(f"{what}: different methods {sorted(a)} vs {sorted(b)}")
    for method in a:
        if a[method].dtype.kind in "fc":
            if not np.allclose(a[method], b[method], rtol=1e-7, atol=1e-9):
                raise AssertionError(f"{what}: {method} differs (max diff {np.abs(a[method] - b[method]).max():.3g})")
        elif not np.array_equal(a[method], b[method]):
            raise AssertionError(f"{what}: {method} differs")


def check_no_attributes_set_in_init(est):
    """``__init__`` stores exactly its parameters and learns nothing."""
    fresh = clone(est)
    params = fresh.get_params(deep=False)
    attributes = set(vars(fresh))
    extra = attributes - set(params)
    if extra:
        raise AssertionError(f"__init__ sets attributes that are not parameters: {sorted(extra)}")
    missing = set(params) - attributes
    if missing:
        raise AssertionError(f"parameters not stored as attributes of the same name: {sorted(missing)}")


def check_clone_round_trip(est):
    """``clone`` gives the same class with equal parameters, and an unfitted object."""
    copy = clone(est)
    if type(copy) is not type(est):
        raise AssertionError(f"clone returned {type(copy).__name__}")
    a, b = est.get_params(deep=False), copy.get_params(deep=False)
    for name in a:
        if repr(a[name]) != repr(b[name]):
            raise AssertionError(f"clone changed parameter {name!r}: {a[name]!r} -> {b[name]!r}")
    if any(k.endswith("_") and not k.startswith("_") for k in vars(copy)):
        raise AssertionError("clone carried fitted attributes")
    if repr(copy) != repr(est):
        raise AssertionError(f"repr differs after clone: {repr(est)} vs {repr(copy)}")


def check_not_fitted_error(est):
    """Every prediction method raises NotFittedError before ``fit``."""
    X, _ = _data(est)
    fresh = clone(est)
    for method in ("predict", "predict_proba", "decision_function", "transform"):
        if hasattr(fresh, method):
            try:
                getattr(fresh, method)(X)
            except NotFittedError:
                continue
            raise AssertionError(f"{method} before fit did not raise NotFittedError")


def check_fit_returns_self(est):
    """``fit`` returns the estimator itself."""
    X, y = _data(est)
    fresh = clone(est)
    if _fit(fresh, X, y) is not fresh:
        raise AssertionError("fit did not return self")


def check_nan_rejected(est):
    """Non-finite input is rejected with a ValueError naming X (NaN too unless the estimator
    handles missing values)."""
    X, y = _data(est)
    bad_values = [np.inf] if getattr(est, "_allow_nan", False) else [np.nan, np.inf]
    for bad in bad_values:
        Xb = X.copy()
        Xb[0, 0] = bad
        try:
            _fit(clone(est), Xb, y)
        except ValueError as exc:
            if "X" not in str(exc):
                raise AssertionError(f"error for {bad} in X does not name X: {exc}") from None
            continue
        raise AssertionError(f"fit accepted X containing {bad}")


def check_idempotent_fit(est):
    """Fitting twice gives the same model as the second fit alone."""
    X, y = _data(est)
    X2, y2 = _data(est, seed=1)
    once = _fit(clone(est), X, y)
    twice = _fit(_fit(clone(est), X2, y2), X, y)
    _assert_same_outputs(_outputs(once, X), _outputs(twice, X), "refit")


def check_subset_invariance(est):
    """Predicting on a batch equals predicting each part separately."""
    X, y = _data(est)
    fitted = _fit(clone(est), X, y)
    whole = _outputs(fitted, X)
    parts = [_outputs(fitted, X[i : i + 7]) for i in range(0, len(X), 7)]
    joined = {m: np.concatenate([p[m] for p in parts]) for m in whole}
    _assert_same_outputs(whole, joined, "subset invariance")


def check_one_sample_one_feature(est):
    """One feature fits; predicting one sample returns one row."""
    X, y = _data(est, n_features=1)
    fitted = _fit(clone(est), X, y)
    for method, value in _outputs(fitted, X[:1]).items():
        if value.shape[0] != 1:
            raise AssertionError(f"{method} on one sample returned shape {value.shape}")


def check_n_features_mismatch(est):
    """Predicting with a different number of features than at fit raises a ValueError."""
    X, y = _data(est)
    fitted = _fit(clone(est), X, y)
    if getattr(fitted, "n_features_in_", None) != X.shape[1]:
        raise AssertionError(f"n_features_in_ is {getattr(fitted, 'n_features_in_', None)}, expected {X.shape[1]}")
    for method in ("predict", "predict_proba", "decision_function", "transform"):
        if hasattr(fitted, method):
            try:
                getattr(fitted, method)(X[:, :-1])
            except ValueError:
                continue
            raise AssertionError(f"{method} accepted X with {X.shape[1] - 1} features after fitting {X.shape[1]}")


def check_pickle_round_trip(est):
    """A fitted estimator survives pickling with identical outputs (fine in tests; groundup never
    stores weights with pickle)."""
    X, y = _data(est)
    fitted = _fit(clone(est), X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    _assert_same_outputs(_outputs(fitted, X), _outputs(restored, X), "pickle round trip")


def check_inputs_unchanged(est):
    """Neither ``fit`` nor prediction modifies X or y."""
    X, y = _data(est)
    X0 = X.copy()
    y0 = None if y is None else y.copy()
    fitted = _fit(clone(est), X, y)
    _outputs(fitted, X)
    if not np.array_equal(X, X0):
        raise AssertionError("X was modified")
    if y is not None and not np.array_equal(y, y0):
        raise AssertionError("y was modified")


def check_1d_X_rejected(est):
    """A 1-D X is rejected with an error that suggests reshape."""
    X, y = _data(est)
    try:
        _fit(clone(est), X[:, 0], y)
    except ValueError as exc:
        if "reshape" not in str(exc):
            raise AssertionError(f"error for 1-D X does not suggest reshape: {exc}") from None
        return
    raise AssertionError("fit accepted a 1-D X")


CHECKS = {
    "no_attributes_set_in_init": check_no_attributes_set_in_init,
    "clone_round_trip": check_clone_round_trip,
    "not_fitted_error": check_not_fitted_error,
    "fit_returns_self": check_fit_returns_self,
    "nan_rejected": check_nan_rejected,
    "idempotent_fit": check_idempotent_fit,
    "subset_invariance": check_subset_invariance,
    "one_sample_one_feature": check_one_sample_one_feature,
    "n_features_mismatch": check_n_features_mismatch,
    "pickle_round_trip": check_pickle_round_trip,
    "inputs_unchanged": check_inputs_unchanged,
    "1d_X_rejected": check_1d_X_rejected,
}


def check_estimator(estimator, *, raise_on_failure: bool = True) -> dict[str, str]:
    """Run every check in :data:`CHECKS` on ``estimator`` and return ``{check name: "passed" or
    "failed: <reason>"}``. With ``raise_on_failure`` (default) an AssertionError lists every failed
    check by name. An estimator whose ``random_state`` is None is checked with ``random_state=0``
    (as scikit-learn's checks seed it): refitting must then give the same model."""
    params = estimator.get_params(deep=False) if hasattr(estimator, "get_params") else {}
    if "random_state" in params and params["random_state"] is None:
        estimator = clone(estimator).set_params(random_state=0)
    report = {}
    for name, check in CHECKS.items():
        try:
            check(estimator)
        except Exception as exc:  # noqa: BLE001 -- every failure is reported under its check's name
            report[name] = f"failed: {type(exc).__name__}: {exc}"
        else:
            report[name] = "passed"
    failed = {k: v for k, v in report.items() if v != "passed"}
    if failed and raise_on_failure:
        lines = "\n".join(f"  {k}: {v}" for k, v in failed.items())
        raise AssertionError(f"{type(estimator).__name__} failed {len(failed)} of {len(report)} checks:\n{lines}")
    return report
