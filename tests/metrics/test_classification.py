"""groundup.metrics classification metrics against scikit-learn on random labels (hypothesis)."""

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


@st.composite
def label_pairs(draw, max_classes=4, weighted=False):
    """(y_true, y_pred[, sample_weight]) with 1..30 samples over up to ``max_classes`` labels."""
    n = draw(st.integers(1, 30))
    k = draw(st.integers(1, max_classes))
    labels = st.integers(0, k - 1)
    y_true = np.array(draw(st.lists(labels, min_size=n, max_size=n)))
    y_pred = np.array(draw(st.lists(labels, min_size=n, max_size=n)))
    if not weighted:
        return y_true, y_pred
    w = np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5]), min_size=n,
                               max_size=n)))
    w[0] = max(w[0], 1.0)  # all-zero weights are an error in both libraries
    return y_true, y_pred, w


def quiet(fn, *args, **kwargs):
    """Call ``fn`` with its UndefinedMetricWarning-style warnings silenced (both libraries warn)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@SETTINGS
@given(label_pairs(weighted=True))
def test_accuracy_and_confusion_matrix_match_sklearn(data):
    y_true, y_pred, w = data
    assert gm.accuracy_score(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert gm.accuracy_score(y_true, y_pred, sample_weight=w) == pytest.approx(
        skm.accuracy_score(y_true, y_pred, sample_weight=w))
    assert gm.accuracy_score(y_true, y_pred, normalize=False) == skm.accuracy_score(
        y_true, y_pred, normalize=False)
    np.testing.assert_array_equal(gm.confusion_matrix(y_true, y_pred),
                                  skm.confusion_matrix(y_true, y_pred))
    np.testing.assert_allclose(gm.confusion_matrix(y_true, y_pred, sample_weight=w),
                               skm.confusion_matrix(y_true, y_pred, sample_weight=w))
    for normalize in ("true", "pred", "all"):
        np.testing.assert_allclose(
            gm.confusion_matrix(y_true, y_pred, normalize=normalize),
            quiet(skm.confusion_matrix, y_true, y_pred, normalize=normalize))


def test_confusion_matrix_with_labels_subset_and_strings():
    y_true = ["cat", "dog", "bird", "cat", "dog"]
    y_pred = ["dog", "dog", "cat", "cat", "bird"]
    for labels in (None, ["dog", "cat"], ["cat", "bird", "fish"]):
        np.testing.assert_array_equal(gm.confusion_matrix(y_true, y_pred, labels=labels),
                                      skm.confusion_matrix(y_true, y_pred, labels=labels))


@SETTINGS
@given(label_pairs(weighted=True), st.sampled_from(["warn", 0.0, 1.0, np.nan]),
       st.sampled_from([None, "micro", "macro", "weighted"]))
def test_precision_recall_f1_match_sklearn(data, zero_division, average):
    y_true, y_pred, w = data
    for weight in (None, w):
        for name in ("precision_score", "recall_score", "f1_score"):
            ours = quiet(getattr(gm, name), y_true, y_pred, average=average, sample_weight=weight,
                         zero_division=zero_division)
            theirs = quiet(getattr(skm, name), y_true, y_pred, average=average,
                           sample_weight=weight, zero_division=zero_division)
            np.testing.assert_allclose(ours, theirs, err_msg=f"{name} average={average}")
        ours = quiet(gm.fbeta_score, y_true, y_pred, beta=0.5, average=average,
                     sample_weight=weight, zero_division=zero_division)
        theirs = quiet(skm.fbeta_score, y_true, y_pred, beta=0.5, average=average,
                       sample_weight=weight, zero_division=zero_division)
        np.testing.assert_allclose(ours, theirs)


@SETTINGS
@given(label_pairs(max_classes=2, weighted=True), st.sampled_from([0, 1]),
       st.sampled_from(["warn", 0.0, 1.0]))
def test_binary_average_matches_sklearn_including_one_class(data, pos_label, zero_division):
    y_true, y_pred, w = data
    for name in ("precision_score", "recall_score", "f1_score"):
        ours = quiet(getattr(gm, name), y_true, y_pred, pos_label=pos_label, sample_weight=w,
                     zero_division=zero_division)
        theirs = quiet(getattr(skm, name), y_true, y_pred, pos_label=pos_label, sample_weight=w,
                       zero_division=zero_division)
        assert ours == pytest.approx(theirs), name


@SETTINGS
@given(label_pairs(max_classes=2, weighted=True))
def test_specificity_is_recall_of_the_negative_class(data):
    y_true, y_pred, w = data
    # binary specificity TN/(TN+FP) = recall of class 0 with class 1 positive
    ours = quiet(gm.specificity_score, y_true, y_pred, pos_label=1, sample_weight=w)
    flipped = quiet(skm.recall_score, 1 - y_true, 1 - y_pred, pos_label=1, sample_weight=w)
    assert ours == pytest.approx(flipped)


@SETTINGS
@given(label_pairs(max_classes=4), st.sampled_from([None, "micro", "macro", "weighted"]))
def test_specificity_multiclass_from_sklearn_multilabel_confusion_matrix(data, average):
    y_true, y_pred = data
    mcm = skm.multilabel_confusion_matrix(y_true, y_pred)  # [[TN, FP], [FN, TP]] per label
    tn, fp, support = mcm[:, 0, 0], mcm[:, 0, 1], mcm[:, 1, 0] + mcm[:, 1, 1]
    with np.errstate(all="ignore"):
        per_label = np.where(tn + fp > 0, tn / np.maximum(tn + fp, 1), 0.0)
    if average is None:
        expected = per_label
    elif average == "micro":
        expected = tn.sum() / (tn + fp).sum() if (tn + fp).sum() else 0.0
    elif average == "macro":
        expected = per_label.mean()
    else:
        expected = np.average(per_label, weights=support) if support.sum() else per_label.mean()
    np.testing.assert_allclose(quiet(gm.specificity_score, y_true, y_pred, average=average),
                               expected)


@SETTINGS
@given(label_pairs(weighted=True), st.booleans())
def test_balanced_accuracy_matches_sklearn(data, adjusted):
    y_true, y_pred, w = data
    ours = quiet(gm.balanced_accuracy_score, y_true, y_pred, adjusted=adjusted)
    theirs = quiet(skm.balanced_accuracy_score, y_true, y_pred, adjusted=adjusted)
    np.testing.assert_allclose(ours, theirs)
    np.testing.assert_allclose(
        quiet(gm.balanced_accuracy_score, y_true, y_pred, sample_weight=w),
        quiet(skm.balanced_accuracy_score, y_true, y_pred, sample_weight=w))


@SETTINGS
@given(label_pairs(max_classes=4))
def test_classification_report_string_and_dict_match_sklearn(data):
    y_true, y_pred = data
    if np.any(y_true == y_pred):
        # scikit-learn prints support as a float ("1.0") when no prediction is right, an
        # artefact of its bincount fallback; groundup always prints whole counts as integers
        assert quiet(gm.classification_report, y_true, y_pred, digits=3) == quiet(
            skm.classification_report, y_true, y_pred, digits=3)
    ours = quiet(gm.classification_report, y_true, y_pred, output_dict=True)
    theirs = quiet(skm.classification_report, y_true, y_pred, output_dict=True)
    assert ours.keys() == theirs.keys()
    for key, value in theirs.items():
        if isinstance(value, dict):
            assert ours[key] == pytest.approx(value), key
        else:
            assert ours[key] == pytest.approx(value), key


def test_classification_report_with_target_names_and_label_subset():
    y_true = [0, 1, 2, 2, 1, 0, 2]
    y_pred = [0, 2, 2, 1, 1, 0, 0]
    kwargs = dict(labels=[0, 2], target_names=["zero", "two"])
    assert gm.classification_report(y_true, y_pred, **kwargs) == skm.classification_report(
        y_true, y_pred, **kwargs)


def test_all_predictions_wrong():
    y_true = np.array([0, 1, 0, 1, 1])
    y_pred = 1 - y_true
    assert gm.accuracy_score(y_true, y_pred) == 0.0
    assert gm.f1_score(y_true, y_pred, zero_division=0) == 0.0
    assert gm.specificity_score(y_true, y_pred) == 0.0
    assert gm.balanced_accuracy_score(y_true, y_pred) == 0.0
    np.testing.assert_array_equal(gm.confusion_matrix(y_true, y_pred), [[0, 2], [3, 0]])


def test_undefined_precision_warns_and_uses_zero_division():
    y_true, y_pred = [0, 0, 1], [0, 0, 0]
    with pytest.warns(gm.UndefinedMetricWarning):
        assert gm.precision_score(y_true, y_pred) == 0.0
    assert gm.precision_score(y_true, y_pred, zero_division=1.0) == 1.0


def test_bad_inputs_name_the_argument():
    with pytest.raises(ShapeError, match="y_true has 3.*y_pred has 2.*help:"):
        gm.accuracy_score([0, 1, 0], [0, 1])
    with pytest.raises(ValueError, match="multiclass.*average='binary'.*help:"):
        gm.f1_score([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError, match="pos_label=2.*help:"):
        gm.precision_score([0, 1], [1, 1], pos_label=2)
    with pytest.raises(ValueError, match="y_pred holds continuous values.*help:"):
        gm.accuracy_score([0, 1], [0.2, 0.7])
    with pytest.raises(ValueError, match="average='samples'.*help:"):
        gm.recall_score([0, 1], [1, 1], average="samples")
    with pytest.raises(ValueError, match="zero_division.*help:"):
        gm.recall_score([0, 1], [1, 1], zero_division=5)


@SETTINGS
@given(st.integers(4, 30), st.integers(2, 4), st.integers(0, 10_000))
def test_log_loss_matches_sklearn(n, k, seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, k, size=n)
    y_true[:k] = np.arange(k)  # every class present
    proba = rng.dirichlet(np.ones(k), size=n)
    proba[0] = np.eye(k)[(y_true[0] + 1) % k]  # a confident mistake: clipped, not infinite
    w = rng.uniform(0.1, 2, size=n)
    assert gm.log_loss(y_true, proba) == pytest.approx(skm.log_loss(y_true, y_proba=proba))
    assert gm.log_loss(y_true, proba, sample_weight=w, normalize=False) == pytest.approx(
        skm.log_loss(y_true, y_proba=proba, sample_weight=w, normalize=False))
    if k == 2:
        assert gm.log_loss(y_true, proba[:, 1]) == pytest.approx(
            skm.log_loss(y_true, y_proba=proba[:, 1]))


def test_log_loss_one_class_needs_labels():
    with pytest.raises(ValueError, match="only one label.*help:"):
        gm.log_loss([1, 1, 1], [0.9, 0.8, 0.7])
    assert gm.log_loss([1, 1, 1], [0.9, 0.8, 0.7], labels=[0, 1]) == pytest.approx(
        skm.log_loss([1, 1, 1], y_proba=[0.9, 0.8, 0.7], labels=[0, 1]))
