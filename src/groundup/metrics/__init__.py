"""groundup.metrics: how good are predictions? (layer 1, NumPy only)

Classification from labels (accuracy, confusion matrix, precision/recall/F, specificity, balanced
accuracy, the report), from scores (ROC and precision-recall curves and their areas), from
probabilities (log loss), and regression (MSE, RMSE, MAE, R²). Names and semantics are
scikit-learn's.
"""

from groundup.metrics._checks import UndefinedMetricWarning
from groundup.metrics.classification import (
    accuracy_score,
    balanced_accuracy_score,
    classification_report,
    confusion_matrix,
    f1_score,
    fbeta_score,
    log_loss,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
    specificity_score,
)
from groundup.metrics.ranking import (
    auc,
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from groundup.metrics.regression import (
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)

__all__ = [
    "UndefinedMetricWarning",
    "accuracy_score",
    "auc",
    "average_precision_score",
    "balanced_accuracy_score",
    "classification_report",
    "confusion_matrix",
    "f1_score",
    "fbeta_score",
    "log_loss",
    "mean_absolute_error",
    "mean_squared_error",
    "precision_recall_curve",
    "precision_recall_fscore_support",
    "precision_score",
    "r2_score",
    "recall_score",
    "roc_auc_score",
    "roc_curve",
    "root_mean_squared_error",
    "specificity_score",
]
