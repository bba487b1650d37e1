"""groundup.math.calculus against analytic derivatives and scipy.integrate.quad."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate as scipy_integrate

import groundup.math as gm
from groundup.errors import ConvergenceWarning, ShapeError

FAST = settings(max_examples=40, deadline=None)
points = st.floats(-3.0, 3.0, allow_nan=False)

# (f, f', f'') pairs with their domains.
ANALYTIC = {
    "cubic": (lambda x: 2 * x**3 - x**2 + 4 * x - 1, lambda x: 6 * x**2 - 2 * x + 4,
              lambda x: 12 * x - 2, (-3, 3)),
    "exp": (np.exp, np.exp, np.exp, (-3, 3)),
    "sin": (np.sin, np.cos, lambda x: -np.sin(x), (-3, 3)),
    "log": (np.log, lambda x: 1 / x, lambda x: -1 / x**2, (0.2, 5)),
}


def _relative_error(approx, exact, scale):
    return abs(approx - exact) / max(1.0, abs(exact), scale)


@pytest.mark.parametrize("name", ANALYTIC)
@FAST
@given(u=st.floats(0, 1))
def test_central_derivative_matches_analytic(name, u):
    f, df, _, (low, high) = ANALYTIC[name]
    x = low + u * (high - low)
    # Rounding error of a difference quotient scales with |f(x)|, so that enters the scale.
    assert _relative_error(gm.derivative(f, x), df(x), abs(f(x))) < 1e-7
    assert _relative_error(gm.derivative(f, x, method="richardson"), df(x), abs(f(x))) < 1e-9
    assert _relative_error(gm.derivative(f, x, method="forward"), df(x), abs(f(x))) < 1e-6
    assert _relative_error(gm.derivative(f, x, method="backward"), df(x), abs(f(x))) < 1e-6
    assert _relative_error(gm.second_derivative(f, x), ANALYTIC[name][2](x), abs(f(x))) < 1e-5


def test_derivative_is_elementwise_on_arrays_and_scalar_only_functions():
    xs = np.linspace(-2, 2, 7)
    np.testing.assert_allclose(gm.derivative(np.sin, xs), np.cos(xs), atol=1e-9)
    np.testing.assert_allclose(gm.derivative(math.sin, xs), np.cos(xs), atol=1e-9)
    assert gm.derivative(math.sin, 0.5) == pytest.approx(math.cos(0.5), abs=1e-10)


def test_forward_difference_error_is_first_order_and_central_second_order():
    x = 1.0
    errors = {m: [abs(gm.derivative(np.exp, x, h=h, method=m) - np.e) for h in (1e-2, 1e-3)]
              for m in ("forward", "central")}
    # Ten times smaller h: forward error ~10x smaller, central ~100x smaller.
    assert 8 < errors["forward"][0] / errors["forward"][1] < 12
    assert 80 < errors["central"][0] / errors["central"][1] < 120


def test_limits():
    assert gm.limit(lambda x: np.sin(x) / x, 0.0).value == pytest.approx(1.0, abs=1e-8)
    assert gm.limit(lambda x: (x**2 - 1) / (x - 1), 1.0).value == pytest.approx(2.0, abs=1e-8)
    assert gm.limit(lambda x: (1 + x) ** (1 / x), 0.0).value == pytest.approx(math.e, abs=1e-7)
    jump = gm.limit(np.sign, 0.0)
    assert not jump.exists and math.isnan(jump.value)
    assert (jump.left, jump.right) == (-1.0, 1.0) and "disagree" in jump.reason
    assert gm.limit(np.sign, 0.0, side="right").value == 1.0
    assert gm.limit(lambda x: 1 / x**2, 0.0).value == math.inf
    pole = gm.limit(lambda x: 1 / x, 0.0)
    assert not pole.exists and (pole.left, pole.right) == (-math.inf, math.inf)
    assert not gm.limit(lambda x: np.sin(1 / x), 0.0).exists
    # √x is undefined left of 0: the two-sided limit does not exist, the right one is 0.
    root = gm.limit(np.sqrt, 0.0)
    assert not root.exists and "undefined" in root.reason
    assert gm.limit(np.sqrt, 0.0, side="right").value == pytest.approx(0.0, abs=1e-6)


@FAST
@given(seed=st.integers(0, 10_000), n=st.integers(1, 5))
def test_gradient_hessian_of_random_quadratic(seed, n):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n))
    A = A + A.T
    b, c = rng.normal(size=n), rng.normal()
    x = rng.normal(size=n)
    f = lambda v: 0.5 * v @ A @ v + b @ v + c  # noqa: E731
    np.testing.assert_allclose(gm.gradient(f, x), A @ x + b, rtol=0, atol=1e-8)
    np.testing.assert_allclose(gm.hessian(f, x), A, rtol=0, atol=1e-6)
    J = gm.jacobian(lambda v: A @ v + b, x)
    np.testing.assert_allclose(J, A, rtol=0, atol=1e-8)
    u = rng.normal(size=n)
    assert gm.directional_derivative(f, x, u) == pytest.approx(
        (A @ x + b) @ (u / np.linalg.norm(u)), abs=1e-8)


def test_gradient_hessian_of_nonpolynomial_function():
    f = lambda v: np.exp(v[0]) * np.sin(v[1]) + np.log(1 + v[0] ** 2)  # noqa: E731
    x, y = 0.3, -0.7
    grad = [np.exp(x) * np.sin(y) + 2 * x / (1 + x**2), np.exp(x) * np.cos(y)]
    H = [[np.exp(x) * np.sin(y) + (2 - 2 * x**2) / (1 + x**2) ** 2, np.exp(x) * np.cos(y)],
         [np.exp(x) * np.cos(y), -np.exp(x) * np.sin(y)]]
    np.testing.assert_allclose(gm.gradient(f, [x, y]), grad, atol=1e-9)
    np.testing.assert_allclose(gm.hessian(f, [x, y]), H, atol=1e-6)
    # Jacobian of a map ℝ² → ℝ³; gradient keeps the input's shape for a matrix argument.
    J = gm.jacobian(lambda v: np.array([v[0] * v[1], np.sin(v[0]), v[1] ** 2]), [x, y])
    np.testing.assert_allclose(J, [[y, x], [np.cos(x), 0], [0, 2 * y]], atol=1e-9)
    W = np.arange(6.0).reshape(2, 3) / 5
    np.testing.assert_allclose(gm.gradient(lambda M: np.sum(M**2), W), 2 * W, atol=1e-9)


def test_steepest_descent_direction_is_the_unit_negative_gradient():
    f = lambda w: 2 * w[0] ** 2 + 3 * w[1] ** 2  # noqa: E731
    np.testing.assert_allclose(gm.steepest_descent_direction(f, [3.0, 4.0]),
                               -np.array([12.0, 24.0]) / np.hypot(12, 24), atol=1e-10)
    # No direction of decrease at the minimum.
    np.testing.assert_array_equal(gm.steepest_descent_direction(f, [0.0, 0.0]), [0.0, 0.0])
    # It beats every other unit direction.
    d = gm.steepest_descent_direction(f, [3.0, 4.0])
    for angle in np.linspace(0, 2 * np.pi, 16, endpoint=False):
        u = np.array([np.cos(angle), np.sin(angle)])
        assert gm.directional_derivative(f, [3.0, 4.0], d) <= gm.directional_derivative(
            f, [3.0, 4.0], u) + 1e-9


def test_taylor_approximations():
    tangent = gm.taylor(np.exp, 0.0, order=1)
    quadratic = gm.taylor(np.exp, 0.0, order=2)
    xs = np.array([-0.1, 0.05, 0.2])
    np.testing.assert_allclose(tangent(xs), 1 + xs, atol=1e-9)
    np.testing.assert_allclose(quadratic(xs), 1 + xs + xs**2 / 2, atol=1e-7)
    # Vector case: the tangent plane and the quadratic model of f(x, y) = x²y + y³ at (1, 2).
    f = lambda v: v[..., 0] ** 2 * v[..., 1] + v[..., 1] ** 3  # noqa: E731
    x0 = np.array([1.0, 2.0])
    plane, model = gm.taylor(f, x0, order=1), gm.taylor(f, x0, order=2)
    grad, H = np.array([4.0, 13.0]), np.array([[4.0, 2.0], [2.0, 12.0]])
    batch = x0 + np.array([[0.1, -0.2], [0.0, 0.3]])
    d = batch - x0
    np.testing.assert_allclose(plane(batch), 10 + d @ grad, atol=1e-8)
    curvature = 0.5 * np.einsum("ki,ij,kj->k", d, H, d)
    np.testing.assert_allclose(model(batch), 10 + d @ grad + curvature, atol=1e-6)
    # Error of an order-k model shrinks like |d|^(k+1).
    small, smaller = x0 + [1e-2, 1e-2], x0 + [1e-3, 1e-3]
    ratio = abs(f(small) - plane(small)) / abs(f(smaller) - plane(smaller))
    assert 80 < ratio < 120


@pytest.mark.parametrize(
    ("f", "x0", "derivatives"),
    [
        (np.exp, 0.0, [1.0] * 7),
        (np.sin, 0.0, [0, 1, 0, -1, 0, 1, 0]),
        (np.log, 1.0, [0, 1, -1, 2, -6, 24, -120]),
        (lambda x: x**3 - 2 * x, 2.0, [4, 10, 12, 6, 0, 0, 0]),
    ],
)
def test_taylor_series_coefficients(f, x0, derivatives):
    series = gm.taylor_series(f, x0, 6)
    expected = np.array(derivatives, float) / [math.factorial(k) for k in range(7)]
    np.testing.assert_allclose(series.coefficients, expected, rtol=1e-6, atol=1e-8)
    assert series(x0 + 0.1) == pytest.approx(f(x0 + 0.1), rel=1e-6)


def test_classify_critical_points():
    assert gm.classify_critical_point(lambda v: v[0] ** 2 + v[1] ** 2, [0.0, 0.0]) == "minimum"
    assert gm.classify_critical_point(lambda v: -v[0] ** 2 - 2 * v[1] ** 2, [0, 0]) == "maximum"
    assert gm.classify_critical_point(lambda v: v[0] ** 2 - v[1] ** 2, [0.0, 0.0]) == "saddle"
    assert gm.classify_critical_point(lambda x: x**4, 0.0) == "inconclusive"
    assert gm.classify_critical_point(lambda x: x**3, 0.0) == "inconclusive"
    assert gm.classify_critical_point(np.cos, np.pi) == "minimum"
    with pytest.raises(ValueError, match="not a critical point"):
        gm.classify_critical_point(lambda v: v[0] ** 2 + v[1], [0.0, 0.0])


def test_is_convex_with_details():
    assert gm.is_convex(np.exp, (-3, 3))
    assert gm.is_convex(np.abs, (-1, 1)) is True  # convex though not differentiable at 0
    assert gm.is_convex(np.abs, (-1, 1), n_samples=101) is True  # grid through the kink
    assert gm.is_convex(np.sin, (0, np.pi)) is False
    report = gm.is_convex(lambda x: x**3, (-1, 1), return_details=True)
    assert not report and report.min_curvature == pytest.approx(-6.0, abs=1e-3)
    assert report.min_curvature_at == pytest.approx(-1.0)
    saddle = gm.is_convex(lambda v: v[0] ** 2 - v[1] ** 2, [(-1, 1), (-1, 1)], n_samples=20,
                          return_details=True)
    assert not saddle.convex and saddle.min_curvature == pytest.approx(-2.0, abs=1e-4)
    assert saddle.max_chord_violation > 0


def test_is_convex_chord_test_catches_what_sampled_curvature_misses():
    # A kink: f'' = 0 at every sample away from 0, but |x| − 2|x − 0.5| violates the chord test.
    kinked = lambda x: -abs(x - 0.013)  # noqa: E731  (concave kink between grid points)
    report = gm.is_convex(kinked, (-1, 1), n_samples=11, return_details=True)
    assert report.min_curvature == pytest.approx(0.0, abs=1e-6)
    assert report.max_chord_violation > 1e-3 and not report.convex


def test_gradient_descent_until_tolerance_and_newton():
    f = lambda w: (w[0] - 1) ** 2 + 10 * (w[1] + 2) ** 2  # noqa: E731
    run = gm.gradient_descent(f, [5.0, 5.0], lr=0.05, tol=1e-6)
    assert run.converged and not run.diverged
    np.testing.assert_allclose(run.x, [1.0, -2.0], atol=1e-6)
    assert np.all(np.diff(run.values) <= 0)
    assert run.points.shape == (run.n_steps + 1, 2) == run.gradients.shape
    newton = gm.newton_method(f, [5.0, 5.0])
    assert newton.converged and newton.n_steps <= 2
    np.testing.assert_allclose(newton.points[1], [1.0, -2.0], atol=1e-6)
    # 1-D Newton with analytic derivatives: quadratic convergence on cosh's minimum at 0.
    run = gm.newton_method(np.cosh, 1.0, grad=np.sinh, hess=np.cosh, tol=1e-14)
    assert run.converged and abs(run.x) < 1e-14 and run.n_steps <= 6


def test_gradient_descent_warns_when_it_runs_out_of_steps():
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        run = gm.gradient_descent(lambda x: x**2, 1.0, lr=1e-4, max_steps=10)
    assert not run.converged and run.n_steps == 10


def test_newton_stops_on_a_singular_hessian():
    run = gm.newton_method(lambda v: v[0] ** 2 + v[1], [1.0, 1.0], steps=3)
    assert not run.converged and "singular" in run.message and run.n_steps == 0


@FAST
@given(coefficients=st.lists(st.floats(-5, 5), min_size=1, max_size=6),
       a=st.floats(-2, 2), width=st.floats(0.1, 3))
def test_integrate_matches_scipy_quad(coefficients, a, width):
    b = a + width
    f = lambda x: np.polyval(coefficients, x) + np.sin(3 * x) * np.exp(-x)  # noqa: E731
    expected, _ = scipy_integrate.quad(f, a, b, epsabs=1e-12, epsrel=1e-12)
    assert gm.integrate(f, a, b) == pytest.approx(expected, abs=1e-8)
    assert gm.integrate(f, b, a) == pytest.approx(-expected, abs=1e-8)
    assert gm.simpson(f, a, b, 200) == pytest.approx(expected, abs=1e-5 * max(1, abs(expected)))


def test_integration_rules_converge_at_their_orders():
    exact = 2.0  # ∫₀^π sin
    for rule, order in (("left", 1), ("right", 1), ("mid", 2)):
        coarse = abs(gm.riemann_sum(np.sin, 0, np.pi, 50, rule=rule) - exact)
        fine = abs(gm.riemann_sum(np.sin, 0, np.pi, 100, rule=rule) - exact)
        if order == 2:
            assert 3.5 < coarse / fine < 4.5
        else:
            assert coarse < 1e-3 * 2  # left and right sums of a symmetric hump are both O(1/n²)
    assert 3.5 < abs(gm.trapezoid(np.sin, 0, np.pi, 50) - 2) / abs(
        gm.trapezoid(np.sin, 0, np.pi, 100) - 2) < 4.5
    assert 14 < abs(gm.simpson(np.sin, 0, np.pi, 20) - 2) / abs(
        gm.simpson(np.sin, 0, np.pi, 40) - 2) < 18
    # Left sum of an increasing function underestimates, right overestimates (O(1/n)).
    left = gm.riemann_sum(np.exp, 0, 1, 100, "left")
    right = gm.riemann_sum(np.exp, 0, 1, 100, "right")
    assert left < math.e - 1 < right
    assert right - left == pytest.approx((math.e - 1) / 100, rel=1e-12)
    assert gm.simpson(lambda x: x**3 - x, -1, 2, 2) == pytest.approx(2.25, abs=1e-12)
    assert gm.integrate(math.sqrt, 0, 1, tol=1e-10) == pytest.approx(2 / 3, abs=1e-9)
    # A constant function that returns a scalar for array input still integrates pointwise.
    assert gm.integrate(lambda x: 3.0, 0, 2) == pytest.approx(6.0, abs=1e-12)
    assert gm.integrate(np.cos, 1.0, 1.0) == 0.0


def test_calculus_bad_inputs_name_the_argument():
    with pytest.raises(TypeError, match="derivative: argument 'f' must be a callable"):
        gm.derivative(3.0, 1.0)
    for call in (lambda: gm.gradient("x**2", [1.0]), lambda: gm.hessian(None, [1.0]),
                 lambda: gm.gradient_descent(5, 0.0, lr=0.1, steps=1),
                 lambda: gm.integrate([1, 2], 0, 1)):
        with pytest.raises(TypeError, match="'f' must be a callable.*help:"):
            call()
    with pytest.raises(ValueError, match="'method' must be one of"):
        gm.derivative(np.sin, 0.0, method="centered")
    with pytest.raises(ValueError, match="'lr' must be > 0"):
        gm.gradient_descent(np.sin, 0.0, lr=-0.1, steps=1)
    with pytest.raises(ValueError, match="'n' must be even"):
        gm.simpson(np.sin, 0, 1, 3)
    with pytest.raises(ShapeError, match="f must return a single number"):
        gm.gradient(lambda v: v * 2, [1.0, 2.0])
    with pytest.raises(ValueError, match="'x' contains NaN"):
        gm.gradient(np.sum, [1.0, np.nan])
    with pytest.raises(ShapeError, match="'domain'"):
        gm.is_convex(np.exp, [1, 2, 3])
