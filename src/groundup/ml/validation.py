"""Input validation at the estimator boundary: arrays, targets, sample weights, random states.

Each check converts what users pass (lists, NumPy arrays, pandas frames) into a plain NumPy array and
rejects what cannot work with an error that names the argument, the shape or values it got, and what
was expected, followed by a ``help:`` hint. Estimators validate once, at the top of ``fit``/``predict``.
"""

from __future__ import annotations

import numbers

import numpy as np

from groundup.errors import DTypeError, ShapeError, hint

__all__ = [
    "check_array",
    "check_X_y",
    "check_sample_weight",
    "check_random_state",
    "check_n_features",
    "check_classification_targets",
    "column_or_1d",
    "type_of_target",
]


def _describe(value) -> str:
    """A short description of an input for error messages: its type and shape."""
    shape = getattr(value, "shape", None)
    if shape is None and isinstance(value, (list, tuple)):
        try:
            shape = np.shape(value)
        except ValueError:
            shape = f"ragged list of length {len(value)}"
    return f"{type(value).__name__} of shape {shape}" if shape is not None else type(value).__name__


def check_array(
    X,
    *,
    name: str = "X",
    ensure_2d: bool = True,
    allow_nan: bool = False,
    dtype=np.float64,
    ensure_min_samples: int = 1,
    ensure_min_features: int = 1,
    copy: bool = False,
) -> np.ndarray:
    """Convert ``X`` (list, array, pandas frame) into a NumPy array and validate it.

    ``dtype`` is a dtype to convert to, a list of accepted dtypes (an input of another dtype is
    converted to the first), or ``None`` to keep the input's dtype (e.g. strings for encoders).
    Checks: convertible to ``dtype``; 2-D (n_samples, n_features) when ``ensure_2d``; finite unless
    ``allow_nan`` (then only ±inf is rejected); at least ``ensure_min_samples`` rows and
    ``ensure_min_features`` columns. Returns the array (a copy if ``copy``).
    """
    if X is None:
        raise TypeError(hint(f"{name} is None", f"pass {name} as an array-like of shape (n_samples, n_features)"))
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):
        X = X.to_numpy()  # pandas DataFrame/Series
    accepted = list(dtype) if isinstance(dtype, (list, tuple)) else None
    target = None if dtype is None else (accepted[0] if accepted else dtype)
    try:
        array = np.asarray(X)
    except ValueError as exc:  # ragged nested lists
        raise ShapeError(
            hint(f"{name} could not be made into an array ({_describe(X)}): {exc}", "every row must have the same length")
        ) from None
    if accepted is not None and any(array.dtype == np.dtype(d) for d in accepted):
        target = None
    if np.iscomplexobj(array):
        raise DTypeError(hint(f"{name} has complex dtype {array.dtype}", f"pass real numbers in {name}"))
    if target is not None:
        try:
            array = array.astype(target, copy=False)
        except (ValueError, TypeError):
            sample = array.ravel()[:3].tolist()
            raise DTypeError(
                hint(
                    f"{name} has dtype {array.dtype} that cannot be converted to {np.dtype(target)} "
                    f"(first values: {sample})",
                    f"encode non-numeric columns of {name} first (OneHotEncoder, LabelEncoder)",
                )
            ) from None
    if ensure_2d:
        if array.ndim == 0:
            raise ShapeError(
                hint(f"{name} must be a 2-D array (n_samples, n_features), got a scalar {array!r}", f"pass {name} as [[value]]")
            )
        if array.ndim == 1:
            raise ShapeError(
                hint(
                    f"{name} must be a 2-D array (n_samples, n_features), got a 1-D array of shape {array.shape}",
                    f"use {name}.reshape(-1, 1) for a single feature or {name}.reshape(1, -1) for a single sample",
                )
            )
        if array.ndim > 2:
            raise ShapeError(
                hint(
                    f"{name} must be a 2-D array (n_samples, n_features), got {array.ndim}-D shape {array.shape}",
                    f"flatten each sample first: {name}.reshape(len({name}), -1)",
                )
            )
    if array.dtype.kind in "fc":
        _check_finite(array, name, allow_nan)
    if ensure_min_samples > 0 and array.ndim >= 1:
        n_samples = array.shape[0]
        if n_samples < ensure_min_samples:
            raise ShapeError(
                hint(
                    f"{name} has {n_samples} sample(s) (shape {array.shape}), "
                    f"but at least {ensure_min_samples} are required",
                    f"pass more rows in {name}",
                )
            )
    if ensure_min_features > 0 and array.ndim == 2 and array.shape[1] < ensure_min_features:
        raise ShapeError(
            hint(
                f"{name} has {array.shape[1]} feature(s) (shape {array.shape}), "
                f"but at least {ensure_min_features} are required",
                f"pass at least {ensure_min_features} column(s) in {name}",
            )
        )
    if copy and isinstance(X, np.ndarray) and np.shares_memory(array, X):
        array = array.copy()
    return array


def _check_finite(array: np.ndarray, name: str, allow_nan: bool) -> None:
    """Reject NaN (unless ``allow_nan``) and ±inf with a count of the bad entries."""
    # One reduction decides the common case cheaply: a finite sum means no NaN and no ±inf
    # (an overflowing sum of finite values falls through to the exact element-wise test).
    if array.size == 0 or np.isfinite(array.sum()):
        return
    if np.isfinite(array).all():
        return
    n_nan = int(np.isnan(array).sum())
    n_inf = int(np.isinf(array).sum())
    if n_inf:
        raise ValueError(
            hint(f"{name} contains {n_inf} infinite value(s) (shape {array.shape})", f"replace ±inf in {name} by finite values")
        )
    if n_nan and not allow_nan:
        raise ValueError(
            hint(
                f"{name} contains {n_nan} NaN value(s) (shape {array.shape})",
                f"impute or drop the missing values in {name} before fitting",
            )
        )


def column_or_1d(y, *, name: str = "y") -> np.ndarray:
    """Return ``y`` as a 1-D array; a column vector of shape (n, 1) is raveled."""
    y = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") and not isinstance(y, np.ndarray) else y)
    if y.ndim == 1:
        return y
    if y.ndim == 2 and y.shape[1] == 1:
        return y.ravel()
    raise ShapeError(
        hint(
            f"{name} must be 1-D of shape (n_samples,), got shape {y.shape}",
            "pass a single target column; for several outputs use an estimator that supports them",
        )
    )


def check_X_y(
    X,
    y,
    *,
    y_numeric: bool = False,
    allow_nan: bool = False,
    multi_output: bool = False,
    dtype=np.float64,
    ensure_min_samples: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate features ``X`` (n_samples, n_features) and targets ``y`` (n_samples,) together.

    ``y`` must have one entry per row of ``X``; it is raveled to 1-D unless ``multi_output`` (then
    (n_samples, n_outputs) is allowed). With ``y_numeric`` (regression), ``y`` is converted to float64
    and string labels are an error. Returns ``(X, y)`` as arrays.
    """
    if y is None:
        raise ValueError(hint("y is None", "pass the targets y, one per row of X"))
    X = check_array(X, name="X", allow_nan=allow_nan, dtype=dtype, ensure_min_samples=ensure_min_samples)
    if multi_output:
        y = check_array(y, name="y", ensure_2d=False, dtype=None, ensure_min_samples=0)
        if y.ndim > 2:
            raise ShapeError(hint(f"y must be 1-D or 2-D, got shape {y.shape}", "pass y as (n_samples,) or (n_samples, n_outputs)"))
    else:
        y = column_or_1d(y, name="y")
    if y_numeric:
        if y.dtype.kind in "OUS":
            try:
                y = y.astype(np.float64)
            except (ValueError, TypeError):
                raise DTypeError(
                    hint(
                        f"y has non-numeric labels (dtype {y.dtype}, e.g. {y.ravel()[:3].tolist()}) but this is a regressor",
                        "regression needs numeric targets; for class labels use a classifier",
                    )
                ) from None
        y = y.astype(np.float64, copy=False)
        _check_finite(y, "y", allow_nan=False)
    elif y.dtype.kind == "f":
        _check_finite(y, "y", allow_nan=False)
    elif y.dtype.kind == "O":
        if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in y.ravel()):
            raise ValueError(hint("y contains missing values (None/NaN)", "drop the rows whose label is missing"))
    if y.shape[0] != X.shape[0]:
        raise ShapeError(
            hint(
                f"X and y have inconsistent numbers of samples: X has {X.shape[0]} rows (shape {X.shape}), "
                f"y has {y.shape[0]} (shape {y.shape})",
                "pass one target per row of X",
            )
        )
    return X, y


def check_sample_weight(sample_weight, n_samples: int, *, dtype=np.float64) -> np.ndarray:
    """Validate ``sample_weight``: ``None`` → ones, a scalar → that value for every sample, else a 1-D
    non-negative finite array of length ``n_samples``. Returns a float array of shape (n_samples,)."""
    if sample_weight is None:
        return np.ones(n_samples, dtype=dtype)
    if isinstance(sample_weight, numbers.Number):
        weights = np.full(n_samples, sample_weight, dtype=dtype)
    else:
        weights = check_array(sample_weight, name="sample_weight", ensure_2d=False, dtype=dtype, ensure_min_samples=0)
        if weights.ndim != 1 or weights.shape[0] != n_samples:
            raise ShapeError(
                hint(
                    f"sample_weight has shape {weights.shape}, expected ({n_samples},) to match X",
                    "pass one weight per sample",
                )
            )
    _check_finite(weights, "sample_weight", allow_nan=False)
    if np.any(weights < 0):
        raise ValueError(
            hint(
                f"sample_weight has {int((weights < 0).sum())} negative value(s) (min {weights.min():g})",
                "weights must be non-negative",
            )
        )
    return weights


def check_random_state(seed) -> np.random.Generator:
    """Turn ``seed`` into a ``numpy.random.Generator``: ``None`` → fresh entropy, an int → seeded,
    a Generator → itself, a legacy ``RandomState`` → a Generator seeded from it."""
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (numbers.Integral, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(hint(f"random_state must be non-negative, got {seed}", "pass an int ≥ 0, a Generator or None"))
        return np.random.default_rng(int(seed))
    if isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**32 - 1, dtype=np.uint64))
    raise TypeError(
        hint(f"random_state={seed!r} cannot seed a random generator", "pass None, an int, or a numpy.random.Generator")
    )


def check_n_features(estimator, X: np.ndarray, *, reset: bool) -> None:
    """With ``reset`` (in ``fit``) set ``estimator.n_features_in_ = X.shape[1]``; otherwise (in
    ``predict``/``transform``) raise if ``X`` has a different number of columns than at fit time."""
    n_features = X.shape[1] if X.ndim >= 2 else 1
    if reset:
        estimator.n_features_in_ = n_features
        return
    expected = getattr(estimator, "n_features_in_", None)
    if expected is not None and n_features != expected:
        name = type(estimator).__name__
        raise ShapeError(
            hint(
                f"X has {n_features} feature(s) (shape {X.shape}), but {name} was fitted with {expected}",
                f"pass X with the same {expected} columns, in the same order, as at fit time",
            )
        )


def type_of_target(y) -> str:
    """Kind of target: ``"binary"``, ``"multiclass"``, ``"continuous"``, ``"multiclass-multioutput"``,
    ``"continuous-multioutput"`` or ``"unknown"`` (as scikit-learn's ``type_of_target``)."""
    y = np.asarray(y)
    if y.ndim > 2 or y.size == 0:
        return "unknown"
    suffix = "-multioutput" if y.ndim == 2 and y.shape[1] > 1 else ""
    if y.dtype.kind == "f" and np.any(y != np.round(y)):
        return "continuous" + suffix
    if y.dtype.kind == "c":
        return "unknown"
    if suffix:
        return "multiclass" + suffix
    n_unique = len(np.unique(y.ravel()))
    return "binary" if n_unique <= 2 else "multiclass"


def check_classification_targets(y) -> np.ndarray:
    """Check that ``y`` holds class labels with at least two distinct classes; return ``classes_``
    (the sorted unique labels). Continuous (non-integer float) targets are rejected."""
    y = np.asarray(y)
    kind = type_of_target(y)
    if kind.startswith("continuous"):
        raise ValueError(
            hint(
                f"y looks continuous (non-integer floats such as {y[y != np.round(y)][:3].tolist()}), "
                "but this is a classifier",
                "use a regressor for continuous targets, or encode y as class labels",
            )
        )
    if kind == "unknown":
        raise ValueError(hint(f"y has unsupported shape {y.shape} or dtype {y.dtype}", "pass 1-D class labels"))
    classes = np.unique(y)
    if classes.shape[0] < 2:
        raise ValueError(
            hint(
                f"y has a single class ({classes.tolist()}); a classifier needs at least 2",
                "check that the labels were loaded correctly or that the split kept several classes",
            )
        )
    return classes
