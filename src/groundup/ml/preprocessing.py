"""Preprocessing: scaling, encoding categories and labels, polynomial features.

Each transformer learns its statistics in ``fit`` (from the training data only, so nothing leaks
from the test set) and applies them in ``transform``; all are vectorised over samples and features.
"""

from __future__ import annotations

from itertools import chain, combinations, combinations_with_replacement

import numpy as np

from groundup.errors import hint
from groundup.ml.base import BaseEstimator, TransformerMixin, check_is_fitted
from groundup.ml.validation import check_array, check_n_features, column_or_1d

__all__ = ["StandardScaler", "MinMaxScaler", "OneHotEncoder", "LabelEncoder", "PolynomialFeatures"]


def _safe_scale(scale: np.ndarray) -> np.ndarray:
    """Replace (near-)zero scales by 1 so constant features are left as they are, not divided by 0."""
    scale = scale.copy()
    scale[scale < 10 * np.finfo(scale.dtype).eps] = 1.0
    return scale


class StandardScaler(TransformerMixin, BaseEstimator):
    """Standardise features: z = (x − μ) / σ, with μ the column mean and σ the column standard
    deviation over m samples (population form, divides by m, as scikit-learn).

    Attributes: ``mean_`` (n_features,), ``var_`` (n_features,), ``scale_`` = σ (1 for constant
    columns), ``n_samples_seen_``, ``n_features_in_``.
    """

    _allow_nan = True  # missing values pass through (ignored in the statistics), as in scikit-learn

    def __init__(self, *, copy: bool = True, with_mean: bool = True, with_std: bool = True):
        self.copy = copy
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X, y=None):
        """Learn μ and σ of each column of ``X`` (n_samples, n_features); NaNs are ignored."""
        X = check_array(X, allow_nan=True)
        check_n_features(self, X, reset=True)
        # NaN-aware statistics: missing values are skipped, as scikit-learn does.
        has_nan = np.isnan(X).any()
        self.mean_ = np.nanmean(X, axis=0) if has_nan else X.mean(axis=0)
        self.var_ = np.nanvar(X, axis=0) if has_nan else X.var(axis=0)
        if self.with_std:
            # A constant column's computed variance is rounding noise, not 0: call it constant when it
            # is within the error bound of the two-pass variance, (m·ε)·var + (m·|μ|·ε)².
            eps = np.finfo(np.float64).eps
            n = X.shape[0]
            constant = self.var_ <= n * eps * self.var_ + (n * np.abs(self.mean_) * eps) ** 2
            self.scale_ = np.where(constant, 1.0, np.sqrt(self.var_))
        else:
            self.scale_ = None
        if not self.with_mean and not self.with_std:
            self.mean_ = self.var_ = None
        self.n_samples_seen_ = X.shape[0]
        return self

    def transform(self, X):
        """Return (X − μ) / σ, shape (n_samples, n_features)."""
        check_is_fitted(self, "n_features_in_")
        X = check_array(X, allow_nan=True, copy=self.copy)
        check_n_features(self, X, reset=False)
        if self.with_mean:
            X -= self.mean_
        if self.with_std:
            X /= self.scale_
        return X

    def inverse_transform(self, X):
        """Undo the scaling: x = z σ + μ."""
        check_is_fitted(self, "n_features_in_")
        X = check_array(X, allow_nan=True, copy=True)
        check_n_features(self, X, reset=False)
        if self.with_std:
            X *= self.scale_
        if self.with_mean:
            X += self.mean_
        return X


class MinMaxScaler(TransformerMixin, BaseEstimator):
    """Rescale each feature to ``feature_range`` = (a, b): x' = a + (x − min) (b − a) / (max − min).

    Attributes: ``data_min_``, ``data_max_``, ``data_range_``, ``scale_`` = (b − a)/range and
    ``min_`` = a − min·scale_, so that transform is ``X * scale_ + min_``.
    """

    _allow_nan = True  # missing values pass through (ignored in the statistics), as in scikit-learn

    def __init__(self, feature_range=(0, 1), *, copy: bool = True, clip: bool = False):
        self.feature_range = feature_range
        self.copy = copy
        self.clip = clip

    def fit(self, X, y=None):
        """Learn the per-column minimum and maximum of ``X`` (n_samples, n_features)."""
        low, high = self.feature_range
        if low >= high:
            raise ValueError(
                hint(f"feature_range={self.feature_range!r}: minimum must be below maximum", "pass e.g. (0, 1)")
            )
        X = check_array(X, allow_nan=True)
        check_n_features(self, X, reset=True)
        self.data_min_ = np.nanmin(X, axis=0)
        self.data_max_ = np.nanmax(X, axis=0)
        self.data_range_ = self.data_max_ - self.data_min_
        self.scale_ = (high - low) / _safe_scale(self.data_range_)
        self.min_ = low - self.data_min_ * self.scale_
        self.n_samples_seen_ = X.shape[0]
        return self

    def transform(self, X):
        """Return ``X * scale_ + min_`` (clipped to ``feature_range`` when ``clip``)."""
        check_is_fitted(self, "scale_")
        X = check_array(X, allow_nan=True)
        check_n_features(self, X, reset=False)
        out = X * self.scale_ + self.min_
        if self.clip:
            np.clip(out, self.feature_range[0], self.feature_range[1], out=out)
        return out

    def inverse_transform(self, X):
        """Undo the scaling: x = (x' − min_) / scale_."""
        check_is_fitted(self, "scale_")
        X = check_array(X, allow_nan=True)
        check_n_features(self, X, reset=False)
        return (X - self.min_) / self.scale_


class OneHotEncoder(TransformerMixin, BaseEstimator):
    """Encode each categorical column as indicator columns: category c of column j → a 1 in column
    ``offset_j + index(c)``; output shape (n_samples, Σ_j n_categories_j) (dense).

    ``drop`` = None | "first" | "if_binary" removes one indicator per column (for unpenalised linear
    models); ``handle_unknown`` = "error" | "ignore" (unknown categories encode as all zeros).
    Attributes: ``categories_`` (list of sorted arrays), ``drop_idx_``, ``n_features_in_``.
    """

    def __init__(self, *, categories="auto", drop=None, handle_unknown="error", dtype=np.float64):
        self.categories = categories
        self.drop = drop
        self.handle_unknown = handle_unknown
        self.dtype = dtype

    def _check_X(self, X):
        X = check_array(X, dtype=None, allow_nan=False)
        if X.dtype.kind == "O":
            # Mixed objects (e.g. pandas object columns): compare as strings per column only if needed.
            try:
                np.unique(X[:, 0]) if X.shape[1] else None
            except TypeError:
                X = X.astype(str)
        return X

    def fit(self, X, y=None):
        """Learn the sorted categories of each column of ``X`` (n_samples, n_features)."""
        if self.handle_unknown not in ("error", "ignore"):
            raise ValueError(hint(f"handle_unknown={self.handle_unknown!r} is not supported", "use 'error' or 'ignore'"))
        if self.drop not in (None, "first", "if_binary"):
            raise ValueError(hint(f"drop={self.drop!r} is not supported", "use None, 'first' or 'if_binary'"))
        X = self._check_X(X)
        check_n_features(self, X, reset=True)
        if self.categories == "auto":
            self.categories_ = [np.unique(X[:, j]) for j in range(X.shape[1])]
        else:
            if len(self.categories) != X.shape[1]:
                raise ValueError(
                    hint(
                        f"categories has {len(self.categories)} lists but X has {X.shape[1]} columns",
                        "give one list of categories per column",
                    )
                )
            self.categories_ = [np.sort(np.asarray(c)) for c in self.categories]
            for j, cats in enumerate(self.categories_):
                unknown = np.setdiff1d(X[:, j], cats)
                if unknown.size:
                    raise ValueError(
                        hint(f"X column {j} has categories {unknown[:5].tolist()} not in categories[{j}]", "add them")
                    )
        if self.drop is None:
            self.drop_idx_ = None
        else:
            self.drop_idx_ = np.array(
                [0 if (self.drop == "first" or len(c) == 2) else -1 for c in self.categories_], dtype=int
            )
        return self

    def transform(self, X):
        """Return the indicator matrix, shape (n_samples, total number of kept categories)."""
        check_is_fitted(self, "categories_")
        X = self._check_X(X)
        check_n_features(self, X, reset=False)
        n = X.shape[0]
        blocks = []
        for j, cats in enumerate(self.categories_):
            column = X[:, j]
            # searchsorted finds each value's index among the sorted categories in one vectorised call.
            idx = np.searchsorted(cats, column)
            idx_clipped = np.minimum(idx, len(cats) - 1)
            known = cats[idx_clipped] == column
            if not known.all() and self.handle_unknown == "error":
                raise ValueError(
                    hint(
                        f"X column {j} has unknown categories {np.unique(column[~known])[:5].tolist()} "
                        f"(seen at fit: {cats[:5].tolist()}{'...' if len(cats) > 5 else ''})",
                        "pass handle_unknown='ignore' to encode unknown categories as all zeros",
                    )
                )
            block = np.zeros((n, len(cats)), dtype=self.dtype)
            rows = np.flatnonzero(known)
            block[rows, idx_clipped[rows]] = 1
            if self.drop_idx_ is not None and self.drop_idx_[j] >= 0:
                block = np.delete(block, self.drop_idx_[j], axis=1)
            blocks.append(block)
        return np.hstack(blocks) if blocks else np.zeros((n, 0), dtype=self.dtype)

    def inverse_transform(self, X):
        """Map indicator rows back to the categories, shape (n_samples, n_features)."""
        check_is_fitted(self, "categories_")
        X = check_array(X)
        out = np.empty((X.shape[0], len(self.categories_)), dtype=object)
        start = 0
        for j, cats in enumerate(self.categories_):
            dropped = self.drop_idx_ is not None and self.drop_idx_[j] >= 0
            width = len(cats) - int(dropped)
            block = X[:, start : start + width]
            if dropped:
                kept = np.delete(np.arange(len(cats)), self.drop_idx_[j])
                idx = np.where(block.sum(axis=1) == 0, self.drop_idx_[j], kept[np.argmax(block, axis=1)])
            else:
                idx = np.argmax(block, axis=1)
            out[:, j] = cats[idx]
            start += width
        return out

    def get_feature_names_out(self, input_features=None):
        """Output column names ``"<feature>_<category>"``."""
        check_is_fitted(self, "categories_")
        if input_features is None:
            input_features = [f"x{j}" for j in range(self.n_features_in_)]
        names = []
        for j, cats in enumerate(self.categories_):
            for k, c in enumerate(cats):
                if self.drop_idx_ is not None and self.drop_idx_[j] == k:
                    continue
                names.append(f"{input_features[j]}_{c}")
        return np.asarray(names, dtype=object)


class LabelEncoder(TransformerMixin, BaseEstimator):
    """Encode target labels as integers 0..n_classes−1 in sorted order: y ↦ index of y in ``classes_``."""

    def fit(self, y):
        """Learn the sorted unique labels ``classes_`` of ``y`` (n_samples,)."""
        y = column_or_1d(check_array(y, name="y", ensure_2d=False, dtype=None), name="y")
        self.classes_ = np.unique(y)
        return self

    def fit_transform(self, y):
        """Fit and return the encoded labels in one pass (``np.unique`` with ``return_inverse``)."""
        y = column_or_1d(check_array(y, name="y", ensure_2d=False, dtype=None), name="y")
        self.classes_, encoded = np.unique(y, return_inverse=True)
        return encoded

    def transform(self, y):
        """Return the integer code of each label in ``y``."""
        check_is_fitted(self, "classes_")
        y = column_or_1d(check_array(y, name="y", ensure_2d=False, dtype=None, ensure_min_samples=0), name="y")
        if y.size == 0:
            return np.zeros(0, dtype=np.intp)
        idx = np.minimum(np.searchsorted(self.classes_, y), len(self.classes_) - 1)
        unknown = self.classes_[idx] != y
        if unknown.any():
            raise ValueError(
                hint(
                    f"y contains previously unseen labels {np.unique(y[unknown])[:5].tolist()}",
                    f"fit the encoder on all labels; known labels are {self.classes_[:10].tolist()}",
                )
            )
        return idx

    def inverse_transform(self, y):
        """Return the original labels for integer codes ``y``."""
        check_is_fitted(self, "classes_")
        y = np.asarray(y)
        if y.size and (y.min() < 0 or y.max() >= len(self.classes_)):
            raise ValueError(
                hint(f"y contains codes outside 0..{len(self.classes_) - 1}", "pass codes produced by transform()")
            )
        return self.classes_[y]


class PolynomialFeatures(TransformerMixin, BaseEstimator):
    """All monomials of the features up to ``degree``: for (a, b) and degree 2,
    [1, a, b, a², ab, b²] (scikit-learn's order). ``interaction_only`` keeps products of distinct
    features only; ``include_bias`` keeps the constant column.

    Attributes: ``powers_`` (n_output_features, n_features) exponent matrix, ``n_output_features_``.
    """

    def __init__(self, degree=2, *, interaction_only: bool = False, include_bias: bool = True):
        self.degree = degree
        self.interaction_only = interaction_only
        self.include_bias = include_bias

    def _combinations(self, n_features):
        if isinstance(self.degree, tuple):
            min_degree, max_degree = self.degree
        else:
            min_degree, max_degree = 0, self.degree
        comb = combinations if self.interaction_only else combinations_with_replacement
        start = max(1, min_degree)
        combos = chain.from_iterable(comb(range(n_features), d) for d in range(start, max_degree + 1))
        if self.include_bias:
            combos = chain([()], combos)
        return list(combos)

    def fit(self, X, y=None):
        """Enumerate the monomials for ``X``'s number of features."""
        max_degree = self.degree[1] if isinstance(self.degree, tuple) else self.degree
        if not isinstance(max_degree, (int, np.integer)) or max_degree < 0:
            raise ValueError(hint(f"degree={self.degree!r} must be a non-negative int", "pass e.g. degree=2"))
        X = check_array(X)
        check_n_features(self, X, reset=True)
        combos = self._combinations(X.shape[1])
        self.powers_ = np.zeros((len(combos), X.shape[1]), dtype=int)
        for row, combo in enumerate(combos):
            for j in combo:
                self.powers_[row, j] += 1
        self._combos = combos
        self.n_output_features_ = len(combos)
        return self

    def transform(self, X):
        """Return the monomial features, shape (n_samples, n_output_features_)."""
        check_is_fitted(self, "powers_")
        X = check_array(X)
        check_n_features(self, X, reset=False)
        out = np.empty((X.shape[0], self.n_output_features_), dtype=X.dtype)
        for col, combo in enumerate(self._combos):
            if not combo:
                out[:, col] = 1.0
            else:
                # Each column is a product of one or more input columns (a loop over outputs, not samples).
                np.prod(X[:, combo], axis=1, out=out[:, col])
        return out

    def get_feature_names_out(self, input_features=None):
        """Names such as ``"1"``, ``"x0"``, ``"x0^2"``, ``"x0 x1"``."""
        check_is_fitted(self, "powers_")
        if input_features is None:
            input_features = [f"x{j}" for j in range(self.n_features_in_)]
        names = []
        for powers in self.powers_:
            terms = [f"{input_features[j]}^{p}" if p > 1 else input_features[j] for j, p in enumerate(powers) if p]
            names.append(" ".join(terms) if terms else "1")
        return np.asarray(names, dtype=object)
