"""Logistic (binary) and softmax (multinomial) regression with L-BFGS, Newton or proximal gradient."""

from __future__ import annotations

import warnings

import numpy as np

from groundup.errors import ConvergenceWarning, hint
from groundup.ml.base import BaseEstimator, ClassifierMixin
from groundup.ml.linear_model._base import LinearClassifierMixin
from groundup.ml.linear_model._lbfgs import minimize_lbfgs
from groundup.ml.validation import check_classification_targets, check_n_features, check_X_y

__all__ = ["LogisticRegression", "sigmoid", "softmax"]


def sigmoid(z):
    """σ(z) = 1 / (1 + e^(−z)), computed without overflow for large |z|."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def _logsumexp_rows(Z: np.ndarray) -> np.ndarray:
    """log Σ_k e^(Z_ik) per row, shifted by the row maximum for stability."""
    m = Z.max(axis=1)
    return m + np.log(np.exp(Z - m[:, None]).sum(axis=1))


def softmax(Z):
    """softmax(z)_k = e^(z_k) / Σ_j e^(z_j) per row, shifted by the row maximum for stability."""
    Z = np.asarray(Z, dtype=np.float64)
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


class _Objective:
    """f(W, b) = (1/m) Σ ℓᵢ + (λ/2)‖W‖² with ℓ the log loss (binary) or cross-entropy (softmax),
    and its gradient ∇_W = (1/m) Rᵀ X + λW, ∇_b = (1/m) Σ Rᵢ where R = P − Y."""

    def __init__(self, X, y_index, n_outputs, l2):
        self.X = X
        self.y_index = y_index
        self.n, self.d = X.shape
        self.k = n_outputs
        self.l2 = l2
        self.rows = np.arange(self.n)
        if n_outputs == 1:
            self.t = y_index.astype(X.dtype)

    def split(self, theta):
        W = theta[: self.k * self.d].reshape(self.k, self.d)
        return W, theta[self.k * self.d :]

    def scores(self, theta):
        W, b = self.split(theta)
        return self.X @ W.astype(self.X.dtype, copy=False).T + b.astype(self.X.dtype, copy=False)

    def residual(self, Z):
        """Data loss (mean) and R = P − Y (n, k) for scores Z."""
        if self.k == 1:
            z = Z[:, 0].astype(np.float64, copy=False)
            loss = float(np.mean(np.logaddexp(0.0, z) - self.t * z))
            R = (sigmoid(z) - self.t)[:, None]
        else:
            Z = Z.astype(np.float64, copy=False)
            m = Z.max(axis=1, keepdims=True)
            E = np.exp(Z - m)
            s = E.sum(axis=1)
            lse = m[:, 0] + np.log(s)
            loss = float(np.mean(lse - Z[self.rows, self.y_index]))
            E /= s[:, None]
            E[self.rows, self.y_index] -= 1.0
            R = E
        return loss, R

    def __call__(self, theta):
        W, b = self.split(theta)
        loss, R = self.residual(self.scores(theta))
        Rt = R.T.astype(self.X.dtype, copy=False)
        grad_W = (Rt @ self.X).astype(np.float64, copy=False) / self.n + self.l2 * W
        grad_b = R.sum(axis=0) / self.n
        loss += 0.5 * self.l2 * float(np.sum(W * W))
        return loss, np.concatenate([grad_W.ravel(), grad_b])

    def hessian(self, theta, fit_intercept):
        """∇²f over (W, b): blocks (1/m) Aᵀ diag(P_k(δ_kl − P_l)) A with A = [X, 1], plus λ on W."""
        Z = self.scores(theta)
        if self.k == 1:
            p = sigmoid(Z[:, 0])
            P = p[:, None]
        else:
            P = softmax(Z)
        A = np.hstack([self.X, np.ones((self.n, 1))]).astype(np.float64)
        d1 = self.d + 1
        H = np.empty((self.k * d1, self.k * d1))
        for a in range(self.k):
            for c in range(a, self.k):
                w = P[:, a] * ((a == c) - P[:, c]) if self.k > 1 else P[:, 0] * (1 - P[:, 0])
                block = (A * w[:, None]).T @ A / self.n
                H[a * d1 : (a + 1) * d1, c * d1 : (c + 1) * d1] = block
                H[c * d1 : (c + 1) * d1, a * d1 : (a + 1) * d1] = block.T
        # Reorder rows/columns from per-class [W_k, b_k] blocks to the packed (W.ravel(), b) layout.
        order = np.concatenate(
            [np.arange(k * d1, k * d1 + self.d) for k in range(self.k)] + [np.arange(self.k) * d1 + self.d]
        )
        H = H[np.ix_(order, order)]
        idx = np.arange(self.k * self.d)
        H[idx, idx] += self.l2
        if not fit_intercept:
            H = H[: self.k * self.d, : self.k * self.d]
        return H


class LogisticRegression(LinearClassifierMixin, ClassifierMixin, BaseEstimator):
    """Logistic regression: P(y = 1 | x) = σ(wᵀx + b) for two classes, and softmax regression
    P(y = k | x) = softmax(Wx + b)_k for more, fitted by minimising

        (1/m) Σᵢ −log P(yᵢ | xᵢ) + (1/(2Cm)) ‖W‖²      (``penalty="l2"``, scikit-learn's scaling;
                                                        same minimiser as C Σ ℓᵢ + ½‖W‖²)

    or with (1/(Cm))‖W‖₁ (``penalty="l1"``) or no penalty (``None``). The intercept is not penalised.

    Solvers: ``"lbfgs"`` (quasi-Newton, groundup's own NumPy L-BFGS with a Wolfe line search),
    ``"newton"`` (Newton's method with the exact Hessian (1/m) Aᵀ diag(p(1−p)) A + λI and a
    backtracking line search — quadratic convergence, for small n_features), ``"gd"`` (accelerated
    proximal gradient descent, FISTA, with backtracking; the only solver for ``penalty="l1"``; a
    float ``learning_rate`` fixes the step instead). They stop when max |∇f| ≤ ``tol`` (lbfgs, newton)
    or the gradient-mapping norm ≤ ``tol`` (gd).

    Attributes: ``classes_``, ``coef_`` (1, n_features) for two classes else (n_classes, n_features),
    ``intercept_``, ``n_iter_``, ``loss_history_`` (objective after every iteration), ``n_features_in_``.
    """

    def __init__(
        self,
        penalty="l2",
        *,
        C: float = 1.0,
        fit_intercept: bool = True,
        solver: str = "lbfgs",
        max_iter: int = 100,
        tol: float = 1e-4,
        learning_rate=None,
    ):
        self.penalty = penalty
        self.C = C
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate

    def _validate_params(self):
        if self.penalty not in ("l2", "l1", None):
            raise ValueError(hint(f"penalty={self.penalty!r} is not supported", "use 'l2', 'l1' or None"))
        if self.solver not in ("lbfgs", "newton", "gd"):
            raise ValueError(hint(f"solver={self.solver!r} is not supported", "use 'lbfgs', 'newton' or 'gd'"))
        if self.penalty == "l1" and self.solver != "gd":
            raise ValueError(
                hint(
                    f"solver={self.solver!r} needs a smooth objective but penalty='l1' is not differentiable at 0",
                    "use solver='gd' (proximal gradient) with penalty='l1'",
                )
            )
        if self.penalty is not None and not (np.ndim(self.C) == 0 and self.C > 0):
            raise ValueError(hint(f"C={self.C!r} must be a positive number", "C is the inverse regularisation strength, try 1.0"))
        if not (int(self.max_iter) >= 1):
            raise ValueError(hint(f"max_iter={self.max_iter!r} must be at least 1", "try 100"))

    def fit(self, X, y):
        """Fit to ``X`` (n_samples, n_features) and class labels ``y`` (n_samples,)."""
        self._validate_params()
        X, y = check_X_y(X, y, dtype=[np.float64, np.float32])
        check_n_features(self, X, reset=True)
        self.classes_ = check_classification_targets(y)
        y_index = np.searchsorted(self.classes_, y)
        n, d = X.shape
        k = 1 if len(self.classes_) == 2 else len(self.classes_)
        # Columns that are zero in every sample (e.g. MNIST's border pixels) carry no signal: their
        # optimal weight is 0, so the solver works on the others only (fewer flops per matmul).
        active = np.flatnonzero(np.any(X != 0, axis=0)) if d > 1 else np.arange(d)
        Xa = X if len(active) > 0.95 * d else X[:, active]
        if Xa is X:
            active = np.arange(d)
        l2 = 1.0 / (self.C * n) if self.penalty == "l2" else 0.0
        l1 = 1.0 / (self.C * n) if self.penalty == "l1" else 0.0
        objective = _Objective(Xa, y_index, k, l2)
        theta0 = np.zeros(k * Xa.shape[1] + k)
        if self.solver == "lbfgs":
            theta, n_iter, history, converged = self._lbfgs(objective, theta0)
        elif self.solver == "newton":
            theta, n_iter, history, converged = self._newton(objective, theta0)
        else:
            theta, n_iter, history, converged = self._fista(objective, theta0, l1)
        W, b = objective.split(theta)
        if not self.fit_intercept:
            b = np.zeros(k)
        elif k > 1:
            b = b - b.mean()  # softmax is unchanged by a common shift; report the centered intercepts
        self.coef_ = np.zeros((k, d))
        self.coef_[:, active] = W
        self.intercept_ = np.array(b, dtype=np.float64)
        self.n_iter_ = int(n_iter)
        self.loss_history_ = np.asarray(history)
        if not converged:
            warnings.warn(
                f"LogisticRegression(solver={self.solver!r}) did not converge in max_iter={self.max_iter} "
                f"iterations (tol={self.tol}); help: raise max_iter, or standardise X (StandardScaler)",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _fun_grad(self, objective):
        if self.fit_intercept:
            return objective
        kd = objective.k * objective.d

        def without_intercept(theta):  # keep b = 0 by zeroing its gradient
            f, g = objective(theta)
            g[kd:] = 0.0
            return f, g

        return without_intercept

    def _lbfgs(self, objective, theta0):
        result = minimize_lbfgs(self._fun_grad(objective), theta0, max_iter=int(self.max_iter), gtol=self.tol)
        return result.x, result.n_iter, result.history, result.converged

    def _newton(self, objective, theta):
        """θ ← θ − t H⁻¹g with t from backtracking (Armijo), until max|g| ≤ tol."""
        fun_grad = self._fun_grad(objective)
        n_params = objective.k * objective.d + (objective.k if self.fit_intercept else 0)
        f, g = fun_grad(theta)
        history = [f]
        converged = False
        n_iter = 0
        for n_iter in range(1, int(self.max_iter) + 1):
            if np.abs(g).max() <= self.tol:
                converged, n_iter = True, n_iter - 1
                break
            H = objective.hessian(theta, self.fit_intercept)
            # lstsq: with softmax the intercepts have one flat direction (a common shift), so H is singular.
            step = np.zeros_like(theta)
            step[:n_params] = -np.linalg.lstsq(H, g[:n_params], rcond=None)[0]
            slope = float(g @ step)
            t = 1.0
            while True:
                f_new, g_new = fun_grad(theta + t * step)
                if f_new <= f + 1e-4 * t * slope or t < 1e-10:
                    break
                t *= 0.5
            theta = theta + t * step
            f, g = f_new, g_new
            history.append(f)
        else:
            converged = np.abs(g).max() <= self.tol
        return theta, n_iter, history, converged

    def _fista(self, objective, theta, l1):
        """Accelerated proximal gradient: θ⁺ = prox_{η l1‖·‖₁}(y − η∇f(y)), y = θ⁺ + ((t−1)/t⁺)(θ⁺ − θ)."""
        fun_grad = self._fun_grad(objective)
        kd = objective.k * objective.d

        def prox(v, step):  # soft-threshold the weights only; the intercept is not penalised
            if l1 == 0.0:
                return v
            out = v.copy()
            w = out[:kd]
            out[:kd] = np.sign(w) * np.maximum(np.abs(w) - step * l1, 0.0)
            return out

        def total(theta_, f_smooth):
            return f_smooth + l1 * float(np.abs(theta_[:kd]).sum())

        fixed = self.learning_rate is not None
        L = 1.0 / float(self.learning_rate) if fixed else 1.0
        f_theta, _ = fun_grad(theta)
        history = [total(theta, f_theta)]
        y_point, t = theta.copy(), 1.0
        restarted = False
        converged = False
        n_iter = 0
        for n_iter in range(1, int(self.max_iter) + 1):
            f_y, g_y = fun_grad(y_point)
            while True:
                candidate = prox(y_point - g_y / L, 1.0 / L)
                diff = candidate - y_point
                f_c, _ = fun_grad(candidate)
                if fixed or f_c <= f_y + float(g_y @ diff) + 0.5 * L * float(diff @ diff) + 1e-12 * abs(f_y):
                    break
                L *= 2.0
            F_c = total(candidate, f_c)
            if F_c > history[-1] + 1e-14 * abs(history[-1]):
                if restarted:  # even a plain proximal step from θ cannot descend: θ is optimal to rounding
                    converged = True
                    break
                # Momentum overshot: restart with a plain proximal step from the current θ.
                y_point, t, restarted = theta.copy(), 1.0, True
                continue
            restarted = False
            t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
            y_point = candidate + ((t - 1.0) / t_next) * (candidate - theta)
            theta, t = candidate, t_next
            history.append(F_c)
            if L * np.abs(diff).max() <= self.tol:
                converged = True
                break
            if not fixed:
                L *= 0.9  # let the step grow again when the curvature allows
        return theta, n_iter, history, converged

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes): [1 − σ(z), σ(z)] or softmax(z)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p = sigmoid(scores)
            return np.column_stack([1.0 - p, p])
        return softmax(scores)

    def predict_log_proba(self, X) -> np.ndarray:
        """log P(y = k | x), shape (n_samples, n_classes), computed stably from the scores."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            scores = np.column_stack([np.zeros_like(scores), scores])
        return scores - _logsumexp_rows(scores)[:, None]


def logistic_loss_grad(coef, intercept, X, y):
    """Mean cross-entropy of a linear classifier and its gradient, without penalty.

    ``coef`` (k, n_features), ``intercept`` (k,): k = 1 is logistic regression with y ∈ {0, 1}
    (loss −[y log σ(z) + (1 − y) log(1 − σ(z))], gradient (σ(z) − y) x); k ≥ 3 is softmax regression
    with y ∈ {0, …, k−1} (loss −log softmax(z)_y, gradient (p − onehot(y)) xᵀ). Returns
    ``(loss, grad_coef, grad_intercept)``, averaged over the n_samples rows of X.
    """
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    intercept = np.atleast_1d(np.asarray(intercept, dtype=np.float64))
    y = np.atleast_1d(np.asarray(y)).astype(np.intp)
    k, d = coef.shape
    if X.shape[1] != d or intercept.shape != (k,) or y.shape != (X.shape[0],) or k == 2:
        raise ValueError(
            hint(
                f"logistic_loss_grad got coef {coef.shape}, intercept {intercept.shape}, X {X.shape}, y {y.shape}",
                "pass coef (k, d) with k = 1 (binary) or k ≥ 3, intercept (k,), X (n, d), y (n,)",
            )
        )
    objective = _Objective(X, y, k, 0.0)
    loss, grad = objective(np.concatenate([coef.ravel(), intercept]))
    return loss, grad[: k * d].reshape(k, d), grad[k * d :]
