"""Least-squares linear regression and the helpers every linear model shares."""

from __future__ import annotations

import warnings

import numpy as np

from groundup.errors import ConvergenceWarning, hint
from groundup.ml.base import BaseEstimator, RegressorMixin, check_is_fitted
from groundup.ml.validation import check_array, check_n_features, check_random_state, check_X_y

__all__ = ["LinearRegression", "LinearModel", "centered_gram"]


class LinearModel:
    """Shared prediction for linear regressors: ŷ = X @ coef_ᵀ + intercept_."""

    def _decision(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        X = check_array(X)
        check_n_features(self, X, reset=False)
        return X @ self.coef_.T + self.intercept_

    def predict(self, X) -> np.ndarray:
        """Predicted targets ŷ = X wᵀ + b, shape (n_samples,) or (n_samples, n_targets)."""
        return self._decision(X)


def as_2d_targets(y: np.ndarray) -> np.ndarray:
    """y as a (n_samples, n_targets) view, so one code path serves one and many targets."""
    return y[:, None] if y.ndim == 1 else y


def set_coef(estimator, coef: np.ndarray, intercept: np.ndarray, y: np.ndarray) -> None:
    """Store ``coef_`` (n_features,) and scalar ``intercept_`` for 1-D y, else (n_targets, ·) shapes."""
    if y.ndim == 1:
        estimator.coef_ = coef[0].copy()
        estimator.intercept_ = float(intercept[0])
    else:
        estimator.coef_ = coef
        estimator.intercept_ = intercept


def centered_gram(X: np.ndarray, Y: np.ndarray, fit_intercept: bool):
    """The Gram matrix of the centered data without copying X.

    Returns ``(G, XtY, x_mean, y_mean)`` with G = X_cᵀX_c = XᵀX − n μμᵀ and X_cᵀY_c = XᵀY − n μ ȳᵀ.
    One BLAS call (``X.T @ X`` is a SYRK) replaces centering a copy of X; when a feature's mean is
    large against its spread the rank-one correction would cancel digits, so X is centered explicitly.
    """
    n = X.shape[0]
    if not fit_intercept:
        return X.T @ X, X.T @ Y, np.zeros(X.shape[1]), np.zeros(Y.shape[1])
    x_mean = X.mean(axis=0)
    y_mean = Y.mean(axis=0)
    G = X.T @ X
    diag_raw = np.diag(G).copy()
    G -= n * np.outer(x_mean, x_mean)
    diag_centered = np.diag(G)
    # Relative loss of precision of the correction is about eps · (raw / centered).
    if np.any(diag_centered < 1e-6 * diag_raw):
        Xc = X - x_mean
        return Xc.T @ Xc, Xc.T @ (Y - y_mean), x_mean, y_mean
    XtY = X.T @ Y - n * np.outer(x_mean, y_mean)
    return G, XtY, x_mean, y_mean


def solve_spd(A: np.ndarray, B: np.ndarray) -> np.ndarray | None:
    """Solve A X = B for symmetric positive-definite A by Cholesky; ``None`` if A is (nearly) singular."""
    try:
        L = np.linalg.cholesky(A)
    except np.linalg.LinAlgError:
        return None
    d = np.diag(L)
    # cond(A) ≈ (max Lᵢᵢ / min Lᵢᵢ)²; beyond ~1e12 the normal equation has lost too many digits.
    if d.min() <= 0 or (d.max() / d.min()) ** 2 > 1e12:
        return None
    # NumPy has no triangular solve; LAPACK's gesv on A costs the same O(p³) as two of them would.
    return np.linalg.solve(A, B)


class LinearRegression(LinearModel, RegressorMixin, BaseEstimator):
    """Ordinary least squares: minimise (1/m) Σ (yᵢ − wᵀxᵢ − b)².

    Solvers:

    * ``"normal"`` — the normal equation w = (XᵀX)⁻¹Xᵀy on centered data (one Gram matrix, one
      Cholesky solve); falls back to ``"lstsq"`` when XᵀX is singular or badly conditioned.
    * ``"lstsq"`` — the SVD-based minimum-norm least-squares solution (what scikit-learn computes).
    * ``"gd"`` — batch gradient descent, w ← w − η (2/m) Xᵀ(Xw + b − y), for ``max_iter`` epochs.
    * ``"sgd"`` — stochastic gradient descent, one shuffled sample per step.
    * ``"minibatch"`` — mini-batch gradient descent with ``batch_size`` samples per step.

    The gradient solvers stop when an epoch lowers the MSE by less than ``tol`` and record the MSE
    after every epoch in ``loss_history_``; ``n_iter_`` counts epochs. They work on the raw features,
    so scale X first (StandardScaler) unless the learning rate is small enough.

    Attributes: ``coef_`` (n_features,) or (n_targets, n_features), ``intercept_``,
    ``n_features_in_``; and for gradient solvers ``loss_history_`` and ``n_iter_``.
    """

    def __init__(
        self,
        *,
        fit_intercept: bool = True,
        solver: str = "normal",
        learning_rate: float = 0.01,
        max_iter: int = 1000,
        batch_size: int = 32,
        tol: float = 1e-6,
        random_state=None,
    ):
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.tol = tol
        self.random_state = random_state

    def fit(self, X, y):
        """Fit w and b to ``X`` (n_samples, n_features) and ``y`` (n_samples,) or (n_samples, n_targets)."""
        solvers = ("normal", "lstsq", "gd", "sgd", "minibatch")
        if self.solver not in solvers:
            raise ValueError(hint(f"solver={self.solver!r} is not supported", f"choose one of {solvers}"))
        X, y = check_X_y(X, y, y_numeric=True, multi_output=True)
        check_n_features(self, X, reset=True)
        Y = as_2d_targets(y)
        for name in ("loss_history_", "n_iter_"):
            self.__dict__.pop(name, None)
        if self.solver in ("normal", "lstsq"):
            coef, intercept = self._fit_closed_form(X, Y)
        else:
            coef, intercept = self._fit_gradient(X, Y)
        set_coef(self, coef, intercept, y)
        return self

    def _fit_closed_form(self, X, Y):
        W = None
        if self.solver == "normal":
            G, XtY, x_mean, y_mean = centered_gram(X, Y, self.fit_intercept)
            W = solve_spd(G, XtY)
        if W is None:  # lstsq, or the normal equation was singular
            x_mean = X.mean(axis=0) if self.fit_intercept else np.zeros(X.shape[1])
            y_mean = Y.mean(axis=0) if self.fit_intercept else np.zeros(Y.shape[1])
            W = np.linalg.lstsq(X - x_mean, Y - y_mean, rcond=None)[0]
        coef = W.T
        return coef, y_mean - coef @ x_mean

    def _fit_gradient(self, X, Y):
        n, d = X.shape
        if self.learning_rate <= 0:
            raise ValueError(hint(f"learning_rate={self.learning_rate} must be positive", "try 0.01"))
        batch = {"gd": n, "sgd": 1, "minibatch": min(int(self.batch_size), n)}[self.solver]
        if batch < 1:
            raise ValueError(hint(f"batch_size={self.batch_size} must be at least 1", "try 32"))
        rng = check_random_state(self.random_state)
        W = np.zeros((d, Y.shape[1]))
        b = np.zeros(Y.shape[1])
        eta = self.learning_rate
        history = []
        previous = np.inf
        converged = False
        for epoch in range(int(self.max_iter)):
            order = np.arange(n) if batch == n else rng.permutation(n)
            for start in range(0, n, batch):
                rows = order[start : start + batch]
                Xb = X if batch == n else X[rows]
                residual = Xb @ W + b - (Y if batch == n else Y[rows])
                scale = 2.0 / len(rows)  # gradient of the mean squared error
                W -= eta * scale * (Xb.T @ residual)
                if self.fit_intercept:
                    b -= eta * scale * residual.sum(axis=0)
            loss = float(np.mean((X @ W + b - Y) ** 2))
            history.append(loss)
            if not np.isfinite(loss) or loss > 1e12 * (history[0] + 1):
                raise FloatingPointError(
                    hint(
                        f"{self.solver} diverged at epoch {epoch + 1} (MSE {loss:.3g}) with learning_rate={eta}",
                        "lower learning_rate or standardise X (StandardScaler)",
                    )
                )
            if abs(previous - loss) < self.tol:
                converged = True
                break
            previous = loss
        self.loss_history_ = np.asarray(history)
        self.n_iter_ = len(history)
        if not converged:
            warnings.warn(
                f"LinearRegression(solver={self.solver!r}) did not converge in max_iter={self.max_iter} epochs "
                f"(last MSE change {abs(history[-2] - history[-1]) if len(history) > 1 else np.nan:.3g} ≥ tol={self.tol}); "
                "help: raise max_iter or learning_rate, or standardise X",
                ConvergenceWarning,
                stacklevel=3,
            )
        return W.T, b


class LinearClassifierMixin:
    """Shared prediction for linear classifiers: scores z = X Wᵀ + b; the class is argmax z
    (for two classes, z > 0 picks ``classes_[1]``)."""

    def decision_function(self, X) -> np.ndarray:
        """Scores X Wᵀ + b: shape (n_samples,) for two classes, (n_samples, n_classes) otherwise."""
        check_is_fitted(self, "coef_")
        X = check_array(X)
        check_n_features(self, X, reset=False)
        scores = X @ self.coef_.T + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X) -> np.ndarray:
        """Predicted class labels, shape (n_samples,)."""
        scores = self.decision_function(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]


class NormalEquation:
    """The pieces of the normal equation (XᵀX + αI) w = Xᵀy, as the course writes them out by hand:
    ``XtX``, ``Xty``, ``A`` = XᵀX + αI, ``det`` = det A, ``rank`` of A, and the solution ``w``
    (``None`` when A is singular)."""

    def __init__(self, XtX, Xty, A, det, rank, w):
        self.XtX, self.Xty, self.A, self.det, self.rank, self.w = XtX, Xty, A, det, rank, w

    def __repr__(self):
        return f"NormalEquation(det={self.det:.6g}, rank={self.rank}, w={self.w})"


def normal_equation(X, y, *, alpha: float = 0.0) -> NormalEquation:
    """Solve w = (XᵀX + αI)⁻¹ Xᵀy exactly as written — no centering, every column (including a
    column of ones, if X has one) is a weight and is penalised by α. For teaching and checking hand
    calculations; the estimators (LinearRegression, Ridge) are the robust way to fit."""
    X, y = check_X_y(X, y, y_numeric=True, multi_output=True)
    XtX = X.T @ X
    A = XtX + alpha * np.eye(X.shape[1])
    rank = int(np.linalg.matrix_rank(A))
    w = np.linalg.solve(A, X.T @ y) if rank == A.shape[0] else None
    return NormalEquation(XtX, X.T @ y, A, float(np.linalg.det(A)), rank, w)
