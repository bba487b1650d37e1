"""Classification metrics from labels: accuracy, confusion matrix, precision/recall/F, specificity,
balanced accuracy, the classification report, and log loss from probabilities.

Names, arguments and results follow scikit-learn (``average``, ``pos_label``, ``labels``,
``sample_weight``, ``zero_division``), so code moves between the two unchanged.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from groundup.errors import ShapeError, hint
from groundup.metrics._checks import (
    UndefinedMetricWarning,
    check_classification_targets,
    check_consistent_length,
    check_sample_weight,
    column_or_1d,
    encode,
    weighted_average,
)

_AVERAGES = (None, "binary", "micro", "macro", "weighted")


def accuracy_score(y_true, y_pred, *, normalize=True, sample_weight=None) -> float:
    """Fraction (or, with ``normalize=False``, weighted count) of exactly right predictions.

    ``accuracy = Σ w_i [y_i = ŷ_i] / Σ w_i``; ``y_true``, ``y_pred`` of shape (n_samples,).
    """
    _, _, y_true, y_pred, sample_weight = check_classification_targets(y_true, y_pred, sample_weight)
    correct = (y_true == y_pred).astype(np.float64)
    if not normalize:
        return float(correct.sum() if sample_weight is None else correct @ sample_weight)
    return float(weighted_average(correct, sample_weight))


def confusion_matrix(y_true, y_pred, *, labels=None, sample_weight=None, normalize=None):
    """Confusion matrix ``C`` of shape (n_labels, n_labels): ``C[i, j]`` = (weighted) number of
    samples of true label ``labels[i]`` predicted as ``labels[j]``.

    ``labels`` defaults to the sorted union of both vectors; samples whose label is not listed are
    ignored. ``normalize`` = ``"true"`` (rows sum to 1), ``"pred"`` (columns) or ``"all"``.
    Binary: ``C = [[TN, FP], [FN, TP]]``.
    """
    _, present, y_true, y_pred, sample_weight = check_classification_targets(
        y_true, y_pred, sample_weight
    )
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(
            hint(f"normalize={normalize!r} is not one of None, 'true', 'pred', 'all'",
                 "pick how to normalise the counts")
        )
    if labels is None:
        labels = present
    else:
        labels = np.asarray(labels)
        if labels.size == 0:
            raise ValueError(hint("labels is empty", "pass at least one label, or labels=None"))
        if len(y_true) and not np.any(np.isin(y_true, labels)):
            raise ValueError(
                hint(f"none of labels={labels.tolist()} occurs in y_true",
                     "at least one listed label must be present in y_true")
            )
    n_labels = len(labels)
    true_index = encode(y_true, labels)
    pred_index = encode(y_pred, labels)
    keep = (true_index >= 0) & (pred_index >= 0)
    flat_index = true_index[keep] * n_labels + pred_index[keep]
    if sample_weight is None:
        counts = np.bincount(flat_index, minlength=n_labels * n_labels).astype(np.int64)
    else:
        weight = sample_weight[keep]
        counts = np.bincount(flat_index, weights=weight, minlength=n_labels * n_labels)
        if np.all(weight == np.round(weight)):  # integer weights keep integer counts, like sklearn
            counts = counts.astype(np.int64)
    cm = counts.reshape(n_labels, n_labels)
    if normalize is not None:
        with np.errstate(all="ignore"):
            if normalize == "true":
                cm = cm / cm.sum(axis=1, keepdims=True)
            elif normalize == "pred":
                cm = cm / cm.sum(axis=0, keepdims=True)
            else:
                cm = cm / cm.sum()
        cm = np.nan_to_num(cm)
    return cm


def _per_label_counts(y_true, y_pred, labels, sample_weight):
    """(Weighted) true positives, predicted positives, actual positives per label, and the total.

    One-vs-rest for every label in ``labels``; samples with other labels count only as negatives.
    """
    n_labels = len(labels)
    weight = np.ones(len(y_true)) if sample_weight is None else sample_weight
    true_index = encode(y_true, labels)
    pred_index = encode(y_pred, labels)
    hit = (true_index >= 0) & (y_true == y_pred)
    tp = np.bincount(true_index[hit], weights=weight[hit], minlength=n_labels)
    t = true_index >= 0
    true_sum = np.bincount(true_index[t], weights=weight[t], minlength=n_labels)
    p = pred_index >= 0
    pred_sum = np.bincount(pred_index[p], weights=weight[p], minlength=n_labels)
    return tp, pred_sum, true_sum, float(weight.sum())


def _check_zero_division(zero_division):
    if isinstance(zero_division, str) and zero_division == "warn":
        return 0.0
    if isinstance(zero_division, numbers.Real) and (
        zero_division in (0, 1) or np.isnan(zero_division)
    ):
        return float(zero_division)
    raise ValueError(
        hint(f"zero_division={zero_division!r} is not one of 'warn', 0.0, 1.0, np.nan",
             "choose the value a 0/0 metric should take")
    )


def _divide(numerator, denominator, metric, zero_division, warn=True):
    """``numerator / denominator`` elementwise, with ``zero_division`` where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    zero = denominator == 0
    result = numerator / np.where(zero, 1.0, denominator)
    if np.any(zero):
        result[zero] = _check_zero_division(zero_division)
        if warn and isinstance(zero_division, str):
            warnings.warn(
                f"{metric} is ill-defined and being set to 0.0 for labels with no "
                "samples in its denominator; use the zero_division parameter to control this",
                UndefinedMetricWarning,
                stacklevel=3,
            )
    return result


def _nan_average(values, weights=None) -> float:
    """Weighted mean ignoring NaN entries; all weights zero falls back to the plain mean."""
    mask = np.isnan(values)
    if values.size == 0 or np.all(mask):
        return float("nan")
    values = values[~mask]
    if weights is None:
        return float(values.mean())
    weights = np.asarray(weights, dtype=np.float64)[~mask]
    if weights.sum() == 0:
        return float(values.mean())
    return float(np.average(values, weights=weights))


def _resolve_labels(y_type, present, average, labels, pos_label):
    """Which labels to score: ``[pos_label]`` for ``average='binary'``, else ``labels`` or all."""
    if average not in _AVERAGES:
        raise ValueError(
            hint(f"average={average!r} is not one of {_AVERAGES}",
                 "use 'binary' for two classes, 'macro'/'micro'/'weighted' for more")
        )
    if average == "binary":
        if y_type != "binary":
            raise ValueError(
                hint(f"target is multiclass (labels {present.tolist()}) but average='binary'",
                     "choose average='micro', 'macro', 'weighted' or None")
            )
        if pos_label not in present.tolist() and len(present) >= 2:
            raise ValueError(
                hint(f"pos_label={pos_label!r} is not a valid label; labels are {present.tolist()}",
                     "pass pos_label equal to the positive class")
            )
        return np.asarray([pos_label])
    if labels is None:
        return present
    return np.asarray(labels)


def precision_recall_fscore_support(
    y_true,
    y_pred,
    *,
    beta=1.0,
    labels=None,
    pos_label=1,
    average=None,
    sample_weight=None,
    zero_division="warn",
):
    """Precision ``TP/(TP+FP)``, recall ``TP/(TP+FN)``, F-beta
    ``(1+β²)TP / ((1+β²)TP + β²FN + FP)`` and support ``TP+FN``, per label or averaged.

    ``average``: ``None`` (arrays of shape (n_labels,)), ``"binary"`` (the ``pos_label`` class),
    ``"micro"`` (pool the counts), ``"macro"`` (plain mean over labels) or ``"weighted"`` (mean
    weighted by support). A 0/0 ratio takes ``zero_division`` (``"warn"`` means 0 with a warning).
    """
    _check_zero_division(zero_division)
    if beta < 0:
        raise ValueError(hint(f"beta={beta} is negative", "beta must be >= 0"))
    y_type, present, y_true, y_pred, sample_weight = check_classification_targets(
        y_true, y_pred, sample_weight
    )
    labels = _resolve_labels(y_type, present, average, labels, pos_label)
    tp, pred_sum, true_sum, _ = _per_label_counts(y_true, y_pred, labels, sample_weight)
    if average == "micro":
        tp, pred_sum, true_sum = (np.array([a.sum()]) for a in (tp, pred_sum, true_sum))
    precision = _divide(tp, pred_sum, "Precision", zero_division)
    recall = _divide(tp, true_sum, "Recall", zero_division)
    if np.isposinf(beta):
        f_score = recall
    elif beta == 0:
        f_score = precision
    else:
        beta2 = beta**2
        f_score = _divide((1 + beta2) * tp, beta2 * true_sum + pred_sum, "F-score", zero_division,
                          warn=False)
    if average is None:
        return precision, recall, f_score, true_sum
    weights = true_sum if average == "weighted" else None
    return (
        _nan_average(precision, weights),
        _nan_average(recall, weights),
        _nan_average(f_score, weights),
        None,
    )


def precision_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
                    sample_weight=None, zero_division="warn"):
    """Precision ``TP / (TP + FP)``: of the samples predicted positive, the fraction that are.

    See :func:`precision_recall_fscore_support` for ``average`` and ``zero_division``.
    """
    p, _, _, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
        sample_weight=sample_weight, zero_division=zero_division,
    )
    return p


def recall_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
                 sample_weight=None, zero_division="warn"):
    """Recall (sensitivity, true-positive rate) ``TP / (TP + FN)``: of the positives, the fraction
    found. See :func:`precision_recall_fscore_support` for ``average`` and ``zero_division``.
    """
    _, r, _, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
        sample_weight=sample_weight, zero_division=zero_division,
    )
    return r


def fbeta_score(y_true, y_pred, *, beta, labels=None, pos_label=1, average="binary",
                sample_weight=None, zero_division="warn"):
    """F-beta ``(1+β²)·P·R / (β²·P + R)``: recall counts β times as much as precision."""
    _, _, f, _ = precision_recall_fscore_support(
        y_true, y_pred, beta=beta, labels=labels, pos_label=pos_label, average=average,
        sample_weight=sample_weight, zero_division=zero_division,
    )
    return f


def f1_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
             sample_weight=None, zero_division="warn"):
    """F1, the harmonic mean of precision and recall: ``2TP / (2TP + FP + FN)``."""
    return fbeta_score(
        y_true, y_pred, beta=1.0, labels=labels, pos_label=pos_label, average=average,
        sample_weight=sample_weight, zero_division=zero_division,
    )


def specificity_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary",
                      sample_weight=None, zero_division="warn"):
    """Specificity (true-negative rate) ``TN / (TN + FP)``: of the negatives, the fraction rejected.

    scikit-learn has no specificity; this follows its precision/recall conventions (one-vs-rest per
    label; ``"weighted"`` weights by each label's support ``TP + FN``, as imbalanced-learn does).
    In the binary case it equals the recall of the negative class.
    """
    _check_zero_division(zero_division)
    y_type, present, y_true, y_pred, sample_weight = check_classification_targets(
        y_true, y_pred, sample_weight
    )
    labels = _resolve_labels(y_type, present, average, labels, pos_label)
    tp, pred_sum, true_sum, total = _per_label_counts(y_true, y_pred, labels, sample_weight)
    false_pos = pred_sum - tp
    negatives = total - true_sum  # TN + FP
    true_neg = negatives - false_pos
    if average == "micro":
        true_neg, negatives = np.array([true_neg.sum()]), np.array([negatives.sum()])
    specificity = _divide(true_neg, negatives, "Specificity", zero_division)
    if average is None:
        return specificity
    return _nan_average(specificity, true_sum if average == "weighted" else None)


def balanced_accuracy_score(y_true, y_pred, *, sample_weight=None, adjusted=False) -> float:
    """Mean of the per-class recalls ``(1/K) Σ_k TP_k / (TP_k + FN_k)``; for two classes the mean of
    sensitivity and specificity. ``adjusted=True`` rescales so chance scores 0:
    ``(score - 1/K) / (1 - 1/K)``. Classes predicted but absent from ``y_true`` are skipped.
    """
    cm = confusion_matrix(y_true, y_pred, sample_weight=sample_weight)
    with np.errstate(all="ignore"):
        per_class = np.diag(cm) / cm.sum(axis=1)
    if np.any(np.isnan(per_class)):
        warnings.warn("y_pred contains classes not in y_true", UserWarning, stacklevel=2)
        per_class = per_class[~np.isnan(per_class)]
    score = np.mean(per_class)
    if adjusted:
        chance = 1 / len(per_class)
        with np.errstate(all="ignore"):  # one class: 0/0 is NaN, as in scikit-learn
            score = (score - chance) / (1 - chance)
    return float(score)


def classification_report(y_true, y_pred, *, labels=None, target_names=None, sample_weight=None,
                          digits=2, output_dict=False, zero_division="warn"):
    """Text table (or, with ``output_dict=True``, a dict) of precision, recall, F1 and support for
    every label, followed by accuracy and the macro and weighted averages — scikit-learn's layout.
    """
    y_type, present, y_true, y_pred, sample_weight = check_classification_targets(
        y_true, y_pred, sample_weight
    )
    labels_given = labels is not None
    labels = np.asarray(labels) if labels_given else present
    micro_is_accuracy = not labels_given or set(labels.tolist()) >= set(present.tolist())
    if target_names is not None and len(labels) != len(target_names):
        if labels_given:
            warnings.warn(
                f"labels size, {len(labels)}, does not match size of target_names, "
                f"{len(target_names)}", UserWarning, stacklevel=2,
            )
        else:
            raise ValueError(
                hint(f"{len(labels)} classes but {len(target_names)} target_names",
                     "pass one name per class, or specify labels")
            )
    if target_names is None:
        target_names = [f"{label}" for label in labels]
    headers = ["precision", "recall", "f1-score", "support"]
    common = dict(labels=labels, sample_weight=sample_weight, zero_division=zero_division)
    p, r, f1, s = precision_recall_fscore_support(y_true, y_pred, average=None, **common)
    rows = list(zip(target_names, p, r, f1, s))
    support_total = np.sum(s)
    if sample_weight is None:
        support_total = int(support_total)
        rows = [(name, *vals, int(sup)) for name, *vals, sup in rows]

    report_dict = {}
    if output_dict:
        for name, *scores in rows:
            report_dict[name] = dict(zip(headers, [float(v) for v in scores]))
    else:
        width = max(max(len(n) for n in target_names), len("weighted avg"), digits)
        head_fmt = "{:>{width}s} " + " {:>9}" * len(headers)
        report = head_fmt.format("", *headers, width=width) + "\n\n"
        row_fmt = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
        for row in rows:
            report += row_fmt.format(*row, width=width, digits=digits)
        report += "\n"

    for average in ("micro", "macro", "weighted"):
        heading = "accuracy" if average == "micro" and micro_is_accuracy else f"{average} avg"
        avg_p, avg_r, avg_f1, _ = precision_recall_fscore_support(
            y_true, y_pred, average=average, **common
        )
        values = [avg_p, avg_r, avg_f1, support_total]
        if output_dict:
            report_dict[heading] = dict(zip(headers, [float(v) for v in values]))
        elif heading == "accuracy":
            accuracy_fmt = ("{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f}"
                            + " {:>9}\n")
            report += accuracy_fmt.format(heading, "", "", *values[2:], width=width, digits=digits)
        else:
            report += row_fmt.format(heading, *values, width=width, digits=digits)
    if output_dict:
        if "accuracy" in report_dict:
            report_dict["accuracy"] = report_dict["accuracy"]["precision"]
        return report_dict
    return report


def log_loss(y_true, y_proba, *, normalize=True, sample_weight=None, labels=None) -> float:
    """Cross-entropy of predicted probabilities: ``-(1/n) Σ_i Σ_k [y_i = k] log p_ik``.

    ``y_proba``: shape (n_samples, n_classes) with columns in sorted label order, or (n_samples,)
    holding the probability of the larger label of a binary problem. Probabilities are clipped to
    ``[eps, 1 - eps]`` (float eps of their dtype) so a confident mistake costs a finite amount.
    """
    y_true = column_or_1d(y_true, "y_true")
    proba = np.asarray(y_proba)
    if proba.dtype.kind not in "f":
        proba = proba.astype(np.float64)
    if proba.ndim not in (1, 2):
        raise ShapeError(hint(f"y_proba must be 1-D or 2-D, got shape {proba.shape}",
                              "pass predict_proba(X)"))
    check_consistent_length(y_true=y_true, y_proba=proba)
    sample_weight = check_sample_weight(sample_weight, len(y_true))
    if not np.all(np.isfinite(proba)):
        raise ValueError(hint("y_proba contains NaN or infinity", "pass finite probabilities"))
    if proba.max() > 1:
        raise ValueError(hint(f"y_proba contains values greater than 1: {proba.max()}",
                              "pass probabilities, not scores or logits"))
    if proba.min() < 0:
        raise ValueError(hint(f"y_proba contains values lower than 0: {proba.min()}",
                              "pass probabilities, not scores or logits"))
    classes = np.unique(y_true) if labels is None else np.unique(np.asarray(labels))
    if labels is not None and not np.all(np.isin(y_true, classes)):
        unknown = sorted(set(np.setdiff1d(y_true, classes).tolist()))
        raise ValueError(hint(f"y_true contains labels {unknown} not in labels",
                              "list every class in labels"))
    if len(classes) < 2:
        raise ValueError(
            hint(f"y_true contains only one label ({classes[0]!r})" if labels is None
                 else f"labels needs at least two labels, got {classes.tolist()}",
                 "pass every possible class through the labels argument")
        )
    if proba.ndim == 1:
        proba = proba[:, None]
    if proba.shape[1] == 1:
        proba = np.concatenate([1 - proba, proba], axis=1)
    if len(classes) != proba.shape[1]:
        raise ValueError(
            hint(f"y_true has {len(classes)} classes {classes.tolist()} but y_proba has "
                 f"{proba.shape[1]} columns",
                 "pass the full list of classes through the labels argument")
        )
    eps = np.finfo(proba.dtype).eps
    if not np.allclose(proba.sum(axis=1), 1, rtol=np.sqrt(eps), atol=0):
        warnings.warn("The y_proba values do not sum to one. Make sure to pass probabilities.",
                      UserWarning, stacklevel=2)
    proba = np.clip(proba, eps, 1 - eps)
    index = encode(y_true, classes)
    per_sample = -np.log(proba[np.arange(len(y_true)), index])
    if not normalize:
        return float(per_sample.sum() if sample_weight is None else per_sample @ sample_weight)
    return float(weighted_average(per_sample, sample_weight))
