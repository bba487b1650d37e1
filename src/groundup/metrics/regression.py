"""Regression metrics: MSE, RMSE, MAE and the coefficient of determination R².

Targets may be (n_samples,) or (n_samples, n_outputs); ``multioutput`` is ``"uniform_average"``
(mean over outputs), ``"raw_values"`` (one score per output) or an array of output weights —
scikit-learn's semantics.
"""

from __future__ import annotations

import warnings

import numpy as np

from groundup.errors import ShapeError, hint
from groundup.metrics._checks import (
    UndefinedMetricWarning,
    check_consistent_length,
    check_sample_weight,
)


def _check_regression_targets(y_true, y_pred, sample_weight, multioutput):
    """Return float 2-D ``(y_true, y_pred)`` of shape (n_samples, n_outputs) and the weights."""
    arrays = []
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        y = np.asarray(y)
        if y.dtype.kind in "OUSb":
            raise TypeError(hint(f"{name} has dtype {y.dtype}; regression metrics need numbers",
                                 "use a classification metric for labels"))
        y = y.astype(np.float64)
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2:
            raise ShapeError(hint(f"{name} must be 1-D or 2-D, got shape {y.shape}",
                                  "pass (n_samples,) or (n_samples, n_outputs)"))
        if not np.all(np.isfinite(y)):
            raise ValueError(hint(f"{name} contains NaN or infinity", "drop or impute them"))
        arrays.append(y)
    y_true, y_pred = arrays
    check_consistent_length(y_true=y_true, y_pred=y_pred)
    if y_true.shape[1] != y_pred.shape[1]:
        raise ShapeError(hint(f"y_true has {y_true.shape[1]} outputs but y_pred has "
                              f"{y_pred.shape[1]}", "predict every output"))
    if len(y_true) == 0:
        raise ValueError(hint("y_true is empty", "pass at least one sample"))
    sample_weight = check_sample_weight(sample_weight, len(y_true))
    if not isinstance(multioutput, str):
        multioutput = np.asarray(multioutput, dtype=np.float64)
        if multioutput.shape != (y_true.shape[1],):
            raise ShapeError(hint(f"multioutput weights have shape {multioutput.shape}, expected "
                                  f"({y_true.shape[1]},)", "pass one weight per output"))
    elif multioutput not in ("raw_values", "uniform_average", "variance_weighted"):
        raise ValueError(hint(f"multioutput={multioutput!r} is not recognised",
                              "use 'raw_values', 'uniform_average' or an array of weights"))
    return y_true, y_pred, sample_weight, multioutput


def _combine_outputs(per_output, multioutput):
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return per_output
        return float(np.mean(per_output))
    return float(np.average(per_output, weights=multioutput))


def _check_not_variance_weighted(multioutput, metric):
    if isinstance(multioutput, str) and multioutput == "variance_weighted":
        raise ValueError(hint(f"multioutput='variance_weighted' is for r2_score, not {metric}",
                              "use 'raw_values' or 'uniform_average'"))


def mean_squared_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Mean squared error ``(1/n) Σ_i (y_i - ŷ_i)²`` (weighted mean with ``sample_weight``)."""
    _check_not_variance_weighted(multioutput, "mean_squared_error")
    y_true, y_pred, w, multioutput = _check_regression_targets(y_true, y_pred, sample_weight,
                                                               multioutput)
    per_output = np.average((y_true - y_pred) ** 2, axis=0, weights=w)
    return _combine_outputs(per_output, multioutput)


def root_mean_squared_error(y_true, y_pred, *, sample_weight=None,
                            multioutput="uniform_average"):
    """Root mean squared error ``sqrt((1/n) Σ_i (y_i - ŷ_i)²)``, per output then averaged."""
    _check_not_variance_weighted(multioutput, "root_mean_squared_error")
    y_true, y_pred, w, multioutput = _check_regression_targets(y_true, y_pred, sample_weight,
                                                               multioutput)
    per_output = np.sqrt(np.average((y_true - y_pred) ** 2, axis=0, weights=w))
    return _combine_outputs(per_output, multioutput)


def mean_absolute_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Mean absolute error ``(1/n) Σ_i |y_i - ŷ_i|`` (weighted mean with ``sample_weight``)."""
    _check_not_variance_weighted(multioutput, "mean_absolute_error")
    y_true, y_pred, w, multioutput = _check_regression_targets(y_true, y_pred, sample_weight,
                                                               multioutput)
    per_output = np.average(np.abs(y_true - y_pred), axis=0, weights=w)
    return _combine_outputs(per_output, multioutput)


def r2_score(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average",
             force_finite=True):
    """Coefficient of determination ``R² = 1 - Σ(y_i - ŷ_i)² / Σ(y_i - ȳ)²``.

    1 is perfect, 0 is as good as predicting the mean, negative is worse. A constant ``y_true``
    makes the ratio 0/0 or x/0; with ``force_finite`` (default) that scores 1.0 for a perfect
    prediction and 0.0 otherwise instead of NaN/-inf. ``multioutput="variance_weighted"`` weights
    outputs by their variance. Fewer than two samples give NaN with a warning.
    """
    y_true, y_pred, w, multioutput = _check_regression_targets(y_true, y_pred, sample_weight,
                                                               multioutput)
    if len(y_true) < 2:
        warnings.warn("R^2 score is not well-defined with less than two samples.",
                      UndefinedMetricWarning, stacklevel=2)
        return float("nan")
    weight = 1.0 if w is None else w[:, None]
    numerator = np.sum(weight * (y_true - y_pred) ** 2, axis=0)
    denominator = np.sum(weight * (y_true - np.average(y_true, axis=0, weights=w)) ** 2, axis=0)
    if force_finite:
        scores = np.ones(y_true.shape[1])
        valid = (numerator != 0) & (denominator != 0)
        scores[valid] = 1 - numerator[valid] / denominator[valid]
        scores[(numerator != 0) & (denominator == 0)] = 0.0
    else:
        with np.errstate(all="ignore"):
            scores = 1 - numerator / denominator
    if isinstance(multioutput, str) and multioutput == "variance_weighted":
        if not np.any(denominator != 0):
            return float(np.mean(scores))
        return float(np.average(scores, weights=denominator))
    return _combine_outputs(scores, multioutput)
