"""The estimator contract (groundup.ml.base) and input validation (groundup.ml.validation)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score as sk_accuracy
from sklearn.metrics import r2_score as sk_r2

from groundup.errors import DTypeError, NotFittedError, ShapeError
from groundup.ml.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    TransformerMixin,
    check_is_fitted,
    clone,
)
from groundup.ml.validation import (
    check_array,
    check_classification_targets,
    check_n_features,
    check_random_state,
    check_sample_weight,
    check_X_y,
)


class Inner(BaseEstimator):
    def __init__(self, depth=3, scale=1.0):
        self.depth = depth
        self.scale = scale

    def fit(self, X, y=None):
        self.fitted_ = True
        return self


class Outer(BaseEstimator):
    def __init__(self, inner=None, alpha=0.5, weights=None):
        self.inner = inner
        self.alpha = alpha
        self.weights = weights

    def fit(self, X, y=None):
        return self


class ConstantRegressor(RegressorMixin, BaseEstimator):
    def __init__(self, predictions=None):
        self.predictions = predictions

    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.asarray(self.predictions)


class ConstantClassifier(ClassifierMixin, ConstantRegressor):
    pass


class Doubler(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        self.seen_ = y
        return self

    def transform(self, X):
        return 2 * np.asarray(X)


def test_get_params_nested_and_shallow():
    est = Outer(inner=Inner(depth=5), alpha=2.0)
    assert est.get_params(deep=False) == {"inner": est.inner, "alpha": 2.0, "weights": None}
    deep = est.get_params()
    assert deep["inner__depth"] == 5 and deep["inner__scale"] == 1.0 and deep["alpha"] == 2.0


def test_set_params_nested_returns_self_and_rejects_unknown():
    est = Outer(inner=Inner())
    assert est.set_params(alpha=3.0, inner__depth=7) is est
    assert est.alpha == 3.0 and est.inner.depth == 7
    with pytest.raises(ValueError, match=r"invalid parameter 'beta'.*help:"):
        est.set_params(beta=1)
    with pytest.raises(ValueError, match="invalid parameter 'nope'"):
        est.set_params(inner__nope=1)


def test_repr_shows_only_non_default_parameters():
    assert repr(Outer()) == "Outer()"
    assert repr(Outer(inner=Inner(depth=4), alpha=1.0)) == "Outer(alpha=1.0, inner=Inner(depth=4))"
    # An array parameter is always shown (it cannot be compared with its default).
    assert "weights=array" in repr(Outer(weights=np.ones(2)))


def test_clone_copies_parameters_deeply_and_drops_fitted_state():
    inner = Inner(depth=9).fit(None)
    est = Outer(inner=inner, alpha=0.1)
    copy = clone(est)
    assert type(copy) is Outer and copy.alpha == 0.1
    assert copy.inner is not inner and copy.inner.depth == 9
    assert not hasattr(copy.inner, "fitted_")
    assert [type(e) for e in clone([Inner(), Outer()])] == [Inner, Outer]
    with pytest.raises(TypeError, match="help:"):
        clone(object())


def test_clone_detects_init_that_modifies_parameters():
    class Bad(BaseEstimator):
        def __init__(self, values=(1, 2)):
            self.values = list(values)

    with pytest.raises(RuntimeError, match="changed parameter 'values'"):
        clone(Bad())


def test_check_is_fitted_raises_not_fitted_error_with_hint():
    est = Inner()
    with pytest.raises(NotFittedError, match=r"Inner instance is not fitted yet; help: call Inner.fit"):
        check_is_fitted(est)
    assert isinstance(NotFittedError("x"), AttributeError)
    est.fit(None)
    check_is_fitted(est)
    check_is_fitted(est, "fitted_")
    with pytest.raises(NotFittedError):
        check_is_fitted(est, ["fitted_", "coef_"])


def test_classifier_score_is_accuracy_like_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 50)
    pred = rng.integers(0, 3, 50)
    w = rng.random(50)
    clf = ConstantClassifier(pred)
    assert clf.score(None, y) == pytest.approx(sk_accuracy(y, pred))
    assert clf.score(None, y, sample_weight=w) == pytest.approx(sk_accuracy(y, pred, sample_weight=w))


def test_regressor_score_is_r2_like_sklearn():
    rng = np.random.default_rng(1)
    y = rng.normal(size=40)
    pred = y + 0.3 * rng.normal(size=40)
    assert ConstantRegressor(pred).score(None, y) == pytest.approx(sk_r2(y, pred), rel=1e-12)
    Y = rng.normal(size=(40, 3))
    P = Y + rng.normal(size=(40, 3))
    assert ConstantRegressor(P).score(None, Y) == pytest.approx(sk_r2(Y, P), rel=1e-12)
    # Constant target: perfect prediction scores 1, anything else 0 (scikit-learn's convention).
    assert ConstantRegressor(np.ones(4)).score(None, np.ones(4)) == sk_r2(np.ones(4), np.ones(4)) == 1.0
    assert ConstantRegressor(np.zeros(4)).score(None, np.ones(4)) == sk_r2(np.ones(4), np.zeros(4)) == 0.0


def test_fit_transform_passes_y():
    t = Doubler()
    np.testing.assert_array_equal(t.fit_transform([[1, 2]], y=[5]), [[2, 4]])
    assert t.seen_ == [5]


# ---- validation --------------------------------------------------------------------------------


def test_check_array_converts_lists_and_keeps_values():
    X = check_array([[1, 2], [3, 4]])
    assert X.dtype == np.float64 and X.shape == (2, 2)
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    X32 = np.ones((3, 2), dtype=np.float32)
    assert check_array(X32, dtype=[np.float64, np.float32]).dtype == np.float32
    assert check_array(X32).dtype == np.float64
    assert check_array([["a", "b"]], dtype=None).dtype.kind == "U"


def test_check_array_accepts_dataframe_like_objects():
    class Frame:  # the part of the pandas API that check_array uses
        def to_numpy(self):
            return np.array([[1.0, 2.0], [3.0, 4.0]])

    np.testing.assert_array_equal(check_array(Frame()), [[1, 2], [3, 4]])


def test_check_array_accepts_pandas_frames():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1, 2], "b": [3.5, 4.5]})
    np.testing.assert_array_equal(check_array(frame), [[1, 3.5], [2, 4.5]])


@pytest.mark.parametrize(
    ("bad", "error", "pattern"),
    [
        ([1.0, 2.0, 3.0], ShapeError, r"X must be a 2-D array.*got a 1-D array of shape \(3,\).*help: use X.reshape\(-1, 1\)"),
        (np.zeros((2, 2, 2)), ShapeError, r"got 3-D shape \(2, 2, 2\).*help: flatten"),
        (5.0, ShapeError, r"got a scalar"),
        ([[1.0, np.nan]], ValueError, r"X contains 1 NaN value\(s\).*help: impute"),
        ([[1.0, np.inf]], ValueError, r"X contains 1 infinite value\(s\)"),
        ([["a", "b"]], DTypeError, r"X has dtype <U1 that cannot be converted.*help: encode"),
        ([[1.0, 2.0], [3.0]], ShapeError, r"could not be made into an array"),
        (np.zeros((0, 3)), ShapeError, r"X has 0 sample\(s\).*at least 1"),
        (np.zeros((3, 0)), ShapeError, r"X has 0 feature\(s\)"),
        ([[1 + 2j]], DTypeError, r"complex"),
    ],
)
def test_check_array_rejects_bad_input_with_named_errors(bad, error, pattern):
    with pytest.raises(error, match=pattern):
        check_array(bad)


def test_check_array_allow_nan_and_names_the_argument():
    X = check_array([[np.nan, 1.0]], allow_nan=True)
    assert np.isnan(X[0, 0])
    with pytest.raises(ValueError, match=r"X_test contains 1 NaN"):
        check_array([[np.nan]], name="X_test")
    with pytest.raises(ShapeError, match=r"at least 3 are required"):
        check_array([[1.0], [2.0]], ensure_min_samples=3)


def test_check_X_y_validates_together():
    X, y = check_X_y([[1], [2], [3]], [[0], [1], [0]])
    assert X.shape == (3, 1) and y.shape == (3,)
    with pytest.raises(ShapeError, match=r"X has 3 rows.*y has 2"):
        check_X_y([[1], [2], [3]], [1, 2])
    with pytest.raises(DTypeError, match=r"y has non-numeric labels.*regressor; help:"):
        check_X_y([[1], [2]], ["cat", "dog"], y_numeric=True)
    with pytest.raises(ValueError, match=r"y contains 1 NaN"):
        check_X_y([[1], [2]], [1.0, np.nan])
    with pytest.raises(ShapeError, match=r"y must be 1-D"):
        check_X_y([[1], [2]], [[1, 2], [3, 4]])
    _, Y = check_X_y([[1], [2]], [[1, 2], [3, 4]], multi_output=True, y_numeric=True)
    assert Y.shape == (2, 2)
    assert check_X_y([[1], [2]], ["3", "4.5"], y_numeric=True)[1].tolist() == [3.0, 4.5]


def test_check_sample_weight():
    np.testing.assert_array_equal(check_sample_weight(None, 3), np.ones(3))
    np.testing.assert_array_equal(check_sample_weight(2.0, 2), [2.0, 2.0])
    np.testing.assert_array_equal(check_sample_weight([1, 0, 3], 3), [1.0, 0.0, 3.0])
    with pytest.raises(ShapeError, match=r"sample_weight has shape \(2,\), expected \(3,\)"):
        check_sample_weight([1, 2], 3)
    with pytest.raises(ValueError, match=r"sample_weight has 1 negative"):
        check_sample_weight([1, -1, 2], 3)


def test_check_random_state():
    a = check_random_state(42).random(3)
    np.testing.assert_array_equal(a, np.random.default_rng(42).random(3))
    g = np.random.default_rng(0)
    assert check_random_state(g) is g
    assert isinstance(check_random_state(None), np.random.Generator)
    assert isinstance(check_random_state(np.random.RandomState(0)), np.random.Generator)
    with pytest.raises(TypeError, match="random_state='x'"):
        check_random_state("x")
    with pytest.raises(ValueError, match="non-negative"):
        check_random_state(-1)


def test_check_n_features():
    est = Inner()
    check_n_features(est, np.zeros((4, 3)), reset=True)
    assert est.n_features_in_ == 3
    check_n_features(est, np.zeros((1, 3)), reset=False)
    with pytest.raises(ShapeError, match=r"X has 2 feature\(s\) \(shape \(5, 2\)\), but Inner was fitted with 3"):
        check_n_features(est, np.zeros((5, 2)), reset=False)


def test_check_classification_targets():
    np.testing.assert_array_equal(check_classification_targets(["b", "a", "b"]), ["a", "b"])
    np.testing.assert_array_equal(check_classification_targets([1.0, 0.0, 2.0]), [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"y looks continuous.*classifier; help:"):
        check_classification_targets([0.5, 1.5, 2.0])
    with pytest.raises(ValueError, match=r"single class \(\[7\]\)"):
        check_classification_targets([7, 7, 7])
