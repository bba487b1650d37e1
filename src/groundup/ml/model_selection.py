"""Model selection: splitting data, cross-validation, learning and validation curves, grid search,
and the bias–variance decomposition."""

from __future__ import annotations

import numbers
from itertools import product

import numpy as np

from groundup.errors import ShapeError, hint
from groundup.ml.base import BaseEstimator, available_if, clone, is_classifier


def _search_has(method):
    return available_if(lambda self: hasattr(self.estimator, method))
from groundup.ml.validation import check_array, check_random_state, column_or_1d

__all__ = [
    "train_test_split",
    "KFold",
    "StratifiedKFold",
    "check_cv",
    "get_scorer",
    "cross_val_score",
    "cross_validate",
    "learning_curve",
    "validation_curve",
    "GridSearchCV",
    "ParameterGrid",
    "bias_variance_decomposition",
]


def _indexable(a):
    """An array view of ``a`` that supports fancy indexing (lists become arrays; pandas → NumPy)."""
    if hasattr(a, "to_numpy") and not isinstance(a, np.ndarray):
        return a.to_numpy()
    return a if isinstance(a, np.ndarray) else np.asarray(a)


def _n_samples(a) -> int:
    return _indexable(a).shape[0]


def _split_sizes(n: int, test_size, train_size) -> tuple[int, int]:
    """Number of (train, test) samples from float fractions or int counts (scikit-learn's rules)."""
    if test_size is None and train_size is None:
        test_size = 0.25

    def count(size, name):
        if size is None:
            return None
        if isinstance(size, numbers.Integral):
            if not 0 < size < n:
                raise ValueError(hint(f"{name}={size} must be between 1 and n_samples−1 = {n - 1}", "pass a smaller count"))
            return int(size)
        if not 0 < size < 1:
            raise ValueError(hint(f"{name}={size} must be a fraction in (0, 1) or an int count", "try 0.25"))
        return int(np.ceil(size * n)) if name == "test_size" else int(np.floor(size * n))

    n_test = count(test_size, "test_size")
    n_train = count(train_size, "train_size")
    if n_test is None:
        n_test = n - n_train
    if n_train is None:
        n_train = n - n_test
    if n_train + n_test > n or n_train < 1 or n_test < 1:
        raise ValueError(
            hint(
                f"with n_samples={n}, test_size={test_size} and train_size={train_size} give "
                f"{n_train} train and {n_test} test samples",
                "each side needs at least one sample and together at most n_samples",
            )
        )
    return n_train, n_test


def train_test_split(*arrays, test_size=None, train_size=None, random_state=None, shuffle: bool = True, stratify=None):
    """Split arrays (same first dimension) into random train and test subsets.

    Returns ``[a_train, a_test, b_train, b_test, ...]``. ``test_size`` is a fraction (default 0.25)
    or a count; ``stratify=y`` keeps each class's proportion in both parts (per class, the test
    share is allocated by largest remainder); ``shuffle=False`` takes the last samples as test.
    """
    if not arrays:
        raise ValueError(hint("train_test_split() got no arrays", "pass e.g. X, y"))
    arrays = [_indexable(a) for a in arrays]
    n = arrays[0].shape[0]
    for i, a in enumerate(arrays[1:], 1):
        if a.shape[0] != n:
            raise ShapeError(
                hint(f"array {i} has {a.shape[0]} samples but array 0 has {n}", "pass arrays with the same number of rows")
            )
    n_train, n_test = _split_sizes(n, test_size, train_size)
    rng = check_random_state(random_state)
    if not shuffle:
        if stratify is not None:
            raise ValueError(hint("stratify requires shuffle=True", "drop stratify or set shuffle=True"))
        train, test = np.arange(n_train), np.arange(n_train, n_train + n_test)
    elif stratify is None:
        perm = rng.permutation(n)
        test, train = perm[:n_test], perm[n_test : n_test + n_train]
    else:
        train, test = _stratified_indices(column_or_1d(_indexable(stratify), name="stratify"), n_train, n_test, rng)
    out = []
    for a in arrays:
        out.extend([a[train], a[test]])
    return out


def _stratified_indices(y, n_train, n_test, rng):
    """Train/test indices with each class's share of the test set ∝ its frequency."""
    classes, y_index, counts = np.unique(y, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            hint(
                f"stratify: class {classes[counts.argmin()].tolist()!r} has only {counts.min()} member(s)",
                "each class needs at least 2 samples to appear on both sides",
            )
        )
    test_counts = _allocate(counts, n_test, rng)
    train_counts = _allocate(counts - test_counts, n_train, rng)
    train, test = [], []
    for k in range(len(classes)):
        members = rng.permutation(np.flatnonzero(y_index == k))
        test.append(members[: test_counts[k]])
        train.append(members[test_counts[k] : test_counts[k] + train_counts[k]])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _allocate(counts, total, rng):
    """Split ``total`` over classes ∝ ``counts`` by largest remainder (ties broken at random)."""
    exact = counts * total / counts.sum()
    floor = np.floor(exact).astype(int)
    left = int(total - floor.sum())
    remainder = exact - floor
    order = np.lexsort((rng.random(len(counts)), -remainder))
    for k in order:
        if left == 0:
            break
        if floor[k] < counts[k]:
            floor[k] += 1
            left -= 1
    return floor


class KFold:
    """K-fold cross-validation: split n samples into ``n_splits`` consecutive folds (the first
    n mod k folds have one extra sample), each used once as the test set; ``shuffle`` permutes first."""

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state=None):
        if not (isinstance(n_splits, numbers.Integral) and n_splits >= 2):
            raise ValueError(hint(f"n_splits={n_splits!r} must be an int ≥ 2", "try n_splits=5"))
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """The number of folds."""
        return self.n_splits

    def split(self, X, y=None, groups=None):
        """Yield ``(train_indices, test_indices)`` for each fold."""
        n = _n_samples(X)
        if self.n_splits > n:
            raise ValueError(hint(f"n_splits={self.n_splits} is greater than n_samples={n}", "use fewer folds"))
        indices = check_random_state(self.random_state).permutation(n) if self.shuffle else np.arange(n)
        sizes = np.full(self.n_splits, n // self.n_splits)
        sizes[: n % self.n_splits] += 1
        start = 0
        for size in sizes:
            test = indices[start : start + size]
            train = np.concatenate([indices[:start], indices[start + size :]])
            yield train, test
            start += size

    def __repr__(self):
        return f"KFold(n_splits={self.n_splits}, shuffle={self.shuffle}, random_state={self.random_state})"


class StratifiedKFold(KFold):
    """K-fold with each fold keeping the class proportions of y (scikit-learn's assignment: sort the
    labels, deal them to folds round-robin, so fold sizes per class differ by at most one)."""

    def split(self, X, y, groups=None):
        """Yield ``(train_indices, test_indices)`` for each fold, stratified by ``y``."""
        y = column_or_1d(_indexable(y), name="y")
        n = y.shape[0]
        _, y_index = np.unique(y, return_inverse=True)
        # Renumber classes by first appearance, as scikit-learn does, so the folds coincide with its.
        _, first = np.unique(y_index, return_index=True)
        y_encoded = np.argsort(np.argsort(first))[y_index]
        n_classes = len(first)
        counts = np.bincount(y_encoded)
        if self.n_splits > counts.max():
            raise ValueError(
                hint(f"n_splits={self.n_splits} is greater than the largest class count {counts.max()}", "use fewer folds")
            )
        y_order = np.sort(y_encoded)
        allocation = np.asarray([np.bincount(y_order[i :: self.n_splits], minlength=n_classes) for i in range(self.n_splits)])
        rng = check_random_state(self.random_state) if self.shuffle else None
        test_folds = np.empty(n, dtype=int)
        for k in range(n_classes):
            folds_for_class = np.arange(self.n_splits).repeat(allocation[:, k])
            if rng is not None:
                folds_for_class = rng.permutation(folds_for_class)
            test_folds[y_encoded == k] = folds_for_class
        for fold in range(self.n_splits):
            yield np.flatnonzero(test_folds != fold), np.flatnonzero(test_folds == fold)

    def __repr__(self):
        return f"StratifiedKFold(n_splits={self.n_splits}, shuffle={self.shuffle}, random_state={self.random_state})"


def check_cv(cv=5, y=None, *, classifier: bool = False):
    """A splitter from ``cv``: an int k gives StratifiedKFold(k) for classifiers, KFold(k) otherwise;
    a splitter or an iterable of (train, test) pairs is returned as is."""
    if cv is None:
        cv = 5
    if isinstance(cv, numbers.Integral):
        return StratifiedKFold(cv) if classifier and y is not None else KFold(cv)
    if hasattr(cv, "split"):
        return cv
    return _FixedSplits(list(cv))


class _FixedSplits:
    def __init__(self, splits):
        self.splits = splits

    def split(self, X=None, y=None, groups=None):
        yield from self.splits

    def get_n_splits(self, X=None, y=None, groups=None):
        return len(self.splits)


def _metric_scorer(metric_name, *, sign=1.0, kind="predict", **kwargs):
    def scorer(estimator, X, y):
        import groundup.metrics as metrics  # lazy: metrics is a sibling layer

        metric = getattr(metrics, metric_name)
        if kind == "proba":
            y_hat = estimator.predict_proba(X)
        elif kind == "score":
            y_hat = estimator.decision_function(X) if hasattr(estimator, "decision_function") else estimator.predict_proba(X)
            if y_hat.ndim == 2 and y_hat.shape[1] == 2:
                y_hat = y_hat[:, 1]
        else:
            y_hat = estimator.predict(X)
        return sign * float(metric(y, y_hat, **kwargs))

    scorer.__name__ = metric_name
    return scorer


_SCORERS = {
    "accuracy": ("accuracy_score", {}),
    "balanced_accuracy": ("balanced_accuracy_score", {}),
    "f1": ("f1_score", {}),
    "f1_macro": ("f1_score", {"average": "macro"}),
    "f1_micro": ("f1_score", {"average": "micro"}),
    "f1_weighted": ("f1_score", {"average": "weighted"}),
    "precision": ("precision_score", {}),
    "recall": ("recall_score", {}),
    "roc_auc": ("roc_auc_score", {"kind": "score"}),
    "neg_log_loss": ("log_loss", {"sign": -1.0, "kind": "proba"}),
    "r2": ("r2_score", {}),
    "neg_mean_squared_error": ("mean_squared_error", {"sign": -1.0}),
    "neg_mean_absolute_error": ("mean_absolute_error", {"sign": -1.0}),
    "neg_root_mean_squared_error": ("root_mean_squared_error", {"sign": -1.0}),
}


def get_scorer(scoring):
    """A callable ``scorer(estimator, X, y) -> float`` (greater is better) from ``scoring``: ``None``
    (the estimator's own ``score``), a name such as ``"accuracy"``, ``"r2"``,
    ``"neg_mean_squared_error"``, or a callable returned as is."""
    if scoring is None:
        return lambda estimator, X, y: float(estimator.score(X, y))
    if callable(scoring):
        return scoring
    if scoring not in _SCORERS:
        raise ValueError(hint(f"scoring={scoring!r} is not a known scorer", f"choose one of {sorted(_SCORERS)}"))
    name, options = _SCORERS[scoring]
    options = dict(options)
    sign = options.pop("sign", 1.0)
    kind = options.pop("kind", "predict")
    return _metric_scorer(name, sign=sign, kind=kind, **options)


def _fit_and_score(estimator, X, y, train, test, scorer, return_train_score, params=None):
    est = clone(estimator)
    if params:
        est.set_params(**params)
    est.fit(X[train], y[train]) if y is not None else est.fit(X[train])
    result = {"test_score": scorer(est, X[test], None if y is None else y[test]), "estimator": est}
    if return_train_score:
        result["train_score"] = scorer(est, X[train], None if y is None else y[train])
    return result


def cross_validate(estimator, X, y=None, *, scoring=None, cv=5, return_train_score: bool = False, return_estimator: bool = False):
    """Fit a clone of ``estimator`` on each training fold and score it on the held-out fold.

    Returns a dict of arrays (one entry per fold): ``test_score``, ``fit_time``, ``score_time``, and
    ``train_score`` / ``estimator`` when asked.
    """
    import time

    X = _indexable(X)
    y = None if y is None else _indexable(y)
    splitter = check_cv(cv, y, classifier=is_classifier(estimator))
    scorer = get_scorer(scoring)
    out: dict[str, list] = {"fit_time": [], "score_time": [], "test_score": []}
    if return_train_score:
        out["train_score"] = []
    if return_estimator:
        out["estimator"] = []
    for train, test in splitter.split(X, y):
        t0 = time.perf_counter()
        est = clone(estimator)
        est.fit(X[train], y[train]) if y is not None else est.fit(X[train])
        t1 = time.perf_counter()
        out["test_score"].append(scorer(est, X[test], None if y is None else y[test]))
        out["score_time"].append(time.perf_counter() - t1)
        out["fit_time"].append(t1 - t0)
        if return_train_score:
            out["train_score"].append(scorer(est, X[train], None if y is None else y[train]))
        if return_estimator:
            out["estimator"].append(est)
    return {k: (v if k == "estimator" else np.asarray(v)) for k, v in out.items()}


def cross_val_score(estimator, X, y=None, *, scoring=None, cv=5) -> np.ndarray:
    """Test score of ``estimator`` on each of the ``cv`` folds, shape (n_splits,)."""
    return cross_validate(estimator, X, y, scoring=scoring, cv=cv)["test_score"]


def learning_curve(estimator, X, y, *, train_sizes=np.linspace(0.1, 1.0, 5), cv=5, scoring=None, shuffle=False, random_state=None):
    """Train and validation scores as the training set grows.

    For each fold and each size s in ``train_sizes`` (fractions of the training fold or counts),
    fit on the first s training samples and score on the fold's test set. Returns
    ``(train_sizes_abs, train_scores, test_scores)`` with scores of shape (n_sizes, n_splits).
    """
    X, y = _indexable(X), _indexable(y)
    splitter = check_cv(cv, y, classifier=is_classifier(estimator))
    splits = list(splitter.split(X, y))
    n_train_max = len(splits[0][0])
    sizes = np.asarray(train_sizes)
    if sizes.dtype.kind == "f":
        if sizes.min() <= 0 or sizes.max() > 1:
            raise ValueError(hint(f"train_sizes fractions must lie in (0, 1], got {sizes.tolist()}", "e.g. np.linspace(0.1, 1, 5)"))
        sizes = np.maximum(1, (sizes * n_train_max).astype(int))
    elif sizes.min() < 1 or sizes.max() > n_train_max:
        raise ValueError(hint(f"train_sizes counts must lie in [1, {n_train_max}], got {sizes.tolist()}", "pass smaller counts"))
    sizes = np.unique(sizes)
    scorer = get_scorer(scoring)
    rng = check_random_state(random_state)
    train_scores = np.empty((len(sizes), len(splits)))
    test_scores = np.empty_like(train_scores)
    for j, (train, test) in enumerate(splits):
        if shuffle:
            train = rng.permutation(train)
        for i, size in enumerate(sizes):
            result = _fit_and_score(estimator, X, y, train[:size], test, scorer, True)
            train_scores[i, j] = result["train_score"]
            test_scores[i, j] = result["test_score"]
    return sizes, train_scores, test_scores


def validation_curve(estimator, X, y, *, param_name: str, param_range, cv=5, scoring=None):
    """Train and validation scores as one parameter varies: for each value v in ``param_range``,
    cross-validate ``estimator`` with ``param_name=v``. Returns ``(train_scores, test_scores)``,
    each of shape (len(param_range), n_splits)."""
    X, y = _indexable(X), _indexable(y)
    splits = list(check_cv(cv, y, classifier=is_classifier(estimator)).split(X, y))
    scorer = get_scorer(scoring)
    train_scores = np.empty((len(param_range), len(splits)))
    test_scores = np.empty_like(train_scores)
    for i, value in enumerate(param_range):
        for j, (train, test) in enumerate(splits):
            result = _fit_and_score(estimator, X, y, train, test, scorer, True, {param_name: value})
            train_scores[i, j] = result["train_score"]
            test_scores[i, j] = result["test_score"]
    return train_scores, test_scores


class ParameterGrid:
    """All combinations of a parameter grid: ``{"a": [1, 2], "b": [3]}`` → ``{a:1,b:3}, {a:2,b:3}``
    (a list of such dicts gives the union of their grids)."""

    def __init__(self, param_grid):
        grids = [param_grid] if isinstance(param_grid, dict) else list(param_grid)
        for grid in grids:
            for name, values in grid.items():
                if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
                    raise TypeError(
                        hint(f"param_grid[{name!r}] = {values!r} is not a list of values", f"write {name!r}: [{values!r}]")
                    )
        self.grids = grids

    def __iter__(self):
        for grid in self.grids:
            names = sorted(grid)
            for values in product(*(list(grid[n]) for n in names)):
                yield dict(zip(names, values))

    def __len__(self):
        return sum(int(np.prod([len(list(v)) for v in g.values()])) for g in self.grids)


class GridSearchCV(BaseEstimator):
    """Exhaustive search over ``param_grid``: cross-validate ``estimator`` for every combination,
    pick the one with the best mean test score, and (``refit``) refit it on all the data.

    Attributes: ``cv_results_`` (dict of arrays: ``params``, ``mean_test_score``,
    ``std_test_score``, ``rank_test_score``, ``split<i>_test_score``, and train scores when asked),
    ``best_params_``, ``best_score_``, ``best_index_``, ``best_estimator_``; ``predict``,
    ``predict_proba``, ``decision_function``, ``transform`` and ``score`` use the best estimator.
    """

    def __init__(self, estimator, param_grid, *, scoring=None, cv=5, refit: bool = True, return_train_score: bool = False):
        self.estimator = estimator
        self.param_grid = param_grid
        self.scoring = scoring
        self.cv = cv
        self.refit = refit
        self.return_train_score = return_train_score

    @property
    def _estimator_type(self):
        return getattr(self.estimator, "_estimator_type", None)

    def fit(self, X, y=None):
        """Run the search on ``X`` (n_samples, n_features) and ``y``; returns ``self``."""
        X = _indexable(X)
        y = None if y is None else _indexable(y)
        candidates = list(ParameterGrid(self.param_grid))
        if not candidates:
            raise ValueError(hint("param_grid is empty", "give at least one parameter value"))
        splits = list(check_cv(self.cv, y, classifier=is_classifier(self.estimator)).split(X, y))
        scorer = get_scorer(self.scoring)
        test = np.empty((len(candidates), len(splits)))
        train = np.empty_like(test)
        for i, params in enumerate(candidates):
            for j, (tr, te) in enumerate(splits):
                result = _fit_and_score(self.estimator, X, y, tr, te, scorer, self.return_train_score, params)
                test[i, j] = result["test_score"]
                if self.return_train_score:
                    train[i, j] = result["train_score"]
        mean = test.mean(axis=1)
        results = {"params": candidates, "mean_test_score": mean, "std_test_score": test.std(axis=1)}
        # Rank 1 is best; ties share the smallest rank (scikit-learn's "min" method).
        order = np.argsort(-mean, kind="stable")
        ranks = np.empty(len(mean), dtype=int)
        ranks[order] = np.arange(1, len(mean) + 1)
        for i in range(len(mean)):
            ranks[i] = ranks[mean == mean[i]].min()
        results["rank_test_score"] = ranks
        for j in range(len(splits)):
            results[f"split{j}_test_score"] = test[:, j]
        if self.return_train_score:
            results["mean_train_score"] = train.mean(axis=1)
            results["std_train_score"] = train.std(axis=1)
        for name in sorted({k for c in candidates for k in c}):
            results[f"param_{name}"] = np.array([c.get(name) for c in candidates], dtype=object)
        self.cv_results_ = results
        self.best_index_ = int(np.argmin(ranks))
        self.best_params_ = candidates[self.best_index_]
        self.best_score_ = float(mean[self.best_index_])
        self.n_splits_ = len(splits)
        if self.refit:
            self.best_estimator_ = clone(self.estimator).set_params(**self.best_params_)
            self.best_estimator_.fit(X, y) if y is not None else self.best_estimator_.fit(X)
            if hasattr(self.best_estimator_, "classes_"):
                self.classes_ = self.best_estimator_.classes_
            if hasattr(self.best_estimator_, "n_features_in_"):
                self.n_features_in_ = self.best_estimator_.n_features_in_
        return self

    def _best(self):
        from groundup.ml.base import check_is_fitted

        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_

    @_search_has("predict")
    def predict(self, X):
        """``best_estimator_.predict(X)``."""
        return self._best().predict(X)

    @_search_has("predict_proba")
    def predict_proba(self, X):
        """``best_estimator_.predict_proba(X)``."""
        return self._best().predict_proba(X)

    @_search_has("decision_function")
    def decision_function(self, X):
        """``best_estimator_.decision_function(X)``."""
        return self._best().decision_function(X)

    @_search_has("transform")
    def transform(self, X):
        """``best_estimator_.transform(X)``."""
        return self._best().transform(X)

    def score(self, X, y=None):
        """The search's scorer on (X, y) with the best estimator."""
        return get_scorer(self.scoring)(self._best(), X, y)


def bias_variance_decomposition(
    estimator, X, y, n_rounds: int = 100, *, test_size=0.3, f_true=None, loss: str = "mse", random_state=None
) -> dict:
    """The course's split of expected squared error, E[(y − ŷ)²] = bias² + variance + noise,
    estimated by bootstrap.

    Hold out a test set; ``n_rounds`` times, fit a clone on a bootstrap sample of the training set and
    predict the test set. With ŷ̄ the mean prediction over rounds:
    ``variance`` = mean over test points of Var_rounds(ŷ), ``bias_squared`` = mean (f − ŷ̄)² and
    ``noise`` = mean (y − f)², where f are the noise-free targets ``f_true`` (e.g. of synthetic data)
    when given; otherwise f = y, so the noise is folded into the bias and reported as 0.
    ``expected_loss`` = mean over points and rounds of (y − ŷ)². With ``loss="0-1"`` (classifiers),
    the 0-1 analogue (Domingos): main prediction = the mode, bias = mean [mode ≠ y], variance =
    mean P(ŷ ≠ mode). Returns a dict with those four numbers.
    """
    if not (isinstance(n_rounds, numbers.Integral) and n_rounds >= 2):
        raise ValueError(hint(f"n_rounds={n_rounds!r} must be an int ≥ 2", "try n_rounds=100"))
    if loss not in ("mse", "0-1"):
        raise ValueError(hint(f"loss={loss!r} is not supported", "use 'mse' or '0-1'"))
    X = check_array(X)
    y = column_or_1d(_indexable(y), name="y")
    if f_true is not None:
        f_true = column_or_1d(_indexable(f_true), name="f_true").astype(float)
        if f_true.shape != y.shape:
            raise ShapeError(hint(f"f_true has shape {f_true.shape}, y has {y.shape}", "pass one noise-free value per sample"))
        X_train, X_test, y_train, y_test, _, f_test = train_test_split(X, y, f_true, test_size=test_size, random_state=random_state)
    else:
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, random_state=random_state)
        f_test = y_test
    rng = check_random_state(random_state)
    n_train = X_train.shape[0]
    predictions = []
    for _ in range(n_rounds):
        rows = rng.integers(0, n_train, n_train)
        predictions.append(clone(estimator).fit(X_train[rows], y_train[rows]).predict(X_test))
    P = np.asarray(predictions)  # (n_rounds, n_test)
    if loss == "0-1":
        modes = np.array([_mode(col) for col in P.T])
        return {
            "expected_loss": float(np.mean(P != y_test)),
            "bias_squared": float(np.mean(modes != y_test)),
            "variance": float(np.mean(P != modes)),
            "noise": 0.0,
        }
    P = P.astype(float)
    mean_prediction = P.mean(axis=0)
    return {
        "expected_loss": float(np.mean((P - y_test) ** 2)),
        "bias_squared": float(np.mean((f_test - mean_prediction) ** 2)),
        "variance": float(np.mean(P.var(axis=0))),
        "noise": float(np.mean((y_test - f_test) ** 2)),
    }


def _mode(values):
    labels, counts = np.unique(values, return_counts=True)
    return labels[np.argmax(counts)]
