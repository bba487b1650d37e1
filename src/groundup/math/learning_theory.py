"""Statistical learning theory for the course: generalisation bounds (finite class, VC, Hoeffding),
PAC sample complexity, shattering and VC dimension by search.

Hypothesis families known to :func:`shatters` and :func:`vc_dimension` (label 1 = positive):

- ``"thresholds"``: ``h(x) = 1[x >= t]`` on ℝ (VC 1)
- ``"intervals"``: ``h(x) = 1[a <= x <= b]`` on ℝ (VC 2)
- ``"rectangles"``: axis-aligned boxes in ℝ², 1 inside (VC 4)
- ``"linear-2d"``: ``h(x) = 1[w·x + b > 0]`` in ℝ² (VC 3); ``"linear"``: the same in ℝᵈ (VC d + 1)
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np

from groundup.errors import ShapeError, hint
from groundup.math._validate import (
    as_float_array,
    as_generator,
    check_choice,
    check_count,
    check_open_unit,
    check_positive,
)

__all__ = [
    "finite_class_bound",
    "vc_bound",
    "pac_sample_complexity",
    "hoeffding_bound",
    "FAMILIES",
    "can_realize",
    "shatters",
    "vc_dimension",
    "linearly_separable",
    "best_linear_accuracy",
]

FAMILIES = ("thresholds", "intervals", "rectangles", "linear-2d", "linear")


# ------------------------------------------------------------------------------------------ bounds
def finite_class_bound(h_size: float, n: int, delta: float) -> float:
    """Generalisation gap for a finite class, with probability >= 1 − δ for every h ∈ H:
    ``R(h) − R̂(h) <= √((ln|H| + ln(1/δ)) / (2n))`` (Hoeffding plus a union bound over H)."""
    h_size = check_positive(h_size, "finite_class_bound", "h_size")
    if h_size < 1:
        raise ValueError(hint(f"finite_class_bound: 'h_size' is |H| >= 1, got {h_size}",
                              "pass the number of hypotheses in the class"))
    n = check_count(n, "finite_class_bound", "n", minimum=1)
    delta = check_open_unit(delta, "finite_class_bound", "delta")
    return math.sqrt((math.log(h_size) + math.log(1 / delta)) / (2 * n))


def vc_bound(d: int, n: int, delta: float) -> float:
    """VC generalisation gap, with probability >= 1 − δ:
    ``R(h) − R̂(h) <= √((d(ln(2n/d) + 1) + ln(4/δ)) / n)`` for a class of VC dimension d."""
    d = check_count(d, "vc_bound", "d", minimum=1)
    n = check_count(n, "vc_bound", "n", minimum=1)
    delta = check_open_unit(delta, "vc_bound", "delta")
    return math.sqrt((d * (math.log(2 * n / d) + 1) + math.log(4 / delta)) / n)


def pac_sample_complexity(epsilon: float, delta: float, d: int | None = None,
                          h_size: float | None = None) -> int:
    """Samples m that suffice for error <= ε with probability >= 1 − δ (rounded up):

    VC dimension d (the course's form): ``m >= (1/ε)(d·ln(1/ε) + ln(1/δ))``;
    finite class (``h_size=|H|`` instead of d, realisable case): ``m >= (1/ε)(ln|H| + ln(1/δ))``.
    """
    epsilon = check_open_unit(epsilon, "pac_sample_complexity", "epsilon")
    delta = check_open_unit(delta, "pac_sample_complexity", "delta")
    if (d is None) == (h_size is None):
        raise ValueError(hint("pac_sample_complexity: pass exactly one of 'd' (VC dimension) "
                              "and 'h_size' (|H|)", "e.g. pac_sample_complexity(0.1, 0.05, d=3)"))
    if d is not None:
        d = check_count(d, "pac_sample_complexity", "d")
        complexity = d * math.log(1 / epsilon)
    else:
        complexity = math.log(check_positive(h_size, "pac_sample_complexity", "h_size"))
    return math.ceil((complexity + math.log(1 / delta)) / epsilon)


def hoeffding_bound(n: int, epsilon: float | None = None, delta: float | None = None,
                    value_range: tuple[float, float] = (0.0, 1.0)) -> float:
    """Hoeffding's inequality for the mean of n independent variables in [a, b]:
    ``P(|X̄ − μ| >= ε) <= 2·exp(−2nε² / (b − a)²)``.

    Give ``epsilon`` to get that probability bound (capped at 1), or ``delta`` to get the ε that
    holds with probability >= 1 − δ: ``ε = (b − a)·√(ln(2/δ) / (2n))``.
    """
    n = check_count(n, "hoeffding_bound", "n", minimum=1)
    low, high = (float(v) for v in value_range)
    if not high > low:
        raise ValueError(hint(f"hoeffding_bound: 'value_range' must be (a, b) with a < b, got "
                              f"{value_range}", "e.g. (0, 1) for 0/1 losses"))
    width = high - low
    if (epsilon is None) == (delta is None):
        raise ValueError(hint("hoeffding_bound: pass exactly one of 'epsilon' and 'delta'",
                              "epsilon → probability bound; delta → deviation bound"))
    if epsilon is not None:
        epsilon = check_positive(epsilon, "hoeffding_bound", "epsilon")
        return min(1.0, 2 * math.exp(-2 * n * epsilon**2 / width**2))
    delta = check_open_unit(delta, "hoeffding_bound", "delta")
    return width * math.sqrt(math.log(2 / delta) / (2 * n))


# ------------------------------------------------------------------------------ linear separability
def _phase_one_feasible(A: np.ndarray) -> bool:
    """Is there z >= 0 with A z >= 1? Phase-one simplex with Bland's rule (which cannot cycle).

    Tableau for ``A z − s + a = 1`` (s slacks, a artificials, all >= 0), minimising Σa; feasible
    iff the minimum is 0.
    """
    m, n_z = A.shape
    tableau = np.hstack([A, -np.eye(m), np.eye(m), np.ones((m, 1))])
    basis = list(range(n_z + m, n_z + 2 * m))
    n_vars = n_z + 2 * m
    costs = np.concatenate([np.zeros(n_z + m), np.ones(m), [0.0]])
    reduced = costs - tableau.sum(axis=0)  # c − c_Bᵀ T with all artificials basic
    tiny = 1e-11
    for _ in range(50 * (n_vars + m)):
        entering = next((j for j in range(n_vars) if reduced[j] < -tiny), None)
        if entering is None:
            break
        column = tableau[:, entering]
        rows = np.nonzero(column > tiny)[0]
        ratios = tableau[rows, -1] / column[rows]
        best = ratios.min()
        candidates = rows[ratios <= best + tiny]
        pivot = min(candidates, key=lambda r: basis[r])  # Bland: smallest basic index leaves
        tableau[pivot] /= tableau[pivot, entering]
        others = np.arange(m) != pivot
        tableau[others] -= np.outer(tableau[others, entering], tableau[pivot])
        reduced = reduced - reduced[entering] * tableau[pivot]
        basis[pivot] = entering
    return bool(-reduced[-1] <= 1e-9)


def linearly_separable(points, labels) -> bool:
    """True when some hyperplane ``w·x + b = 0`` puts every label-1 point strictly on one side and
    every label-0 point strictly on the other (an exact LP feasibility test: ±(w·xᵢ + b) >= 1)."""
    X = _points(points, "linearly_separable", None)
    y = _labels(labels, X.shape[0], "linearly_separable")
    if y.all() or not y.any():
        return True
    signs = np.where(y, 1.0, -1.0)[:, None]
    augmented = np.hstack([X, np.ones((X.shape[0], 1))]) * signs
    # Free variables (w, b) split into positive and negative parts for the simplex.
    return _phase_one_feasible(np.hstack([augmented, -augmented]))


def best_linear_accuracy(points, labels) -> float:
    """Highest training accuracy any linear classifier reaches on (points, labels): the largest
    linearly separable subset, found exactly by trying subsets from the largest down (n <= 16).
    The XOR points give 3/4."""
    X = _points(points, "best_linear_accuracy", None)
    y = _labels(labels, X.shape[0], "best_linear_accuracy")
    n = X.shape[0]
    if n > 16:
        raise ValueError(hint(f"best_linear_accuracy: exhaustive search needs n <= 16, got {n}",
                              "use a linear model (perceptron, logistic regression) instead"))
    for size in range(n, 0, -1):
        for subset in itertools.combinations(range(n), size):
            index = list(subset)
            if linearly_separable(X[index], y[index]):
                return size / n
    return 0.0


# ------------------------------------------------------------------------------------- shattering
def _points(points, func: str, family: str | None) -> np.ndarray:
    X = as_float_array(points, func, "points")
    one_dimensional = family in ("thresholds", "intervals")
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] == 0:
        raise ShapeError(hint(f"{func}: 'points' must be a non-empty (n, d) array, got shape "
                              f"{np.shape(points)}", "one row per point"))
    expected = 1 if one_dimensional else 2 if family in ("rectangles", "linear-2d") else None
    if expected is not None and X.shape[1] != expected:
        raise ShapeError(hint(f"{func}: family {family!r} needs points in ℝ^{expected}, got shape "
                              f"{X.shape}", f"pass an (n, {expected}) array of points"))
    return X


def _labels(labels, n: int, func: str) -> np.ndarray:
    y = np.asarray(labels)
    if y.shape != (n,) or not np.all((y == 0) | (y == 1)):
        raise ValueError(hint(f"{func}: 'labels' must be {n} values in {{0, 1}}, got {labels!r}",
                              "one 0/1 label per point"))
    return y.astype(bool)


def _realisable(X: np.ndarray, labelings: np.ndarray, family: str) -> np.ndarray:
    """Which rows of the boolean (L, n) ``labelings`` some hypothesis of ``family`` produces."""
    if family in ("thresholds", "intervals", "rectangles"):
        coords = X[None, :, :]
        positive = labelings[:, :, None]
        low = np.where(positive, coords, np.inf).min(axis=1)  # (L, d)
        high = np.where(positive, coords, -np.inf).max(axis=1)
        if family == "thresholds":
            high = np.full_like(high, np.inf)  # 1[x >= t]: everything right of the lowest positive
        inside = np.all((coords >= low[:, None, :]) & (coords <= high[:, None, :]), axis=2)
        return ~np.any(inside & ~labelings, axis=1)
    return np.array([linearly_separable(X, row) for row in labelings])


def can_realize(points, labels, family: str) -> bool:
    """True when some hypothesis of ``family`` (see :data:`FAMILIES`) gives exactly these labels."""
    family = check_choice(family, FAMILIES, "can_realize", "family")
    X = _points(points, "can_realize", family)
    y = _labels(labels, X.shape[0], "can_realize")
    return bool(_realisable(X, y[None, :], family)[0])


def shatters(points, family: str) -> bool:
    """True when ``family`` realises all 2ⁿ labelings of the n points (definition of shattering).

    points: (n,) for the 1-D families, (n, 2) for rectangles and linear-2d, (n, d) for linear.
    """
    family = check_choice(family, FAMILIES, "shatters", "family")
    X = _points(points, "shatters", family)
    n = X.shape[0]
    if n > 16:
        raise ValueError(hint(f"shatters: {n} points means 2^{n} labelings to check",
                              "use at most 16 points"))
    if family in ("linear", "linear-2d"):
        # Complementary labelings are realised together (negate w, b): check those with point 0 off.
        codes = np.arange(2 ** (n - 1))
        labelings = ((codes[:, None] >> np.arange(n - 1)) & 1).astype(bool)
        labelings = np.hstack([np.zeros((labelings.shape[0], 1), bool), labelings])
        return all(linearly_separable(X, row) for row in labelings)
    codes = np.arange(2**n)
    labelings = ((codes[:, None] >> np.arange(n)) & 1).astype(bool)
    return bool(np.all(_realisable(X, labelings, family)))


def _candidate_sets(family: str, k: int, dim: int, n_candidates: int, generator) -> list:
    if family in ("thresholds", "intervals"):
        return [np.arange(k, dtype=np.float64)]  # only the order of 1-D points matters: exhaustive
    angles = 2 * np.pi * np.arange(k) / k
    candidates = []
    if family in ("rectangles", "linear-2d") or (family == "linear" and dim == 2):
        # A regular k-gon (a diamond for k = 4) and its slightly rotated copy.
        candidates += [np.column_stack([np.cos(angles + t), np.sin(angles + t)]) for t in (0, 0.3)]
    if family == "linear" and dim != 2:
        candidates.append(np.vstack([np.zeros(dim), np.eye(dim)])[:k] if k <= dim + 1 else None)
        candidates = [c for c in candidates if c is not None]
    d = 2 if family in ("rectangles", "linear-2d") else dim
    candidates += [generator.standard_normal((k, d)) for _ in range(n_candidates)]
    return candidates


def vc_dimension(family: str, max_points: int | None = None, dim: int = 2,
                 n_candidates: int = 30, rng=0, return_witness: bool = False):
    """VC dimension of a hypothesis family by search: the largest k for which a shattered set of k
    points is found among candidate sets (regular polygons, the unit simplex, random points).

    Shattering is hereditary (subsets of a shattered set are shattered), so the search stops at
    the first k with no shattered candidate. For the 1-D families the single candidate is exact
    (only the order of the points matters); for the others the result is the largest set found —
    a lower bound that matches the theory: thresholds 1, intervals 2, rectangles 4, linear-2d 3,
    linear in ℝ^dim dim + 1. ``return_witness=True`` also returns the shattered point set.
    """
    family = check_choice(family, FAMILIES, "vc_dimension", "family")
    dim = 2 if family == "linear-2d" else check_count(dim, "vc_dimension", "dim", minimum=1)
    default_max = {"thresholds": 3, "intervals": 4, "rectangles": 6, "linear-2d": 5,
                   "linear": dim + 3}[family]
    max_points = default_max if max_points is None else check_count(
        max_points, "vc_dimension", "max_points", minimum=1)
    generator = as_generator(rng, "vc_dimension")
    best, witness = 0, None
    for k in range(1, max_points + 1):
        found = next((c for c in _candidate_sets(family, k, dim, n_candidates, generator)
                      if shatters(c, family)), None)
        if found is None:
            break
        best, witness = k, found
    else:
        warnings.warn(hint(f"vc_dimension: a set of max_points={max_points} points was shattered, "
                           f"so the VC dimension of {family!r} is at least {max_points}",
                           "raise max_points to search further"), RuntimeWarning, stacklevel=2)
    return (best, witness) if return_witness else best
