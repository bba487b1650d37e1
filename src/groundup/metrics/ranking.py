"""Threshold-free metrics from scores: ROC and precision-recall curves, their areas.

Each curve sweeps a threshold down through the distinct scores; one stable sort and two cumulative
sums give every point at once (no loop over thresholds). Semantics follow scikit-learn.
"""

from __future__ import annotations

import warnings
from itertools import combinations

import numpy as np

from groundup.errors import ShapeError, hint
from groundup.metrics._checks import (
    UndefinedMetricWarning,
    check_consistent_length,
    check_sample_weight,
    column_or_1d,
)


def auc(x, y) -> float:
    """Area under the curve through the points ``(x_i, y_i)`` by the trapezoidal rule:
    ``Σ (x_{i+1} - x_i)(y_i + y_{i+1}) / 2``; ``x`` must be monotonic (either direction).
    """
    x = column_or_1d(x, "x").astype(np.float64)
    y = column_or_1d(y, "y").astype(np.float64)
    check_consistent_length(x=x, y=y)
    if x.shape[0] < 2:
        raise ValueError(hint(f"auc needs at least 2 points, got x of shape {x.shape}",
                              "pass the whole curve"))
    dx = np.diff(x)
    direction = 1.0
    if np.any(dx < 0):
        if not np.all(dx <= 0):
            raise ValueError(hint("x is neither increasing nor decreasing",
                                  "sort the points by x first"))
        direction = -1.0
    return float(direction * np.sum(dx * (y[1:] + y[:-1]) / 2))


def _pos_label_or_default(y_true: np.ndarray, pos_label):
    """``pos_label`` if given, else 1 when the labels are {0, 1} or {-1, 1} (or a subset)."""
    if pos_label is not None:
        return pos_label
    classes = np.unique(y_true)
    if classes.dtype.kind in "OUS" or len(classes) > 2 or not (
        set(classes.tolist()) <= {0, 1} or set(classes.tolist()) <= {-1, 1}
    ):
        raise ValueError(
            hint(f"y_true takes values {classes.tolist()} and pos_label is not specified",
                 "make y_true take values in {0, 1} or {-1, 1}, or pass pos_label explicitly")
        )
    return 1


def _binary_clf_curve(y_true, y_score, pos_label=None, sample_weight=None):
    """Counts at every distinct threshold, from the highest score down.

    Returns ``(fps, tps, thresholds)``: ``fps[i]``/``tps[i]`` = (weighted) negatives/positives with
    ``score >= thresholds[i]``.
    """
    y_true = column_or_1d(y_true, "y_true")
    y_score = column_or_1d(y_score, "y_score").astype(np.float64)
    check_consistent_length(y_true=y_true, y_score=y_score)
    sample_weight = check_sample_weight(sample_weight, len(y_true))
    if not np.all(np.isfinite(y_score)):
        raise ValueError(hint("y_score contains NaN or infinity", "pass finite scores"))
    n_classes = len(np.unique(y_true))
    if n_classes > 2 and pos_label is None:
        raise ValueError(
            hint(f"y_true has {n_classes} classes; a curve needs a binary target",
                 "pass pos_label to score one class against the rest")
        )
    pos_label = _pos_label_or_default(y_true, pos_label)
    is_positive = (y_true == pos_label).astype(np.float64)
    if sample_weight is not None:
        # zero-weight samples must not create thresholds of their own
        nonzero = sample_weight != 0
        is_positive, y_score, sample_weight = (
            is_positive[nonzero], y_score[nonzero], sample_weight[nonzero],
        )
    order = np.argsort(-y_score, kind="stable")
    y_score, is_positive = y_score[order], is_positive[order]
    # last index of each run of tied scores, plus the end of the curve
    threshold_idx = np.r_[np.flatnonzero(np.diff(y_score)), len(y_score) - 1]
    if sample_weight is None:
        tps = np.cumsum(is_positive)[threshold_idx]
        fps = 1 + threshold_idx - tps
    else:
        weight = sample_weight[order]
        tps = np.cumsum(is_positive * weight)[threshold_idx]
        fps = np.cumsum((1 - is_positive) * weight)[threshold_idx]
    return fps, tps, y_score[threshold_idx]


def roc_curve(y_true, y_score, *, pos_label=None, sample_weight=None, drop_intermediate=True):
    """Receiver operating characteristic: false-positive rate ``FP/N`` against true-positive rate
    ``TP/P`` as the threshold falls from ``+inf`` through every distinct score.

    Returns ``(fpr, tpr, thresholds)``, each of shape (n_points,); ``thresholds[0] = inf`` so the
    curve starts at (0, 0). ``drop_intermediate`` removes collinear points (the area is unchanged).
    """
    fps, tps, thresholds = _binary_clf_curve(y_true, y_score, pos_label, sample_weight)
    if drop_intermediate and len(fps) > 2:
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps = np.r_[0.0, fps]
    tps = np.r_[0.0, tps]
    thresholds = np.r_[np.inf, thresholds]
    if fps[-1] <= 0:
        warnings.warn("No negative samples in y_true, false positive value should be meaningless",
                      UndefinedMetricWarning, stacklevel=2)
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        warnings.warn("No positive samples in y_true, true positive value should be meaningless",
                      UndefinedMetricWarning, stacklevel=2)
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def precision_recall_curve(y_true, y_score, *, pos_label=None, sample_weight=None,
                           drop_intermediate=False):
    """Precision ``TP/(TP+FP)`` and recall ``TP/P`` at every distinct threshold.

    Returns ``(precision, recall, thresholds)``: thresholds increasing, shape (n,); precision and
    recall shape (n + 1,), ending at precision 1, recall 0 (the curve's endpoint with no threshold).
    """
    fps, tps, thresholds = _binary_clf_curve(y_true, y_score, pos_label, sample_weight)
    if drop_intermediate and len(fps) > 2:
        keep = np.r_[True, np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])), True]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted != 0)
    if tps[-1] == 0:
        warnings.warn("No positive class found in y_true, recall is set to one for all "
                      "thresholds.", UserWarning, stacklevel=2)
        recall = np.ones_like(tps)
    else:
        recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def _binary_average_precision(y_true, y_score, pos_label=1, sample_weight=None) -> float:
    precision, recall, _ = precision_recall_curve(
        y_true, y_score, pos_label=pos_label, sample_weight=sample_weight
    )
    # step-function integral; the last precision is 1 by construction. -0.0 is clipped to 0.
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


def _binary_roc_auc(y_true, y_score, sample_weight=None, max_fpr=None) -> float:
    if len(np.unique(y_true)) != 2:
        warnings.warn("Only one class is present in y_true. ROC AUC score is not defined in "
                      "that case.", UndefinedMetricWarning, stacklevel=3)
        return float("nan")
    fpr, tpr, _ = roc_curve(y_true, y_score, sample_weight=sample_weight)
    if max_fpr is None or max_fpr == 1:
        return auc(fpr, tpr)
    if max_fpr <= 0 or max_fpr > 1:
        raise ValueError(hint(f"max_fpr={max_fpr!r} is outside (0, 1]", "pass 0 < max_fpr <= 1"))
    stop = np.searchsorted(fpr, max_fpr, "right")
    tpr_at_max = np.interp(max_fpr, fpr[stop - 1 : stop + 1], tpr[stop - 1 : stop + 1])
    partial = auc(np.r_[fpr[:stop], max_fpr], np.r_[tpr[:stop], tpr_at_max])
    # McClish correction: 0.5 for a non-discriminating score, 1 for a perfect one
    min_area, max_area = 0.5 * max_fpr**2, max_fpr
    return 0.5 * (1 + (partial - min_area) / (max_area - min_area))


def _average_over_columns(metric, y_onehot, y_score, average, sample_weight):
    """Apply a binary ``metric`` per column (one-vs-rest) and average: ``micro`` pools all columns,
    ``macro`` is the plain mean, ``weighted`` weights by each column's (weighted) positives."""
    if average == "micro":
        weight = None if sample_weight is None else np.repeat(sample_weight, y_onehot.shape[1])
        return float(metric(y_onehot.ravel(), y_score.ravel(), sample_weight=weight))
    scores = np.array([
        metric(y_onehot[:, c], y_score[:, c], sample_weight=sample_weight)
        for c in range(y_onehot.shape[1])  # one call per class, each vectorised over samples
    ])
    if average is None:
        return scores
    if average == "weighted":
        w = y_onehot.sum(axis=0) if sample_weight is None else sample_weight @ y_onehot
        if np.isclose(w.sum(), 0.0):
            return 0.0
        scores[w == 0] = 0
        return float(np.average(scores, weights=w))
    return float(np.mean(scores))


def _one_hot(y_true, classes):
    return (y_true[:, None] == classes[None, :]).astype(np.int64)


def _check_average(average, options):
    if average not in options:
        raise ValueError(hint(f"average={average!r} is not one of {options}",
                              "pick how to combine the per-class scores"))


def roc_auc_score(y_true, y_score, *, average="macro", sample_weight=None, max_fpr=None,
                  multi_class="raise", labels=None):
    """Area under the ROC curve: the probability that a random positive scores above a random
    negative (ties count half). ``AUC = ∫ TPR d(FPR)``.

    Binary: ``y_score`` of shape (n_samples,) scores the larger label. Multi-class: ``y_score`` of
    shape (n_samples, n_classes) of probabilities, ``multi_class="ovr"`` (each class against the
    rest) or ``"ovo"`` (Hand & Till: every pair of classes), averaged by ``average``.
    ``max_fpr`` gives the McClish-standardised partial AUC over ``[0, max_fpr]`` (binary only).
    """
    y_true = column_or_1d(y_true, "y_true")
    y_score = np.asarray(y_score, dtype=np.float64)
    check_consistent_length(y_true=y_true, y_score=y_score)
    sample_weight = check_sample_weight(sample_weight, len(y_true))
    classes_present = np.unique(y_true)
    is_multiclass = len(classes_present) > 2 or (y_score.ndim == 2 and y_score.shape[1] > 2)
    if not is_multiclass:
        if y_score.ndim == 2 and y_score.shape[1] == 1:
            y_score = y_score[:, 0]
        if y_score.ndim != 1:
            raise ShapeError(
                hint(f"binary y_true needs y_score of shape (n_samples,), got {y_score.shape}",
                     "pass the score of the positive class, e.g. predict_proba(X)[:, 1]")
            )
        is_positive = (y_true == classes_present[-1]).astype(np.int64)
        if len(classes_present) < 2:
            is_positive[:] = 0
        return _binary_roc_auc(is_positive, y_score, sample_weight, max_fpr)

    if max_fpr is not None and max_fpr != 1.0:
        raise ValueError(hint(f"partial AUC (max_fpr={max_fpr}) is binary only",
                              "use max_fpr=None for a multi-class target"))
    if multi_class not in ("ovr", "ovo"):
        raise ValueError(
            hint(f"y_true has {len(classes_present)} classes and multi_class={multi_class!r}",
                 "pass multi_class='ovr' (one-vs-rest) or 'ovo' (one-vs-one)")
        )
    if y_score.ndim != 2:
        raise ShapeError(
            hint(f"multi-class y_true needs y_score of shape (n_samples, n_classes), got "
                 f"{y_score.shape}", "pass predict_proba(X)")
        )
    if not np.allclose(1, y_score.sum(axis=1)):
        raise ValueError(hint("multi-class y_score rows must be probabilities summing to 1",
                              "pass predict_proba(X), or softmax the scores"))
    _check_average(average, ("micro", "macro", "weighted", None) if multi_class == "ovr"
                   else ("macro", "weighted"))
    if labels is not None:
        classes = column_or_1d(labels, "labels")
        if len(np.unique(classes)) != len(classes) or not np.array_equal(np.unique(classes),
                                                                          classes):
            raise ValueError(hint("labels must be unique and sorted", "pass np.unique(labels)"))
        if np.setdiff1d(y_true, classes).size:
            raise ValueError(hint("y_true contains labels not in labels", "list every class"))
    else:
        classes = classes_present
    if len(classes) != y_score.shape[1]:
        raise ShapeError(
            hint(f"{len(classes)} classes but y_score has {y_score.shape[1]} columns",
                 "pass labels listing every column's class")
        )
    if multi_class == "ovr":
        return _average_over_columns(_binary_roc_auc, _one_hot(y_true, classes), y_score,
                                     average, sample_weight)
    if sample_weight is not None:
        raise ValueError(hint("sample_weight is not supported for multi_class='ovo'",
                              "use multi_class='ovr' with sample weights"))
    index = np.searchsorted(classes, y_true)
    pairs = list(combinations(range(len(classes_present)), 2))
    present_index = np.searchsorted(classes, classes_present)
    pair_scores, prevalence = np.empty(len(pairs)), np.empty(len(pairs))
    for k, (i, j) in enumerate(pairs):  # one vectorised AUC per pair of classes
        a, b = present_index[i], present_index[j]
        in_pair = (index == a) | (index == b)
        prevalence[k] = in_pair.mean()
        a_true = (index[in_pair] == a).astype(np.int64)
        pair_scores[k] = (_binary_roc_auc(a_true, y_score[in_pair, a])
                          + _binary_roc_auc(1 - a_true, y_score[in_pair, b])) / 2
    return float(np.average(pair_scores, weights=prevalence if average == "weighted" else None))


def average_precision_score(y_true, y_score, *, average="macro", pos_label=1,
                            sample_weight=None) -> float:
    """Average precision ``AP = Σ_n (R_n - R_{n-1}) P_n``: precision averaged over the recall
    steps of the precision-recall curve (no interpolation, as scikit-learn).

    Binary: ``y_score`` of shape (n_samples,). Multi-class: shape (n_samples, n_classes), one-vs-rest
    per class, combined by ``average`` (micro, macro, weighted, None).
    """
    y_true = column_or_1d(y_true, "y_true")
    y_score = np.asarray(y_score, dtype=np.float64)
    check_consistent_length(y_true=y_true, y_score=y_score)
    sample_weight = check_sample_weight(sample_weight, len(y_true))
    present = np.unique(y_true)
    if len(present) <= 2:
        if len(present) == 2 and pos_label not in present.tolist():
            raise ValueError(hint(f"pos_label={pos_label!r} is not a valid label; labels are "
                                  f"{present.tolist()}", "pass pos_label equal to the positive class"))
        if y_score.ndim != 1:
            raise ShapeError(hint(f"binary y_true needs y_score of shape (n_samples,), got "
                                  f"{y_score.shape}", "pass the positive class's score"))
        return _binary_average_precision(y_true, y_score, pos_label, sample_weight)
    if pos_label != 1:
        raise ValueError(hint("pos_label is fixed to 1 for a multi-class y_true",
                              "do not set pos_label"))
    _check_average(average, ("micro", "macro", "weighted", None))
    y_onehot = _one_hot(y_true, present)
    if y_score.shape != y_onehot.shape:
        raise ShapeError(hint(f"y_score needs shape (n_samples, n_classes)={y_onehot.shape} since "
                              f"y_true has {len(present)} classes, got {y_score.shape}",
                              "pass one score column per class, in sorted label order"))
    return _average_over_columns(_binary_average_precision, y_onehot, y_score, average,
                                 sample_weight)
