"""Limited-memory BFGS in NumPy (scipy is not a runtime dependency of groundup)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

__all__ = ["minimize_lbfgs", "LBFGSResult"]


class LBFGSResult:
    """Outcome of :func:`minimize_lbfgs`: ``x``, ``fun``, ``grad``, ``n_iter``, ``n_evals``,
    ``converged``, ``message`` and ``history`` (the objective after every iteration)."""

    def __init__(self, x, fun, grad, n_iter, n_evals, converged, message, history):
        self.x, self.fun, self.grad = x, fun, grad
        self.n_iter, self.n_evals = n_iter, n_evals
        self.converged, self.message, self.history = converged, message, history


def minimize_lbfgs(
    fun_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    *,
    max_iter: int = 100,
    gtol: float = 1e-5,
    ftol: float = 64 * np.finfo(float).eps,
    memory: int = 10,
    max_linesearch: int = 20,
) -> LBFGSResult:
    """Minimise a smooth f by L-BFGS: step along d = −H g, with H g built by the two-loop recursion
    from the last ``memory`` pairs (s = Δx, y = Δg), and a line search satisfying the Wolfe conditions.

    Stops (as scipy's L-BFGS-B) when max |gᵢ| ≤ ``gtol`` or the relative decrease of f in one step is
    below ``ftol``; ``max_iter`` bounds the iterations. ``fun_grad(x)`` returns ``(f(x), ∇f(x))``.
    """
    x = np.array(x0, dtype=np.float64)
    f, g = fun_grad(x)
    n_evals = 1
    pairs: deque[tuple[np.ndarray, np.ndarray, float]] = deque(maxlen=memory)
    history = [f]
    message = "max_iter reached"
    converged = False
    n_iter = 0
    if np.abs(g).max(initial=0.0) <= gtol:
        return LBFGSResult(x, f, g, 0, n_evals, True, "gradient below gtol at start", history)
    for n_iter in range(1, max_iter + 1):
        d = -_two_loop(g, pairs)
        slope = float(g @ d)
        if slope >= 0:  # not a descent direction (numerical trouble): restart from steepest descent
            pairs.clear()
            d = -g
            slope = -float(g @ g)
        step0 = 1.0 if pairs else min(1.0, 1.0 / max(np.abs(g).sum(), 1e-12))
        step, f_new, g_new, evals = _wolfe_line_search(fun_grad, x, f, g, d, slope, step0, max_linesearch)
        n_evals += evals
        if step == 0.0:
            message = "line search could not make progress"
            converged = np.abs(g).max() <= 10 * gtol
            break
        s = step * d
        x = x + s
        yv = g_new - g
        sy = float(s @ yv)
        if sy > 1e-10 * float(yv @ yv):  # keep only pairs with positive curvature
            pairs.append((s, yv, 1.0 / sy))
        f_old, f, g = f, f_new, g_new
        history.append(f)
        if np.abs(g).max() <= gtol:
            message, converged = "gradient below gtol", True
            break
        if (f_old - f) <= ftol * max(abs(f_old), abs(f), 1.0):
            message, converged = "relative reduction of f below ftol", True
            break
    return LBFGSResult(x, f, g, n_iter, n_evals, converged, message, np.asarray(history))


def _two_loop(g: np.ndarray, pairs) -> np.ndarray:
    """H g by the L-BFGS two-loop recursion, with initial scaling H₀ = (sᵀy / yᵀy) I."""
    q = g.copy()
    if not pairs:
        return q
    alphas = []
    for s, y, rho in reversed(pairs):
        a = rho * float(s @ q)
        alphas.append(a)
        q -= a * y
    s, y, rho = pairs[-1]
    q *= 1.0 / (rho * float(y @ y))
    for (s, y, rho), a in zip(pairs, reversed(alphas)):
        b = rho * float(y @ q)
        q += (a - b) * s
    return q


def _wolfe_line_search(fun_grad, x, f0, g0, d, slope0, step, max_evals, c1=1e-4, c2=0.9):
    """Find a step t with f(x + t d) ≤ f0 + c1 t g0ᵀd (sufficient decrease) and
    |∇f(x + t d)ᵀd| ≤ c2 |g0ᵀd| (curvature): bracket, then zoom by safeguarded cubic interpolation.
    Returns ``(t, f, g, n_evals)``; t = 0 if no acceptable step was found."""
    lo, f_lo, slope_lo = 0.0, f0, slope0
    hi = None
    f_hi = slope_hi = None
    best = (0.0, f0, g0)
    evals = 0
    t = step
    while evals < max_evals:
        f, g = fun_grad(x + t * d)
        evals += 1
        slope = float(g @ d)
        if not np.isfinite(f) or f > f0 + c1 * t * slope0 or f >= f_lo:
            hi, f_hi, slope_hi = t, f, slope
        else:
            if f < best[1]:
                best = (t, f, g)
            if abs(slope) <= -c2 * slope0:
                return t, f, g, evals
            # The minimum lies between t and the far end: t becomes the new low end.
            if (hi is None and slope >= 0) or (hi is not None and slope * (hi - lo) >= 0):
                hi, f_hi, slope_hi = lo, f_lo, slope_lo
            lo, f_lo, slope_lo = t, f, slope
        if hi is None:
            t = 2.0 * t  # still going down steeply: extrapolate
            continue
        t = _cubic_min(lo, f_lo, slope_lo, hi, f_hi, slope_hi) if np.isfinite(f_hi) else 0.5 * (lo + hi)
        if abs(hi - lo) < 1e-12 * max(1.0, abs(lo)):
            break
    t, f, g = best
    return t, f, g, evals


def _cubic_min(a, fa, da, b, fb, db):
    """Minimiser of the cubic interpolating f and f' at a and b, kept inside the middle 80% of [a, b]."""
    d1 = da + db - 3 * (fa - fb) / (a - b)
    disc = d1 * d1 - da * db
    lo, hi = min(a, b), max(a, b)
    if disc >= 0:
        d2 = np.sign(b - a) * np.sqrt(disc)
        t = b - (b - a) * (db + d2 - d1) / (db - da + 2 * d2) if (db - da + 2 * d2) != 0 else 0.5 * (a + b)
    else:
        t = 0.5 * (a + b)
    margin = 0.1 * (hi - lo)
    if not np.isfinite(t) or t < lo + margin or t > hi - margin:
        t = 0.5 * (a + b)
    return t
