"""Lasso and elastic net by cyclic coordinate descent, with scikit-learn's duality-gap stopping rule."""

from __future__ import annotations

import warnings

import numpy as np

from groundup.errors import ConvergenceWarning, hint
from groundup.ml.base import BaseEstimator, RegressorMixin
from groundup.ml.linear_model._base import LinearModel, as_2d_targets, centered_gram, set_coef
from groundup.ml.validation import check_n_features, check_random_state, check_X_y

__all__ = ["ElasticNet", "Lasso", "enet_coordinate_descent_gram", "enet_coordinate_descent"]


def _soft_threshold(z: float, t: float) -> float:
    """S(z, t) = sign(z) max(|z| − t, 0), the proximal operator of t|·|."""
    return z - t if z > t else (z + t if z < -t else 0.0)


def _duality_gap(w, XtR, R_norm2, Ry, l1_pen, l2_pen, positive):
    """Duality gap of ½‖R‖² + l1_pen‖w‖₁ + ½ l2_pen‖w‖² (R = y − Xw), as scikit-learn computes it."""
    XtA = XtR - l2_pen * w
    dual_norm = XtA.max() if positive else np.abs(XtA).max()
    if dual_norm > l1_pen:
        const = l1_pen / dual_norm
        gap = 0.5 * (R_norm2 + R_norm2 * const**2)
    else:
        const = 1.0
        gap = R_norm2
    w_norm2 = float(w @ w)
    return gap + l1_pen * np.abs(w).sum() - const * Ry + 0.5 * l2_pen * (1 + const**2) * w_norm2


def enet_coordinate_descent_gram(w, G, Xty, y_norm2, l1_pen, l2_pen, max_iter, tol, rng=None, positive=False):
    """Coordinate descent on ½‖y − Xw‖² + l1_pen‖w‖₁ + ½ l2_pen‖w‖² using only G = XᵀX and Xᵀy.

    Update for coordinate j: w_j ← S(Xᵀy_j − (Gw)_j + G_jj w_j, l1_pen) / (G_jj + l2_pen), keeping
    q = Gw current by a rank-one update, so each step costs O(n_features) instead of O(n_samples).
    Stops when the largest relative weight change is below ``tol`` and the duality gap is below
    ``tol·‖y‖²``. Returns ``(w, gap, scaled_tol, n_iter)``. ``w`` is updated in place.
    """
    n_features = w.shape[0]
    q = G @ w
    diag = np.diag(G).copy()
    tol_scaled = tol * y_norm2
    gap = np.inf
    # Python floats for the scalar arithmetic: much cheaper than NumPy scalars in this loop.
    Xty_list = Xty.tolist()
    diag_list = diag.tolist()
    rows = [G[j] for j in range(n_features)]
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        w_max = 0.0
        dw_max = 0.0
        order = range(n_features) if rng is None else rng.permutation(n_features).tolist()
        for j in order:
            if diag_list[j] == 0.0:
                continue
            w_j = float(w[j])
            rho = Xty_list[j] - float(q[j]) + diag_list[j] * w_j
            if positive and rho < 0:
                new = 0.0
            else:
                new = _soft_threshold(rho, l1_pen) / (diag_list[j] + l2_pen)
            if new != w_j:
                q += (new - w_j) * rows[j]
                w[j] = new
            dw_max = max(dw_max, abs(new - w_j))
            w_max = max(w_max, abs(new))
        if w_max == 0.0 or dw_max / w_max < tol or n_iter == max_iter:
            wq = float(w @ Xty)
            R_norm2 = y_norm2 - 2 * wq + float(w @ q)
            gap = _duality_gap(w, Xty - q, R_norm2, y_norm2 - wq, l1_pen, l2_pen, positive)
            if gap < tol_scaled:
                break
    return w, gap, tol_scaled, n_iter


def enet_coordinate_descent(w, X, y, l1_pen, l2_pen, max_iter, tol, rng=None, positive=False, final_gap_check=True):
    """Coordinate descent on ½‖y − Xw‖² + l1_pen‖w‖₁ + ½ l2_pen‖w‖² keeping the residual R = y − Xw.

    For n_samples ≲ n_features, where the Gram matrix would be larger than X. Each coordinate step
    is two length-n vector operations: ρ = X_jᵀR + ‖X_j‖² w_j, then R −= X_j Δw_j. With
    ``final_gap_check=False`` the last of ``max_iter`` sweeps does not force a duality-gap test (used
    when another solver continues from here, so the iterates stay exactly those of one long run).
    """
    Xf = np.asfortranarray(X)  # contiguous columns
    scratch = np.empty(Xf.shape[0])
    cols = [Xf[:, j] for j in range(Xf.shape[1])]
    norms = (Xf**2).sum(axis=0).tolist()
    R = y - Xf @ w
    y_norm2 = float(y @ y)
    tol_scaled = tol * y_norm2
    gap = np.inf
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        w_max = 0.0
        dw_max = 0.0
        order = range(len(cols)) if rng is None else rng.permutation(len(cols)).tolist()
        for j in order:
            if norms[j] == 0.0:
                continue
            w_j = float(w[j])
            rho = float(cols[j] @ R) + norms[j] * w_j
            new = 0.0 if positive and rho < 0 else _soft_threshold(rho, l1_pen) / (norms[j] + l2_pen)
            if new != w_j:
                np.multiply(cols[j], new - w_j, out=scratch)
                R -= scratch
                w[j] = new
            dw_max = max(dw_max, abs(new - w_j))
            w_max = max(w_max, abs(new))
        if w_max == 0.0 or dw_max / w_max < tol or (n_iter == max_iter and final_gap_check):
            gap = _duality_gap(w, Xf.T @ R, float(R @ R), float(R @ y), l1_pen, l2_pen, positive)
            if gap < tol_scaled:
                break
    return w, gap, tol_scaled, n_iter


class ElasticNet(LinearModel, RegressorMixin, BaseEstimator):
    """Elastic net: minimise (1/2m)‖y − Xw − b‖² + α ρ ‖w‖₁ + ½ α (1 − ρ) ‖w‖², ρ = ``l1_ratio``.

    Solved by cyclic (or ``selection="random"``) coordinate descent with soft-thresholding, the
    intercept unpenalised (data are centered). Two forms of the same sweep: over the residual
    (O(n_samples) per coordinate) or over the Gram matrix XᵀX, formed once in one BLAS call
    (O(n_features) per coordinate). ``precompute="auto"`` uses the Gram form when n_samples ≥
    n_features; ``True``/``False`` force one form; an int k runs k residual sweeps and then
    continues on the Gram matrix if not yet converged. The iterates are the same in every form.
    Stops as scikit-learn does: when the duality gap is below ``tol·‖y − ȳ‖²``; otherwise warns
    with a :class:`ConvergenceWarning`. Attributes: ``coef_`` (sparse), ``intercept_``, ``n_iter_``,
    ``dual_gap_``, ``n_features_in_``.
    """

    def __init__(
        self,
        alpha: float = 1.0,
        *,
        l1_ratio: float = 0.5,
        fit_intercept: bool = True,
        precompute="auto",
        max_iter: int = 1000,
        tol: float = 1e-4,
        warm_start: bool = False,
        positive: bool = False,
        random_state=None,
        selection: str = "cyclic",
    ):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection

    def fit(self, X, y):
        """Fit sparse w (and b) to ``X`` (n_samples, n_features) and ``y`` (n_samples,) or (n_samples, n_targets)."""
        if not (np.ndim(self.alpha) == 0 and self.alpha >= 0):
            raise ValueError(hint(f"alpha={self.alpha!r} must be a non-negative number", "try alpha=1.0"))
        if not 0 <= self.l1_ratio <= 1:
            raise ValueError(hint(f"l1_ratio={self.l1_ratio!r} must lie in [0, 1]", "1 is the lasso, 0 is ridge"))
        if self.selection not in ("cyclic", "random"):
            raise ValueError(hint(f"selection={self.selection!r} is not supported", "use 'cyclic' or 'random'"))
        if not (self.precompute in ("auto", True, False) or (isinstance(self.precompute, int) and self.precompute > 0)):
            raise ValueError(
                hint(f"precompute={self.precompute!r} is not supported", "use 'auto', True, False or a number of residual sweeps")
            )
        X, y = check_X_y(X, y, y_numeric=True, multi_output=True)
        n, d = X.shape
        Y = as_2d_targets(y)
        warm = self.warm_start and getattr(self, "coef_", None) is not None and getattr(self, "n_features_in_", None) == d
        W0 = np.atleast_2d(self.coef_).astype(float) if warm else np.zeros((Y.shape[1], d))
        check_n_features(self, X, reset=True)
        l1_pen = self.alpha * self.l1_ratio * n
        l2_pen = self.alpha * (1.0 - self.l1_ratio) * n
        rng = check_random_state(self.random_state) if self.selection == "random" else None
        # Gram form (XᵀX once, then O(d) per coordinate) when n_samples ≥ n_features; the residual
        # form otherwise. A positive int ``precompute`` runs that many residual sweeps first and
        # then continues on the Gram matrix, warm-started (same iterates either way).
        x_mean = X.mean(axis=0) if self.fit_intercept else np.zeros(d)
        y_mean = Y.mean(axis=0) if self.fit_intercept else np.zeros(Y.shape[1])
        if self.precompute is True or (self.precompute == "auto" and n >= d):
            budget = 0
        elif self.precompute is False or self.precompute == "auto":
            budget = int(self.max_iter)
        else:
            budget = min(int(self.max_iter), int(self.precompute))
        Xc = None
        if budget > 0:
            # One centered copy with contiguous columns (the residual sweeps read column by column).
            if self.fit_intercept:
                Xc = np.array(X, order="F")
                Xc -= x_mean
            else:
                Xc = np.asfortranarray(X)
        gram = None
        coef = np.empty((Y.shape[1], d))
        n_iters, gaps = [], []
        for k in range(Y.shape[1]):
            w = W0[k].copy() if W0.shape[0] == Y.shape[1] else np.zeros(d)
            yc = Y[:, k] - y_mean[k]
            n_iter = 0
            gap, tol_scaled = np.inf, self.tol * float(yc @ yc)
            if budget > 0:
                w, gap, tol_scaled, n_iter = enet_coordinate_descent(
                    w, Xc, yc, l1_pen, l2_pen, budget, self.tol, rng, self.positive,
                    final_gap_check=budget == int(self.max_iter),
                )
            if not gap < tol_scaled and n_iter < int(self.max_iter):
                if gram is None:
                    gram = (Xc.T @ Xc, Xc.T @ (Y - y_mean)) if Xc is not None else centered_gram(X, Y, self.fit_intercept)[:2]
                G, XtY = gram
                w, gap, tol_scaled, more = enet_coordinate_descent_gram(
                    w, G, XtY[:, k], float(yc @ yc), l1_pen, l2_pen, int(self.max_iter) - n_iter, self.tol, rng,
                    self.positive,
                )
                n_iter += more
            if gap >= tol_scaled and tol_scaled > 0:
                warnings.warn(
                    f"{type(self).__name__} did not converge in max_iter={self.max_iter} iterations "
                    f"(duality gap {gap:.3g} > tolerance {tol_scaled:.3g}); help: raise max_iter, "
                    "raise tol, or scale the features",
                    ConvergenceWarning,
                    stacklevel=2,
                )
            coef[k] = w
            n_iters.append(n_iter)
            gaps.append(gap / n)
        intercept = y_mean - coef @ x_mean
        set_coef(self, coef, intercept, y)
        self.n_iter_ = n_iters[0] if y.ndim == 1 else np.asarray(n_iters)
        self.dual_gap_ = gaps[0] if y.ndim == 1 else np.asarray(gaps)
        return self


class Lasso(ElasticNet):
    """Lasso: minimise (1/2m)‖y − Xw − b‖² + α‖w‖₁ (elastic net with ``l1_ratio=1``), by coordinate
    descent; many coefficients come out exactly zero. See :class:`ElasticNet` for solver details."""

    l1_ratio = 1.0  # fixed for the lasso; a class attribute, so it is not a parameter

    def __init__(
        self,
        alpha: float = 1.0,
        *,
        fit_intercept: bool = True,
        precompute="auto",
        max_iter: int = 1000,
        tol: float = 1e-4,
        warm_start: bool = False,
        positive: bool = False,
        random_state=None,
        selection: str = "cyclic",
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
