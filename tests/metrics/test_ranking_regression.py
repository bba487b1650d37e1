"""ROC/PR curves, their areas, and regression metrics against scikit-learn (hypothesis)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

import groundup.metrics as gm
from groundup.errors import ShapeError

SETTINGS = settings(max_examples=40, deadline=None)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@st.composite
def scored_binary(draw, min_size=1):
    """y_true in {0, 1} (possibly one class), scores with many ties, optional weights."""
    n = draw(st.integers(min_size, 40))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, size=n)
    if draw(st.booleans()):
        y_score = rng.integers(0, 4, size=n) / 4.0  # heavy ties
    else:
        y_score = rng.normal(size=n)
    weight = rng.choice([0.0, 0.5, 1.0, 2.0], size=n) if draw(st.booleans()) else None
    if weight is not None:
        weight[0] = 1.0  # all-zero weights are an error
    return y_true, y_score, weight


@SETTINGS
@given(scored_binary(), st.booleans())
def test_roc_curve_and_pr_curve_match_sklearn(data, drop):
    y_true, y_score, w = data
    ours = quiet(gm.roc_curve, y_true, y_score, sample_weight=w, drop_intermediate=drop)
    theirs = quiet(skm.roc_curve, y_true, y_score, sample_weight=w, drop_intermediate=drop)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b)
    ours = quiet(gm.precision_recall_curve, y_true, y_score, sample_weight=w,
                 drop_intermediate=drop)
    theirs = quiet(skm.precision_recall_curve, y_true, y_score, sample_weight=w,
                   drop_intermediate=drop)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b)


@SETTINGS
@given(scored_binary(min_size=2))
def test_binary_auc_and_average_precision_match_sklearn(data):
    y_true, y_score, w = data
    np.testing.assert_allclose(quiet(gm.roc_auc_score, y_true, y_score, sample_weight=w),
                               quiet(skm.roc_auc_score, y_true, y_score, sample_weight=w))
    np.testing.assert_allclose(quiet(gm.average_precision_score, y_true, y_score, sample_weight=w),
                               quiet(skm.average_precision_score, y_true, y_score,
                                     sample_weight=w))
    if len(np.unique(y_true)) == 2:
        for max_fpr in (0.3, 0.75):
            np.testing.assert_allclose(gm.roc_auc_score(y_true, y_score, max_fpr=max_fpr),
                                       skm.roc_auc_score(y_true, y_score, max_fpr=max_fpr))


def test_roc_auc_one_class_is_nan_with_warning():
    with pytest.warns(gm.UndefinedMetricWarning, match="Only one class"):
        assert np.isnan(gm.roc_auc_score([1, 1, 1], [0.2, 0.5, 0.9]))


def test_roc_curve_string_labels_with_pos_label():
    y = np.array(["spam", "ham", "spam", "ham", "ham"])
    s = np.array([0.9, 0.1, 0.4, 0.4, 0.7])
    for a, b in zip(gm.roc_curve(y, s, pos_label="spam"), skm.roc_curve(y, s, pos_label="spam")):
        np.testing.assert_allclose(a, b)
    with pytest.raises(ValueError, match="pos_label.*help:"):
        gm.roc_curve(y, s)


@SETTINGS
@given(st.integers(3, 5), st.integers(0, 2**31), st.booleans(),
       st.sampled_from(["macro", "weighted", "micro", None]))
def test_multiclass_auc_and_ap_match_sklearn(k, seed, ties, average):
    rng = np.random.default_rng(seed)
    n = 40
    y_true = np.r_[np.arange(k), rng.integers(0, k, size=n - k)]
    logits = rng.integers(0, 3, size=(n, k)).astype(float) if ties else rng.normal(size=(n, k))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    w = rng.uniform(0.5, 2, size=n)
    np.testing.assert_allclose(
        gm.roc_auc_score(y_true, proba, multi_class="ovr", average=average),
        skm.roc_auc_score(y_true, proba, multi_class="ovr", average=average))
    np.testing.assert_allclose(
        gm.roc_auc_score(y_true, proba, multi_class="ovr", average=average, sample_weight=w),
        skm.roc_auc_score(y_true, proba, multi_class="ovr", average=average, sample_weight=w))
    if average in ("macro", "weighted"):
        np.testing.assert_allclose(
            gm.roc_auc_score(y_true, proba, multi_class="ovo", average=average),
            skm.roc_auc_score(y_true, proba, multi_class="ovo", average=average))
    np.testing.assert_allclose(
        gm.average_precision_score(y_true, proba, average=average),
        skm.average_precision_score(y_true, proba, average=average))


def test_multiclass_auc_needs_multi_class():
    y = [0, 1, 2, 1]
    p = np.full((4, 3), 1 / 3)
    with pytest.raises(ValueError, match="multi_class.*help:"):
        gm.roc_auc_score(y, p)
    with pytest.raises(ShapeError, match="2 columns.*help:"):
        gm.roc_auc_score(y, p[:, :2] * 1.5, multi_class="ovr")


def test_auc_trapezoid():
    assert gm.auc([0, 1, 2], [0, 1, 1]) == pytest.approx(1.5)
    assert gm.auc([2, 1, 0], [1, 1, 0]) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="neither increasing nor decreasing"):
        gm.auc([0, 2, 1], [0, 1, 1])


@st.composite
def regression_pairs(draw):
    n = draw(st.integers(1, 30))
    outputs = draw(st.sampled_from([None, 1, 3]))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    shape = (n,) if outputs is None else (n, outputs)
    y_true = rng.normal(size=shape)
    if draw(st.booleans()):
        y_true[:] = 1.5  # constant target: R² denominator is zero
    y_pred = y_true + rng.normal(size=shape) * draw(st.sampled_from([0.0, 0.1, 2.0]))
    w = rng.uniform(0.1, 3, size=n)
    return y_true, y_pred, w


@SETTINGS
@given(regression_pairs(), st.sampled_from(["uniform_average", "raw_values"]))
def test_regression_metrics_match_sklearn(data, multioutput):
    y_true, y_pred, w = data
    for name in ("mean_squared_error", "root_mean_squared_error", "mean_absolute_error",
                 "r2_score"):
        for weight in (None, w):
            ours = quiet(getattr(gm, name), y_true, y_pred, sample_weight=weight,
                         multioutput=multioutput)
            theirs = quiet(getattr(skm, name), y_true, y_pred, sample_weight=weight,
                           multioutput=multioutput)
            np.testing.assert_allclose(ours, theirs, atol=1e-12, err_msg=name)
    for force_finite in (True, False):
        np.testing.assert_allclose(
            quiet(gm.r2_score, y_true, y_pred, force_finite=force_finite,
                  multioutput="variance_weighted"),
            quiet(skm.r2_score, y_true, y_pred, force_finite=force_finite,
                  multioutput="variance_weighted"))


def test_regression_bad_input():
    with pytest.raises(ShapeError, match="y_true has 3.*y_pred has 2.*help:"):
        gm.mean_squared_error([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="y_pred contains NaN.*help:"):
        gm.mean_absolute_error([1, 2], [1, np.nan])
