"""Preprocessing transformers against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn import preprocessing as skp

from groundup.errors import NotFittedError
from groundup.ml.preprocessing import (
    LabelEncoder,
    MinMaxScaler,
    OneHotEncoder,
    PolynomialFeatures,
    StandardScaler,
)
from groundup.ml.testing import check_estimator

finite_matrices = arrays(
    np.float64,
    st.tuples(st.integers(1, 12), st.integers(1, 5)),
    elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=40, deadline=None)
@given(X=finite_matrices)
def test_standard_scaler_matches_sklearn(X):
    ours = StandardScaler().fit(X)
    ref = skp.StandardScaler().fit(X)
    np.testing.assert_allclose(ours.mean_, ref.mean_, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(ours.var_, ref.var_, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-9, atol=1e-8)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(X)), X, atol=1e-8)


@settings(max_examples=40, deadline=None)
@given(X=finite_matrices, low=st.floats(-5, 0), width=st.floats(0.5, 5))
def test_minmax_scaler_matches_sklearn(X, low, width):
    rng = (low, low + width)
    ours = MinMaxScaler(rng).fit(X)
    ref = skp.MinMaxScaler(rng).fit(X)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), atol=1e-9)
    np.testing.assert_allclose(ours.scale_, ref.scale_, rtol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(X)), X, atol=1e-8)


def test_scalers_options_and_nan_passthrough():
    X = np.array([[1.0, np.nan], [2.0, 4.0], [4.0, 8.0]])
    np.testing.assert_allclose(StandardScaler().fit_transform(X), skp.StandardScaler().fit_transform(X), equal_nan=True)
    for kwargs in ({"with_mean": False}, {"with_std": False}):
        np.testing.assert_allclose(
            StandardScaler(**kwargs).fit_transform(X), skp.StandardScaler(**kwargs).fit_transform(X), equal_nan=True
        )
    Xt = np.array([[10.0, 1.0]])
    np.testing.assert_allclose(
        MinMaxScaler(clip=True).fit(X[1:]).transform(Xt), skp.MinMaxScaler(clip=True).fit(X[1:]).transform(Xt)
    )
    with pytest.raises(ValueError, match=r"feature_range=\(1, 0\)"):
        MinMaxScaler((1, 0)).fit(X)
    with pytest.raises(ValueError, match=r"X has 1 feature\(s\).*fitted with 2"):
        StandardScaler().fit(X).transform([[1.0]])
    with pytest.raises(NotFittedError):
        MinMaxScaler().transform(X)


@pytest.mark.parametrize("drop", [None, "first", "if_binary"])
def test_one_hot_encoder_matches_sklearn(drop):
    X = np.array([["red", "S", 1], ["blue", "M", 2], ["red", "L", 1], ["green", "M", 1]], dtype=object)
    ours = OneHotEncoder(drop=drop).fit(X)
    ref = skp.OneHotEncoder(drop=drop, sparse_output=False).fit(X)
    np.testing.assert_array_equal(ours.transform(X), ref.transform(X))
    for a, b in zip(ours.categories_, ref.categories_):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ours.get_feature_names_out(), ref.get_feature_names_out())
    np.testing.assert_array_equal(ours.inverse_transform(ours.transform(X)), ref.inverse_transform(ref.transform(X)))


def test_one_hot_encoder_unknown_categories():
    X = np.array([["a"], ["b"]])
    with pytest.raises(ValueError, match=r"X column 0 has unknown categories \['c'\].*help: pass handle_unknown='ignore'"):
        OneHotEncoder().fit(X).transform([["c"]])
    ignored = OneHotEncoder(handle_unknown="ignore").fit(X).transform([["c"], ["b"]])
    expected = skp.OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(X).transform([["c"], ["b"]])
    np.testing.assert_array_equal(ignored, expected)
    np.testing.assert_array_equal(
        OneHotEncoder(categories=[["a", "b", "z"]]).fit(X).transform(X),
        skp.OneHotEncoder(categories=[["a", "b", "z"]], sparse_output=False).fit(X).transform(X),
    )


def test_label_encoder_matches_sklearn():
    y = ["paris", "tokyo", "paris", "amsterdam"]
    ours, ref = LabelEncoder().fit(y), skp.LabelEncoder().fit(y)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    np.testing.assert_array_equal(ours.transform(y), ref.transform(y))
    np.testing.assert_array_equal(LabelEncoder().fit_transform(y), ref.transform(y))
    np.testing.assert_array_equal(ours.inverse_transform([2, 0]), ref.inverse_transform([2, 0]))
    with pytest.raises(ValueError, match=r"unseen labels \['rome'\]"):
        ours.transform(["rome"])
    with pytest.raises(ValueError, match=r"codes outside 0..2"):
        ours.inverse_transform([3])


@settings(max_examples=25, deadline=None)
@given(
    X=arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)), elements=st.floats(-3, 3)),
    degree=st.integers(0, 3),
    interaction_only=st.booleans(),
    include_bias=st.booleans(),
)
def test_polynomial_features_match_sklearn(X, degree, interaction_only, include_bias):
    kwargs = {"interaction_only": interaction_only, "include_bias": include_bias}
    ref = skp.PolynomialFeatures(degree, **kwargs)
    try:
        expected = ref.fit_transform(X)
    except ValueError:  # degree 0 without bias: no output column, scikit-learn refuses
        return
    ours = PolynomialFeatures(degree, **kwargs).fit(X)
    np.testing.assert_allclose(ours.transform(X), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(ours.powers_, ref.powers_)
    np.testing.assert_array_equal(ours.get_feature_names_out(), ref.get_feature_names_out())


@pytest.mark.parametrize(
    "estimator",
    [StandardScaler(), StandardScaler(with_mean=False), MinMaxScaler((-1, 1)), OneHotEncoder(handle_unknown="ignore"),
     PolynomialFeatures(3, interaction_only=True)],
    ids=repr,
)
def test_check_estimator_passes(estimator):
    assert set(check_estimator(estimator).values()) == {"passed"}
