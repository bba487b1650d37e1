"""Ridge regression: least squares with an L2 penalty, solved in closed form."""

from __future__ import annotations

import numpy as np

from groundup.errors import hint
from groundup.ml.base import BaseEstimator, RegressorMixin
from groundup.ml.linear_model._base import (
    LinearModel,
    as_2d_targets,
    centered_gram,
    set_coef,
    solve_spd,
)
from groundup.ml.validation import check_n_features, check_X_y

__all__ = ["Ridge"]


class Ridge(LinearModel, RegressorMixin, BaseEstimator):
    """Ridge regression: minimise ‖y − Xw − b‖² + α‖w‖², so w = (X_cᵀX_c + αI)⁻¹ X_cᵀy_c.

    Convention: like scikit-learn, the intercept b is *not* penalised (data are centered, then
    b = ȳ − x̄ᵀw). The course's primer instead penalises the bias as an ordinary weight —
    θ = (AᵀA + αI)⁻¹Aᵀy with A = [1, X] — which ``penalize_intercept=True`` reproduces (with α = 2 on
    the points (1, 2), (2, 4), (3, 5) it gives b = 0.591, w = 1.341).

    Solvers: ``"cholesky"`` (normal equation on the Gram matrix, one BLAS call), ``"svd"``
    (w = V diag(s/(s² + α)) Uᵀy, robust when X is ill-conditioned), ``"auto"`` (Cholesky, falling
    back to SVD if the system is singular).
    Attributes: ``coef_``, ``intercept_``, ``n_features_in_``.
    """

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True, solver: str = "auto", penalize_intercept: bool = False):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.penalize_intercept = penalize_intercept

    def fit(self, X, y):
        """Fit w (and b) to ``X`` (n_samples, n_features) and ``y`` (n_samples,) or (n_samples, n_targets)."""
        if self.solver not in ("auto", "cholesky", "svd"):
            raise ValueError(hint(f"solver={self.solver!r} is not supported", "choose 'auto', 'cholesky' or 'svd'"))
        if np.ndim(self.alpha) != 0 or not self.alpha >= 0:
            raise ValueError(hint(f"alpha={self.alpha!r} must be a non-negative number", "try alpha=1.0"))
        X, y = check_X_y(X, y, y_numeric=True, multi_output=True)
        check_n_features(self, X, reset=True)
        Y = as_2d_targets(y)
        alpha = float(self.alpha)
        if self.fit_intercept and self.penalize_intercept:
            # The course's form: the bias is one more penalised weight on a column of ones.
            A = np.hstack([np.ones((X.shape[0], 1)), X])
            theta = self._solve(A, Y, np.zeros(A.shape[1]), np.zeros(Y.shape[1]), alpha, centered=False)
            coef, intercept = theta[1:].T, theta[0]
        else:
            if self.solver == "svd":
                x_mean = X.mean(axis=0) if self.fit_intercept else np.zeros(X.shape[1])
                y_mean = Y.mean(axis=0) if self.fit_intercept else np.zeros(Y.shape[1])
                W = self._svd(X - x_mean, Y - y_mean, alpha)
            else:
                G, XtY, x_mean, y_mean = centered_gram(X, Y, self.fit_intercept)
                G.flat[:: G.shape[0] + 1] += alpha
                W = solve_spd(G, XtY)
                if W is None:
                    W = self._svd(X - x_mean, Y - y_mean, alpha)
            coef = W.T
            intercept = y_mean - coef @ x_mean
        set_coef(self, coef, intercept, y)
        return self

    def _solve(self, A, Y, a_mean, y_mean, alpha, centered):
        if self.solver != "svd":
            G = A.T @ A
            G.flat[:: G.shape[0] + 1] += alpha
            W = solve_spd(G, A.T @ Y)
            if W is not None:
                return W
        return self._svd(A, Y, alpha)

    @staticmethod
    def _svd(X, Y, alpha):
        """w = V diag(s / (s² + α)) Uᵀ y; singular values below the noise floor are dropped."""
        U, s, Vt = np.linalg.svd(X, full_matrices=False)
        keep = s > s.max(initial=0.0) * max(X.shape) * np.finfo(float).eps if alpha == 0 else s > 0
        d = np.zeros_like(s)
        d[keep] = s[keep] / (s[keep] ** 2 + alpha)
        return Vt.T @ (d[:, None] * (U.T @ Y))
