"""Numerical calculus for the course: derivatives as limits, gradients, Hessians, Taylor
approximations, convexity, gradient descent and Newton's method, and integration.

Everything is computed in float64 with finite differences, so a learner can check any derivative
they work out by hand. Step sizes default to the size that balances truncation against rounding
error: with machine epsilon ε ≈ 2.2e-16, a central difference is most accurate near
``h = ε^(1/3)·max(1, |x|)`` (error about ε^(2/3) ≈ 4e-11, relative to the scale of f).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from groundup.errors import ConvergenceWarning, ShapeError, hint
from groundup.math._validate import (
    as_float_array,
    as_float_vector,
    as_generator,
    check_callable,
    check_choice,
    check_count,
    check_positive,
    check_scalar,
)
from groundup.math.linalg import (
    _classify_eigenvalues,
    is_positive_definite,
    is_positive_semidefinite,
)

__all__ = [
    "derivative",
    "second_derivative",
    "limit",
    "LimitResult",
    "gradient",
    "jacobian",
    "hessian",
    "directional_derivative",
    "steepest_descent_direction",
    "taylor",
    "taylor_series",
    "TaylorApproximation",
    "TaylorSeries",
    "classify_critical_point",
    "is_convex",
    "ConvexityReport",
    "is_positive_definite",
    "is_positive_semidefinite",
    "gradient_descent",
    "newton_method",
    "OptimizationResult",
    "riemann_sum",
    "trapezoid",
    "simpson",
    "integrate",
]

EPS = np.finfo(np.float64).eps
DERIVATIVE_METHODS = ("central", "forward", "backward", "richardson")
# Optimal step exponents: truncation error h^k against rounding error ε/h gives h ~ ε^(1/(k+1)).
_STEP_EXPONENT = {"central": 1 / 3, "forward": 1 / 2, "backward": 1 / 2, "richardson": 1 / 5}


# --------------------------------------------------------------------------------------- helpers
def _scalar_output(value: object, func: str) -> float:
    out = np.asarray(value, dtype=np.float64)
    if out.size != 1:
        raise ShapeError(
            hint(
                f"{func}: f must return a single number, but returned shape {out.shape}",
                "for vector-valued functions use jacobian(f, x)",
            )
        )
    return float(out.reshape(()))


def _evaluate(f: Callable, xs: np.ndarray) -> np.ndarray:
    """f applied to every entry of ``xs``: one vectorised call when f supports it, else a loop."""
    try:
        out = np.asarray(f(xs), dtype=np.float64)
        if out.shape == xs.shape:
            return out
    except (TypeError, ValueError):
        pass  # f is scalar-only (math.sin, an `if` on x, ...): fall back to one call per point
    flat = [_scalar_output(f(float(x)), "f") for x in xs.ravel()]
    return np.asarray(flat, dtype=np.float64).reshape(xs.shape)


def _step(x: np.ndarray, method: str, h: float | None) -> np.ndarray:
    """Step per entry of x; rounded so that x + h is exact (h = (x + h) − x)."""
    if h is None:
        step = EPS ** _STEP_EXPONENT[method] * np.maximum(1.0, np.abs(x))
    else:
        step = np.full_like(x, check_positive(h, "derivative", "h"))
    return (x + step) - x


# ---------------------------------------------------------------------------------- derivatives
def derivative(f: Callable, x, h: float | None = None, method: str = "central"):
    """Numerical derivative f'(x) of f: ℝ → ℝ.

    central: ``(f(x+h) − f(x−h)) / 2h`` (error O(h²)); forward: ``(f(x+h) − f(x)) / h`` and
    backward: ``(f(x) − f(x−h)) / h`` (error O(h)); richardson: ``(4·D(h/2) − D(h)) / 3`` with D
    the central difference (error O(h⁴)). ``h`` defaults to ``ε^(1/3)·max(1,|x|)`` for central
    (ε^(1/2) for one-sided, ε^(1/5) for Richardson). ``x`` may be an array: f is then applied
    elementwise and the result has the shape of x.
    """
    check_callable(f, "derivative")
    method = check_choice(method, DERIVATIVE_METHODS, "derivative", "method")
    points = as_float_array(x, "derivative", "x")
    step = _step(points, method, h)
    if method == "central":
        result = (_evaluate(f, points + step) - _evaluate(f, points - step)) / (2 * step)
    elif method == "forward":
        result = (_evaluate(f, points + step) - _evaluate(f, points)) / step
    elif method == "backward":
        result = (_evaluate(f, points) - _evaluate(f, points - step)) / step
    else:
        half = step / 2
        coarse = (_evaluate(f, points + step) - _evaluate(f, points - step)) / (2 * step)
        fine = (_evaluate(f, points + half) - _evaluate(f, points - half)) / (2 * half)
        result = (4 * fine - coarse) / 3
    return float(result) if result.ndim == 0 else result


def second_derivative(f: Callable, x, h: float | None = None):
    """Numerical second derivative ``f''(x) ≈ (f(x+h) − 2f(x) + f(x−h)) / h²`` of f: ℝ → ℝ.

    ``h`` defaults to ``ε^(1/4)·max(1,|x|)``; ``x`` may be an array (f applied elementwise).
    """
    check_callable(f, "second_derivative")
    points = as_float_array(x, "second_derivative", "x")
    if h is None:
        step = EPS**0.25 * np.maximum(1.0, np.abs(points))
        step = (points + step) - points
    else:
        step = np.full_like(points, check_positive(h, "second_derivative", "h"))
    result = (
        _evaluate(f, points + step) - 2 * _evaluate(f, points) + _evaluate(f, points - step)
    ) / step**2
    return float(result) if result.ndim == 0 else result


@dataclass(frozen=True)
class LimitResult:
    """A numerical limit: ``value`` (NaN when it does not exist), the one-sided limits, and why."""

    value: float
    left: float
    right: float
    exists: bool
    reason: str

    def __float__(self) -> float:
        return self.value


def _one_sided_limit(f: Callable, a: float, direction: float, tol: float) -> tuple[float, str]:
    """Limit of f(a + direction·h) as h ↓ 0 from the sequence h = h₀·2⁻ᵏ with Richardson's
    extrapolation (assumes f(a+h) ≈ L + c·h for small h)."""
    scale = max(1.0, abs(a))
    steps = 0.1 * scale * 2.0 ** -np.arange(0, 40)
    steps = steps[a + direction * steps != a]
    with np.errstate(all="ignore"):  # f may be undefined on this side (sqrt left of 0)
        values = _evaluate(f, a + direction * steps)
    if np.all(np.isnan(values[-5:])):
        return float("nan"), "f is undefined (NaN) on this side of a"
    finite = np.isfinite(values)
    magnitudes = np.abs(values)
    # Unbounded growth: |f| keeps increasing and ends huge.
    tail = magnitudes[len(magnitudes) // 2 :]
    if not finite[-1] or (
        np.all(np.diff(tail) > 0) and tail[-1] > 1e6 * max(1.0, magnitudes[0])
    ):
        sign = np.sign(values[finite][-1]) if np.any(finite) else 1.0
        return float(sign * np.inf), "f grows without bound"
    extrapolated = 2 * values[1:] - values[:-1]
    changes = np.abs(np.diff(extrapolated))
    best = int(np.argmin(changes[: len(changes) - 2]))  # skip the last, rounding-dominated steps
    estimate = float(extrapolated[best + 1])
    if changes[best] > tol * max(1.0, abs(estimate)):
        return float("nan"), "the values do not settle (oscillation or too slow convergence)"
    return estimate, ""


def limit(f: Callable, a: float, side: str = "both", tol: float = 1e-6) -> LimitResult:
    """Numerical ``lim_{x→a} f(x)`` from f at ``a ± h`` with h = 0.1·2⁻ᵏ → 0 (f(a) is never used).

    ``side="both"`` requires the left and right limits to agree within ``tol`` (relative);
    when they disagree (a jump, like sign(x) at 0) the result has ``exists=False``, value NaN,
    and ``reason`` says so. Infinite limits (1/x² at 0) come back as ±inf.
    """
    check_callable(f, "limit")
    a = check_scalar(a, "limit", "a")
    side = check_choice(side, ("both", "left", "right"), "limit", "side")
    left, left_reason = (
        _one_sided_limit(f, a, -1.0, tol) if side in ("both", "left") else (math.nan, "")
    )
    right, right_reason = (
        _one_sided_limit(f, a, +1.0, tol) if side in ("both", "right") else (math.nan, "")
    )
    if side == "left":
        return LimitResult(left, left, right, not math.isnan(left), left_reason)
    if side == "right":
        return LimitResult(right, left, right, not math.isnan(right), right_reason)
    if math.isnan(left) or math.isnan(right):
        reason = f"left: {left_reason or 'ok'}; right: {right_reason or 'ok'}"
        return LimitResult(math.nan, left, right, False, reason)
    if math.isinf(left) or math.isinf(right):
        same = left == right
    else:
        same = abs(left - right) <= tol * max(1.0, abs(left), abs(right))
    if not same:
        return LimitResult(
            math.nan, left, right, False,
            f"the one-sided limits disagree: left {left:.6g} vs right {right:.6g}",
        )
    value = left if math.isinf(left) else (left + right) / 2
    return LimitResult(value, left, right, True, "")


def _vector_function(f: Callable, x: np.ndarray, func: str) -> Callable[[np.ndarray], float]:
    def scalar_f(point: np.ndarray) -> float:
        return _scalar_output(f(point.reshape(x.shape)), func)

    return scalar_f


def gradient(f: Callable, x, h: float | None = None) -> np.ndarray:
    """Gradient ∇f(x) of f: ℝⁿ → ℝ by central differences, same shape as x.

    ``∂f/∂xᵢ ≈ (f(x + hᵢeᵢ) − f(x − hᵢeᵢ)) / 2hᵢ`` with ``hᵢ = ε^(1/3)·max(1,|xᵢ|)``.
    ``x`` may have any shape (a weight matrix, say); f is called with that shape.
    """
    check_callable(f, "gradient")
    point = as_float_array(x, "gradient", "x")
    scalar_f = _vector_function(f, point, "gradient")
    flat = point.ravel()
    steps = _step(flat, "central", h)
    grad = np.empty_like(flat)
    for i in range(flat.size):
        shifted = flat.copy()
        shifted[i] = flat[i] + steps[i]
        upper = scalar_f(shifted)
        shifted[i] = flat[i] - steps[i]
        grad[i] = (upper - scalar_f(shifted)) / (2 * steps[i])
    return grad.reshape(point.shape)


def jacobian(f: Callable, x, h: float | None = None) -> np.ndarray:
    """Jacobian ``J[i, j] = ∂fᵢ/∂xⱼ`` of f: ℝⁿ → ℝᵐ by central differences, shape (m, n).

    Generally, shape ``f(x).shape + x.shape``.
    """
    check_callable(f, "jacobian")
    point = as_float_array(x, "jacobian", "x")
    flat = point.ravel()
    steps = _step(flat, "central", h)
    columns = []
    for j in range(flat.size):
        shifted = flat.copy()
        shifted[j] = flat[j] + steps[j]
        upper = np.asarray(f(shifted.reshape(point.shape)), dtype=np.float64)
        shifted[j] = flat[j] - steps[j]
        lower = np.asarray(f(shifted.reshape(point.shape)), dtype=np.float64)
        columns.append((upper - lower) / (2 * steps[j]))
    out_shape = columns[0].shape if columns else np.asarray(f(point), dtype=np.float64).shape
    stacked = np.stack(columns, axis=-1) if columns else np.empty(out_shape + (0,))
    return stacked.reshape(out_shape + point.shape)


def hessian(f: Callable, x, h: float | None = None) -> np.ndarray:
    """Hessian ``H[i, j] = ∂²f/∂xᵢ∂xⱼ`` of f: ℝⁿ → ℝ by central differences, shape (n, n).

    Diagonal: ``(f(x+hᵢeᵢ) − 2f(x) + f(x−hᵢeᵢ)) / hᵢ²``; off-diagonal: the four-point formula
    ``(f(x+hᵢeᵢ+hⱼeⱼ) − f(x+hᵢeᵢ−hⱼeⱼ) − f(x−hᵢeᵢ+hⱼeⱼ) + f(x−hᵢeᵢ−hⱼeⱼ)) / 4hᵢhⱼ`` with
    ``hᵢ = ε^(1/4)·max(1,|xᵢ|)``. Exact (up to rounding) for quadratics; returned symmetric.
    A scalar x gives a 1×1 matrix.
    """
    check_callable(f, "hessian")
    point = as_float_vector(x, "hessian", "x")
    scalar_f = _vector_function(f, point, "hessian")
    n = point.size
    if h is None:
        steps = EPS**0.25 * np.maximum(1.0, np.abs(point))
    else:
        steps = np.full(n, check_positive(h, "hessian", "h"))
    steps = (point + steps) - point
    center = scalar_f(point)
    H = np.empty((n, n))

    def at(offsets: dict[int, float]) -> float:
        shifted = point.copy()
        for index, offset in offsets.items():
            shifted[index] += offset
        return scalar_f(shifted)

    for i in range(n):
        H[i, i] = (at({i: steps[i]}) - 2 * center + at({i: -steps[i]})) / steps[i] ** 2
        for j in range(i + 1, n):
            hi, hj = steps[i], steps[j]
            H[i, j] = H[j, i] = (
                at({i: hi, j: hj}) - at({i: hi, j: -hj}) - at({i: -hi, j: hj})
                + at({i: -hi, j: -hj})
            ) / (4 * hi * hj)
    return H


def directional_derivative(
    f: Callable, x, u, h: float | None = None, method: str = "central"
) -> float:
    """Rate of change of f at x along the unit vector ``û = u/‖u‖``: ``D_û f(x) = ∇f(x)·û``.

    Computed as the derivative of ``t ↦ f(x + t·û)`` at t = 0 (so it also works where f has no
    gradient: ``method="forward"`` gives the one-sided derivative, e.g. 1 in every direction for
    ‖x‖ at the origin).
    """
    check_callable(f, "directional_derivative")
    point = as_float_array(x, "directional_derivative", "x")
    direction = as_float_array(u, "directional_derivative", "u")
    if direction.shape != point.shape:
        raise ShapeError(
            hint(
                f"directional_derivative: 'u' has shape {direction.shape} but 'x' has shape "
                f"{point.shape}",
                "the direction needs one component per coordinate of x",
            )
        )
    length = float(np.sqrt(np.sum(direction**2)))
    if length == 0:
        raise ValueError(
            hint("directional_derivative: argument 'u' is the zero vector (no direction)",
                 "pass a non-zero direction; it is normalised for you")
        )
    unit = direction / length
    method = check_choice(method, DERIVATIVE_METHODS, "directional_derivative", "method")
    scale = max(1.0, float(np.abs(point).max(initial=0.0)))
    if h is None:
        h = EPS ** _STEP_EXPONENT[method] * scale

    def along(t: float) -> float:
        return _scalar_output(f(point + t * unit), "directional_derivative")

    return float(derivative(along, 0.0, h=h, method=method))


def steepest_descent_direction(f: Callable, x) -> np.ndarray:
    """Unit vector of fastest decrease of f at x: ``−∇f(x) / ‖∇f(x)‖`` (zeros where ∇f = 0)."""
    grad = gradient(check_callable(f, "steepest_descent_direction"), x)
    length = float(np.sqrt(np.sum(grad**2)))
    return np.zeros_like(grad) if length == 0 else -grad / length


# --------------------------------------------------------------------------------------- Taylor
class TaylorApproximation:
    """Local model of f near x0: ``f(x0) + ∇f(x0)·d [+ ½ dᵀ H(x0) d]`` with ``d = x − x0``.

    Call it on one point (the shape of x0) or on a batch (..., n) of points. Attributes: ``x0``,
    ``value``, ``gradient``, ``hessian`` (None for order 1), ``order``.
    """

    def __init__(self, x0, value, grad, hess, order: int, scalar: bool):
        self.x0, self.value, self.gradient, self.hessian = x0, value, grad, hess
        self.order, self._scalar = order, scalar

    def __call__(self, x):
        points = as_float_array(x, "TaylorApproximation", "x")
        if self._scalar:
            d = points - self.x0
            out = self.value + self.gradient * d
            if self.order == 2:
                out = out + 0.5 * self.hessian * d**2
        else:
            if points.shape[-1:] != self.x0.shape:
                raise ShapeError(
                    hint(f"TaylorApproximation: got points of shape {points.shape}, expected "
                         f"(..., {self.x0.size})", "pass points with as many coordinates as x0")
                )
            d = points - self.x0
            out = self.value + d @ self.gradient
            if self.order == 2:
                out = out + 0.5 * np.einsum("...i,ij,...j->...", d, self.hessian, d)
        return float(out) if np.ndim(out) == 0 else out

    def __repr__(self) -> str:
        terms = "f(x0) + ∇f(x0)·(x−x0)" + (" + ½(x−x0)ᵀH(x0)(x−x0)" if self.order == 2 else "")
        return f"TaylorApproximation(order={self.order}, x0={self.x0!r}: {terms})"


def taylor(f: Callable, x0, order: int = 1) -> TaylorApproximation:
    """Taylor approximation of f around x0 as a callable.

    order 1: the tangent line/plane ``f(x0) + ∇f(x0)·(x − x0)``; order 2 adds the curvature term
    ``½ (x − x0)ᵀ H(x0) (x − x0)``. x0 a scalar (f: ℝ → ℝ) or a vector (f: ℝⁿ → ℝ).
    """
    check_callable(f, "taylor")
    if order not in (1, 2):
        raise ValueError(hint(f"taylor: argument 'order' must be 1 or 2, got {order!r}",
                              "use taylor_series(f, x0, n) for higher orders of f: ℝ → ℝ"))
    point = as_float_array(x0, "taylor", "x0")
    if point.ndim == 0:
        x0_value = float(point)
        value = _scalar_output(f(x0_value), "taylor")
        slope = float(derivative(f, x0_value))
        curvature = float(second_derivative(f, x0_value)) if order == 2 else None
        return TaylorApproximation(x0_value, value, slope, curvature, order, scalar=True)
    point = as_float_vector(point, "taylor", "x0")
    value = _scalar_output(f(point), "taylor")
    grad = gradient(f, point)
    hess = hessian(f, point) if order == 2 else None
    return TaylorApproximation(point, value, grad, hess, order, scalar=False)


class TaylorSeries:
    """Degree-n Taylor polynomial ``Σₖ cₖ (x − x0)ᵏ``, ``cₖ = f⁽ᵏ⁾(x0)/k!`` (``coefficients``)."""

    def __init__(self, x0: float, coefficients: np.ndarray):
        self.x0, self.coefficients = x0, coefficients

    @property
    def derivatives(self) -> np.ndarray:
        """``f⁽ᵏ⁾(x0)`` for k = 0..n."""
        factorials = np.array([math.factorial(k) for k in range(self.coefficients.size)], float)
        return self.coefficients * factorials

    def __call__(self, x):
        d = as_float_array(x, "TaylorSeries", "x") - self.x0
        out = np.polynomial.polynomial.polyval(d, self.coefficients)
        return float(out) if np.ndim(out) == 0 else out

    def __repr__(self) -> str:
        return f"TaylorSeries(x0={self.x0}, coefficients={self.coefficients!r})"


def taylor_series(f: Callable, x0: float, n: int, radius: float | None = None) -> TaylorSeries:
    """Degree-n Taylor polynomial of a smooth f: ℝ → ℝ around x0, ``Σₖ f⁽ᵏ⁾(x0)/k! (x − x0)ᵏ``.

    High-order finite differences are hopelessly noisy, so the derivatives come from a Chebyshev
    interpolant (degree 64, rounding-noise tail chopped) of f on ``[x0 − r, x0 + r]``
    (``r = radius``, default ``0.5·max(1,|x0|)``), which for functions analytic near that interval
    is accurate to near machine precision. Keep the interval inside f's domain (for log at 1,
    r < 1). Derivatives are good to about 1e-6 (relative) up to n ≈ 7, to near machine precision
    for low orders.
    """
    check_callable(f, "taylor_series")
    x0 = check_scalar(x0, "taylor_series", "x0")
    n = check_count(n, "taylor_series", "n")
    r = 0.5 * max(1.0, abs(x0)) if radius is None else check_positive(radius, "taylor_series",
                                                                       "radius")
    coefficients = np.polynomial.chebyshev.chebinterpolate(
        lambda t: _evaluate(f, x0 + r * np.asarray(t, dtype=np.float64)), max(64, n + 1)
    )
    # Chop the tail of rounding noise (as Chebfun does): differentiating amplifies it by ~jᵏ.
    significant = np.nonzero(np.abs(coefficients) > 1e-14 * np.abs(coefficients).max())[0]
    coefficients = coefficients[: max(significant[-1] + 1 if significant.size else 1, n + 1)]
    taylor_coefficients = np.empty(n + 1)
    for k in range(n + 1):
        kth = np.polynomial.chebyshev.chebder(coefficients, k) if k else coefficients
        taylor_coefficients[k] = np.polynomial.chebyshev.chebval(0.0, kth) / (
            r**k * math.factorial(k)
        )
    return TaylorSeries(x0, taylor_coefficients)


# ---------------------------------------------------------------- critical points, convexity
def classify_critical_point(
    f: Callable, x, grad_tol: float = 1e-5, tol: float | None = None
) -> str:
    """Second-derivative test at a critical point x (∇f(x) = 0) from the Hessian's eigenvalues λ.

    "minimum" (all λ > 0), "maximum" (all λ < 0), "saddle" (both signs), "inconclusive" (some
    λ ≈ 0 and no sign change: x⁴ and −x⁴ and x³ all have f'' = 0 at 0). Eigenvalues within
    ``tol`` (default ``1e-5·max(1, max|λ|)``) of 0 count as zero. Raises if
    ``‖∇f(x)‖ > grad_tol·max(1,|f(x)|)`` (x is not a critical point). x a scalar (f: ℝ → ℝ) or
    a vector.
    """
    check_callable(f, "classify_critical_point")
    point = as_float_array(x, "classify_critical_point", "x")
    scalar = point.ndim == 0
    call = (lambda p: f(float(p[0]))) if scalar else f
    point = as_float_vector(point, "classify_critical_point", "x")
    grad = gradient(call, point)
    value = _scalar_output(call(point), "classify_critical_point")
    grad_norm = float(np.sqrt(np.sum(grad**2)))
    if grad_norm > grad_tol * max(1.0, abs(value)):
        raise ValueError(
            hint(
                f"classify_critical_point: x = {point.tolist()} is not a critical point: "
                f"‖∇f(x)‖ = {grad_norm:.3g} (∇f = {np.round(grad, 6).tolist()})",
                "solve ∇f(x) = 0 first (or run gradient_descent / newton_method to find one)",
            )
        )
    values = np.linalg.eigvalsh(hessian(call, point))
    if tol is None:
        tol = 1e-5 * max(1.0, float(np.abs(values).max()))
    kind = _classify_eigenvalues(values, tol)
    return {
        "positive definite": "minimum",
        "negative definite": "maximum",
        "indefinite": "saddle",
    }.get(kind, "inconclusive")


@dataclass(frozen=True)
class ConvexityReport:
    """Evidence from :func:`is_convex`: the smallest curvature seen (f'' or the least Hessian
    eigenvalue) and where, and the largest violation of the chord inequality."""

    convex: bool
    min_curvature: float
    min_curvature_at: np.ndarray | float
    max_chord_violation: float
    tolerance: float

    def __bool__(self) -> bool:
        return self.convex


def _parse_domain(domain) -> tuple[np.ndarray, np.ndarray, bool]:
    bounds = as_float_array(domain, "is_convex", "domain")
    if bounds.shape == (2,):
        low, high, scalar = bounds[:1], bounds[1:], True
    elif bounds.ndim == 2 and bounds.shape[1] == 2:
        low, high, scalar = bounds[:, 0], bounds[:, 1], False
    else:
        raise ShapeError(
            hint(
                f"is_convex: argument 'domain' must be (low, high) or a list of (low, high) "
                f"pairs, got shape {bounds.shape}",
                "e.g. domain=(-2, 2) for f: ℝ → ℝ, or [(-1, 1), (-1, 1)] for f on ℝ²",
            )
        )
    if np.any(low >= high):
        raise ValueError(hint(f"is_convex: argument 'domain' needs low < high, got {domain!r}",
                              "write each interval as (low, high)"))
    return low, high, scalar


def is_convex(
    f: Callable,
    domain,
    n_samples: int = 100,
    rng=0,
    tol: float | None = None,
    return_details: bool = False,
):
    """Numerical convexity check of f on a box: curvature test plus the chord inequality.

    Convex on the box ⇔ ``f'' >= 0`` (or ``H ⪰ 0``) everywhere ⇔
    ``f(t·a + (1−t)·b) <= t·f(a) + (1−t)·f(b)`` for all a, b and t ∈ [0, 1]. Both are tested at
    ``n_samples`` points (a grid in 1-D, random otherwise) up to ``tol`` (default
    ``1e-6·max(1, max|f|)``). Sampling gives evidence, not proof: True means no violation was
    found. ``domain``: (low, high) for f: ℝ → ℝ or a list of (low, high) pairs for f: ℝⁿ → ℝ.
    ``return_details=True`` returns a :class:`ConvexityReport`.
    """
    check_callable(f, "is_convex")
    low, high, scalar = _parse_domain(domain)
    n_samples = check_count(n_samples, "is_convex", "n_samples", minimum=2)
    generator = as_generator(rng, "is_convex")
    if scalar:
        points = np.linspace(low[0], high[0], n_samples)
        values = _evaluate(f, points)
        curvatures = np.asarray(second_derivative(f, points))
        locations = points
    else:
        points = generator.uniform(low, high, size=(n_samples, low.size))
        values = np.array([_scalar_output(f(p), "is_convex") for p in points])
        curvatures = np.array([np.linalg.eigvalsh(hessian(f, p))[0] for p in points])
        locations = points
    if tol is None:
        tol = 1e-6 * max(1.0, float(np.abs(values).max()))
    # Chord inequality on random pairs of sample points.
    first = generator.integers(0, n_samples, size=n_samples)
    second = generator.integers(0, n_samples, size=n_samples)
    t = generator.uniform(0, 1, size=n_samples)
    if scalar:
        mixes = t * points[first] + (1 - t) * points[second]
        mix_values = _evaluate(f, mixes)
    else:
        mixes = t[:, None] * points[first] + (1 - t[:, None]) * points[second]
        mix_values = np.array([_scalar_output(f(p), "is_convex") for p in mixes])
    violation = float(np.max(mix_values - (t * values[first] + (1 - t) * values[second])))
    worst = int(np.argmin(curvatures))
    report = ConvexityReport(
        convex=bool(curvatures[worst] >= -tol and violation <= tol),
        min_curvature=float(curvatures[worst]),
        min_curvature_at=float(locations[worst]) if scalar else locations[worst],
        max_chord_violation=max(violation, 0.0),
        tolerance=float(tol),
    )
    return report if return_details else report.convex


# --------------------------------------------------------------------------------- optimisation
@dataclass
class OptimizationResult:
    """Trajectory of an iterative minimiser.

    ``points[k]`` is the k-th iterate (``points[0] = x0``), ``values[k] = f(points[k])``,
    ``gradients[k] = ∇f(points[k])``. ``converged``: the gradient norm fell to ``tol``;
    ``diverged``: f became non-finite or ended above f(x0) (the step size is too large).
    """

    points: np.ndarray
    values: np.ndarray
    gradients: np.ndarray
    converged: bool
    diverged: bool
    message: str
    n_steps: int = field(init=False)

    def __post_init__(self) -> None:
        self.n_steps = len(self.points) - 1

    @property
    def x(self):
        """The last iterate."""
        last = self.points[-1]
        return float(last) if np.ndim(last) == 0 else last

    @property
    def value(self) -> float:
        """f at the last iterate."""
        return float(self.values[-1])


def _gradient_function(f: Callable, grad: Callable | None, scalar: bool, func: str) -> Callable:
    if grad is not None:
        check_callable(grad, func, "grad")
        return lambda x: np.asarray(grad(float(x) if scalar else x), dtype=np.float64)
    if scalar:
        return lambda x: np.asarray(derivative(f, float(x)))
    return lambda x: gradient(f, x)


def _iterate(f, x0, step_fn, grad_fn, steps, tol, max_steps, func) -> OptimizationResult:
    """Shared loop of gradient descent and Newton's method; ``step_fn(x, g)`` returns the update."""
    point = as_float_array(x0, func, "x0")
    scalar = point.ndim == 0
    if steps is not None:
        steps = check_count(steps, func, "steps")
    if tol is not None:
        tol = check_positive(tol, func, "tol", strict=False)
    if steps is None and tol is None:
        tol = 1e-8
    limit_steps = steps if steps is not None else check_count(max_steps, func, "max_steps")
    evaluate = lambda p: _scalar_output(f(float(p) if scalar else p), func)  # noqa: E731
    points, values, grads = [point.copy()], [evaluate(point)], [grad_fn(point)]
    converged, message = False, ""
    for _ in range(limit_steps):
        if tol is not None and np.sqrt(np.sum(grads[-1] ** 2)) <= tol:
            converged = True
            break
        update = step_fn(points[-1], grads[-1])
        if update is None:
            message = "the Hessian is singular or not positive definite; Newton's step is undefined"
            break
        point = points[-1] - update
        value = evaluate(point) if np.all(np.isfinite(point)) else math.inf
        points.append(point)
        values.append(value)
        if not np.isfinite(value):
            grads.append(np.full_like(point, np.nan))
            break
        grads.append(grad_fn(point))
    else:
        if tol is not None and np.sqrt(np.sum(grads[-1] ** 2)) <= tol:
            converged = True
    values_array = np.asarray(values)
    diverged = bool(not np.all(np.isfinite(values_array)) or values_array[-1] > values_array[0])
    n_taken = len(points) - 1
    if converged:
        message = f"converged after {n_taken} steps: ‖∇f‖ <= {tol:g}"
    elif diverged:
        message = (
            f"diverged: f went from {values_array[0]:.6g} to {values_array[-1]:.6g} in {n_taken} "
            "steps; the step overshoots the minimum — lower the learning rate"
        )
        warnings.warn(hint(f"{func}: {message}", "try a learning rate 10x smaller"),
                      ConvergenceWarning, stacklevel=3)
    elif not message:
        if steps is None:
            grad_norm = float(np.sqrt(np.sum(grads[-1] ** 2)))
            message = f"did not converge in {n_taken} steps (‖∇f‖ = {grad_norm:.3g})"
            warnings.warn(hint(f"{func}: {message}", "raise max_steps or tune the step size"),
                          ConvergenceWarning, stacklevel=3)
        else:
            message = f"ran {n_taken} steps"
    return OptimizationResult(
        points=np.stack(points), values=values_array, gradients=np.stack(grads),
        converged=converged, diverged=diverged, message=message,
    )


def gradient_descent(
    f: Callable,
    x0,
    lr: float,
    steps: int | None = None,
    tol: float | None = None,
    grad: Callable | None = None,
    max_steps: int = 10_000,
) -> OptimizationResult:
    """Plain gradient descent ``x_{k+1} = x_k − lr·∇f(x_k)``; returns the whole trajectory.

    Runs exactly ``steps`` steps, or until ``‖∇f(x_k)‖ <= tol`` (default tol 1e-8 when steps is
    not given, with at most ``max_steps``). ``grad`` is the analytic gradient (default: central
    differences). x0 a scalar or an array. On L(W) = 5(W − 14)² + 10 with lr = 0.1 the first step
    lands on W = 14 from any start (lr = 1/L'' = 1/10); on x² with lr = 10 it overshoots and the
    result reports ``diverged=True`` (and warns).
    """
    check_callable(f, "gradient_descent")
    lr = check_positive(lr, "gradient_descent", "lr")
    scalar = np.ndim(x0) == 0
    grad_fn = _gradient_function(f, grad, scalar, "gradient_descent")
    return _iterate(f, x0, lambda x, g: lr * g, grad_fn, steps, tol, max_steps, "gradient_descent")


def newton_method(
    f: Callable,
    x0,
    steps: int | None = None,
    tol: float | None = None,
    grad: Callable | None = None,
    hess: Callable | None = None,
    max_steps: int = 100,
) -> OptimizationResult:
    """Newton's method for minimisation ``x_{k+1} = x_k − H(x_k)⁻¹ ∇f(x_k)`` (x − f'/f'' in 1-D).

    Jumps to the minimum of the local quadratic model, so it solves a quadratic in one step.
    ``grad``/``hess`` are analytic derivatives (default: finite differences). Stops (with a
    message) where the Hessian is singular. Returns the trajectory like :func:`gradient_descent`.
    """
    check_callable(f, "newton_method")
    scalar = np.ndim(x0) == 0
    grad_fn = _gradient_function(f, grad, scalar, "newton_method")
    if hess is not None:
        check_callable(hess, "newton_method", "hess")
        hess_fn = lambda x: np.asarray(hess(float(x) if scalar else x), float)  # noqa: E731
    elif scalar:
        hess_fn = lambda x: np.asarray(second_derivative(f, float(x)))  # noqa: E731
    else:
        hess_fn = lambda x: hessian(f, x)  # noqa: E731

    def newton_step(x, g):
        H = hess_fn(x)
        if scalar:
            return None if H == 0 else g / H
        try:
            return np.linalg.solve(H.reshape(g.size, g.size), g.ravel()).reshape(g.shape)
        except np.linalg.LinAlgError:
            return None

    return _iterate(f, x0, newton_step, grad_fn, steps, tol, max_steps, "newton_method")


# ---------------------------------------------------------------------------------- integration
def _interval(f: Callable, a, b, func: str) -> tuple[Callable, float, float]:
    check_callable(f, func)
    return f, check_scalar(a, func, "a"), check_scalar(b, func, "b")


def riemann_sum(f: Callable, a: float, b: float, n: int = 100, rule: str = "left") -> float:
    """Riemann sum ``Σᵢ f(xᵢ)·Δx`` with ``Δx = (b − a)/n`` and xᵢ the left/right end or midpoint
    of each of the n sub-intervals. Error O(1/n) (left, right) or O(1/n²) (mid)."""
    f, a, b = _interval(f, a, b, "riemann_sum")
    n = check_count(n, "riemann_sum", "n", minimum=1)
    rule = check_choice(rule, ("left", "right", "mid"), "riemann_sum", "rule")
    width = (b - a) / n
    offset = {"left": 0.0, "right": 1.0, "mid": 0.5}[rule]
    nodes = a + (np.arange(n) + offset) * width
    return float(_evaluate(f, nodes).sum() * width)


def trapezoid(f: Callable, a: float, b: float, n: int = 100) -> float:
    """Trapezoid rule ``Δx·(f(x₀)/2 + f(x₁) + … + f(x_{n−1}) + f(xₙ)/2)``, Δx = (b − a)/n.

    Error O(1/n²).
    """
    f, a, b = _interval(f, a, b, "trapezoid")
    n = check_count(n, "trapezoid", "n", minimum=1)
    values = _evaluate(f, np.linspace(a, b, n + 1))
    return float((values.sum() - (values[0] + values[-1]) / 2) * (b - a) / n)


def simpson(f: Callable, a: float, b: float, n: int = 100) -> float:
    """Composite Simpson's rule ``Δx/3·(f₀ + 4f₁ + 2f₂ + 4f₃ + … + 4f_{n−1} + fₙ)`` with n even;
    exact for cubics, error O(1/n⁴)."""
    f, a, b = _interval(f, a, b, "simpson")
    n = check_count(n, "simpson", "n", minimum=2)
    if n % 2:
        raise ValueError(hint(f"simpson: argument 'n' must be even, got {n}",
                              f"use n={n + 1}: Simpson's rule pairs up the sub-intervals"))
    values = _evaluate(f, np.linspace(a, b, n + 1))
    weights = np.ones(n + 1)
    weights[1:-1:2], weights[2:-1:2] = 4.0, 2.0
    return float(weights @ values * (b - a) / (3 * n))


def integrate(f: Callable, a: float, b: float, tol: float = 1e-10, max_depth: int = 50) -> float:
    """Adaptive Simpson integration of ``∫ₐᵇ f(x) dx`` to an absolute error of about ``tol``.

    Each interval [l, r] is split in half while ``|S(l,m) + S(m,r) − S(l,r)| > 15·tol_i`` (S the
    Simpson estimate, tol_i the interval's share of tol), then Richardson-corrected by
    ``(S(l,m) + S(m,r) − S(l,r))/15``. All intervals of one level are evaluated in one vectorised
    call of f when f accepts arrays. Warns (ConvergenceWarning) if ``max_depth`` halvings do not
    suffice (a singularity, say). Finite limits only.
    """
    f, a, b = _interval(f, a, b, "integrate")
    tol = check_positive(tol, "integrate", "tol")
    if a == b:
        return 0.0
    if a > b:
        return -integrate(f, b, a, tol, max_depth)
    total_width = b - a
    left, right = np.array([a]), np.array([b])
    mid = (left + right) / 2
    f_left, f_mid, f_right = (_evaluate(f, p) for p in (left, mid, right))
    whole = (right - left) / 6 * (f_left + 4 * f_mid + f_right)
    result = 0.0
    for _ in range(max_depth):
        quarter_left, quarter_right = (left + mid) / 2, (mid + right) / 2
        f_ql = _evaluate(f, quarter_left)
        f_qr = _evaluate(f, quarter_right)
        half_left = (mid - left) / 6 * (f_left + 4 * f_ql + f_mid)
        half_right = (right - mid) / 6 * (f_mid + 4 * f_qr + f_right)
        error = half_left + half_right - whole
        allowed = 15 * tol * (right - left) / total_width
        done = np.abs(error) <= allowed
        result += float(np.sum((half_left + half_right + error / 15)[done]))
        keep = ~done
        if not np.any(keep):
            return result
        # Split each unfinished interval into its two halves for the next level.
        left = np.concatenate([left[keep], mid[keep]])
        right_new = np.concatenate([mid[keep], right[keep]])
        new_mid = np.concatenate([quarter_left[keep], quarter_right[keep]])
        f_left, f_right_new = (np.concatenate([f_left[keep], f_mid[keep]]),
                               np.concatenate([f_mid[keep], f_right[keep]]))
        f_mid = np.concatenate([f_ql[keep], f_qr[keep]])
        whole = np.concatenate([half_left[keep], half_right[keep]])
        right, mid, f_right = right_new, new_mid, f_right_new
    warnings.warn(
        hint(f"integrate: {left.size} sub-intervals still above tolerance after {max_depth} "
             "halvings (near a singularity or discontinuity?)",
             "split the integral at the trouble spot or loosen tol"),
        ConvergenceWarning, stacklevel=2,
    )
    return result + float(np.sum(whole))
