"""The course's named linear-algebra operations, each a thin, documented layer over NumPy.

Vectors are 1-D arrays, matrices 2-D arrays; everything is computed in float64.
"""

from __future__ import annotations

import warnings

import numpy as np

from groundup.errors import ShapeError, hint
from groundup.math._validate import (
    as_float_array,
    as_float_vector,
    as_matrix,
    check_positive,
)

__all__ = [
    "dot",
    "norm",
    "unit_vector",
    "cosine_similarity",
    "angle_between",
    "project",
    "gram_matrix",
    "matmul_shape",
    "determinant",
    "inverse",
    "solve",
    "eigenvalues",
    "eig",
    "singular_values",
    "condition_number",
    "rank",
    "solve_least_squares",
    "is_symmetric",
    "symmetric_part",
    "definiteness",
    "is_positive_definite",
    "is_positive_semidefinite",
]


def _same_length(u: np.ndarray, v: np.ndarray, func: str, names: tuple[str, str]) -> None:
    if u.shape != v.shape:
        raise ShapeError(
            hint(
                f"{func}: '{names[0]}' has shape {u.shape} but '{names[1]}' has shape {v.shape}",
                "both vectors must have the same number of entries",
            )
        )


def dot(u, v) -> float:
    """Dot product of two vectors of length n: ``u·v = Σᵢ uᵢ vᵢ``."""
    u = as_float_vector(u, "dot", "u")
    v = as_float_vector(v, "dot", "v")
    _same_length(u, v, "dot", ("u", "v"))
    return float(u @ v)


def norm(x, p: float = 2, axis: int | None = None):
    """The p-norm ``‖x‖_p = (Σᵢ |xᵢ|^p)^(1/p)``; p=1 (Manhattan), 2 (Euclidean), ``inf`` (max |xᵢ|).

    ``x`` of any shape is flattened unless ``axis`` is given (then the norm is taken along it,
    like ``torch.linalg.vector_norm``). ``p`` must be >= 1 (below 1 it is not a norm).
    """
    x = as_float_array(x, "norm", "x")
    if p != np.inf:
        p = check_positive(p, "norm", "p")
        if p < 1:
            raise ValueError(
                hint(
                    f"norm: argument 'p' must be >= 1 or inf, got {p!r}",
                    "for p < 1 the triangle inequality fails, so it is not a norm",
                )
            )
    if axis is None:
        x = x.ravel()
        axis = 0
    magnitudes = np.abs(x)
    if p == np.inf:
        result = magnitudes.max(axis=axis, initial=0.0)
    elif p == 1:
        result = magnitudes.sum(axis=axis)
    elif p == 2:
        # Scale by the largest entry so squaring neither overflows nor underflows.
        scale = magnitudes.max(axis=axis, keepdims=True, initial=0.0)
        safe = np.where(scale > 0, scale, 1.0)
        result = np.squeeze(safe, axis) * np.sqrt(((magnitudes / safe) ** 2).sum(axis=axis))
    else:
        scale = magnitudes.max(axis=axis, keepdims=True, initial=0.0)
        safe = np.where(scale > 0, scale, 1.0)
        result = np.squeeze(safe, axis) * ((magnitudes / safe) ** p).sum(axis=axis) ** (1 / p)
    return float(result) if np.ndim(result) == 0 else result


def unit_vector(x) -> np.ndarray:
    """The vector of length 1 pointing like ``x``: ``x / ‖x‖₂`` (shape of ``x``)."""
    x = as_float_vector(x, "unit_vector", "x")
    length = norm(x)
    if length == 0:
        raise ValueError(
            hint(
                "unit_vector: argument 'x' is the zero vector, which has no direction",
                "pass a vector with at least one non-zero entry",
            )
        )
    return x / length


def cosine_similarity(u, v) -> float:
    """``cos θ = u·v / (‖u‖ ‖v‖)`` in [-1, 1] for two non-zero vectors of length n."""
    u = as_float_vector(u, "cosine_similarity", "u")
    v = as_float_vector(v, "cosine_similarity", "v")
    _same_length(u, v, "cosine_similarity", ("u", "v"))
    norm_u, norm_v = norm(u), norm(v)
    if norm_u == 0 or norm_v == 0:
        which = "u" if norm_u == 0 else "v"
        raise ValueError(
            hint(
                f"cosine_similarity: argument '{which}' is the zero vector; the angle is undefined",
                "cosine similarity needs two non-zero vectors",
            )
        )
    # Clip: rounding can push |cos| a hair above 1 for parallel vectors.
    return float(np.clip((u / norm_u) @ (v / norm_v), -1.0, 1.0))


def angle_between(u, v, degrees: bool = False) -> float:
    """The angle ``θ = arccos(u·v / (‖u‖ ‖v‖))`` between two vectors, in radians (or degrees)."""
    angle = float(np.arccos(cosine_similarity(u, v)))
    return float(np.degrees(angle)) if degrees else angle


def project(y, onto) -> np.ndarray:
    """Orthogonal projection of ``y`` onto a vector or onto a matrix's column space.

    Onto a vector u (n,): ``proj_u(y) = (y·u / u·u) u``. Onto a matrix A (n, k): ``A (AᵀA)⁺ Aᵀ y``,
    computed stably as ``A w`` with ``w`` the least-squares solution of ``A w ≈ y``. Shape (n,).
    """
    y = as_float_vector(y, "project", "y")
    target = as_float_array(onto, "project", "onto")
    if target.ndim == 1:
        _same_length(y, target, "project", ("y", "onto"))
        squared_length = target @ target
        if squared_length == 0:
            raise ValueError(
                hint(
                    "project: argument 'onto' is the zero vector",
                    "project onto a non-zero vector (or a matrix with non-zero columns)",
                )
            )
        return (y @ target / squared_length) * target
    if target.ndim != 2 or target.shape[0] != y.shape[0]:
        raise ShapeError(
            hint(
                f"project: 'onto' has shape {target.shape} but 'y' has length {y.shape[0]}",
                "onto must be a vector of the same length or a matrix with that many rows",
            )
        )
    weights, *_ = np.linalg.lstsq(target, y, rcond=None)
    return target @ weights


def gram_matrix(X, of: str = "rows") -> np.ndarray:
    """Matrix of all pairwise dot products: rows ``G = X Xᵀ`` (m, m) or columns ``XᵀX`` (n, n).

    ``G[i, j] = xᵢ·xⱼ``; it is symmetric positive semidefinite. ``of="columns"`` gives the matrix
    ``XᵀX`` of the normal equations.
    """
    X = as_matrix(X, "gram_matrix", "X")
    if of == "rows":
        return X @ X.T
    if of == "columns":
        return X.T @ X
    raise ValueError(
        hint(f"gram_matrix: argument 'of' must be 'rows' or 'columns', got {of!r}",
             "'rows' gives X Xᵀ, 'columns' gives XᵀX")
    )


def matmul_shape(shape_a, shape_b) -> tuple[int, int] | None:
    """Shape of the product of an (m×n) and a (p×q) matrix: (m, q) when n == p, else ``None``."""
    shape_a, shape_b = tuple(int(s) for s in shape_a), tuple(int(s) for s in shape_b)
    if len(shape_a) != 2 or len(shape_b) != 2:
        raise ShapeError(
            hint(
                f"matmul_shape: expected two 2-D shapes, got {shape_a} and {shape_b}",
                "pass (rows, columns) pairs such as (4, 2) and (2, 1)",
            )
        )
    if shape_a[1] != shape_b[0]:
        return None
    return (shape_a[0], shape_b[1])


def determinant(A) -> float:
    """Determinant ``det A`` of a square matrix (by LU factorisation)."""
    return float(np.linalg.det(as_matrix(A, "determinant", "A", square=True)))


def inverse(A) -> np.ndarray:
    """The inverse ``A⁻¹`` (n, n) with ``A A⁻¹ = I``; raises for a singular matrix."""
    A = as_matrix(A, "inverse", "A", square=True)
    try:
        return np.linalg.inv(A)
    except np.linalg.LinAlgError as exc:
        raise ValueError(
            hint(f"inverse: argument 'A' is singular (det = 0): {A.tolist()}",
                 "use solve_least_squares or a pseudo-inverse (np.linalg.pinv)")
        ) from exc


def solve(A, b) -> np.ndarray:
    """The solution x of the square system ``A x = b`` (shape of b), without forming ``A⁻¹``."""
    A = as_matrix(A, "solve", "A", square=True)
    b = as_float_array(b, "solve", "b")
    if b.ndim not in (1, 2) or b.shape[0] != A.shape[0]:
        raise ShapeError(
            hint(f"solve: 'A' has shape {A.shape} but 'b' has shape {b.shape}",
                 f"b needs {A.shape[0]} rows, one per equation")
        )
    try:
        return np.linalg.solve(A, b)
    except np.linalg.LinAlgError as exc:
        raise ValueError(
            hint("solve: argument 'A' is singular, so A x = b has no unique solution",
                 "use solve_least_squares for the minimum-norm least-squares solution")
        ) from exc


def eig(A) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (n,) and unit eigenvectors (columns of an (n, n) matrix) with ``A v = λ v``.

    Sorted by decreasing eigenvalue (real part). Symmetric matrices use ``eigh`` and give real
    results; otherwise values are returned real when every imaginary part is zero.
    """
    A = as_matrix(A, "eig", "A", square=True)
    if is_symmetric(A):
        values, vectors = np.linalg.eigh(A)
    else:
        values, vectors = np.linalg.eig(A)
        if np.all(values.imag == 0):
            values, vectors = values.real, vectors.real
    order = np.argsort(-values.real, kind="stable")
    return values[order], vectors[:, order]


def eigenvalues(A) -> np.ndarray:
    """Eigenvalues λ of a square matrix (roots of ``det(A − λI) = 0``), largest first."""
    return eig(A)[0]


def singular_values(X) -> np.ndarray:
    """Singular values σ₁ >= σ₂ >= ... of X (min(m, n),): ``σᵢ = √λᵢ(XᵀX)``."""
    return np.linalg.svd(as_matrix(X, "singular_values", "X"), compute_uv=False)


def condition_number(A) -> float:
    """2-norm condition number ``κ(A) = σ_max / σ_min`` (``λ_max/λ_min`` for SPD A).

    inf when A is singular to working precision (``σ_min <= σ_max·max(m, n)·ε``).
    """
    sigma = singular_values(A)
    # Singular to working precision (the same cut-off rank() uses): report inf, not ~1e16.
    if sigma[-1] <= sigma[0] * max(np.shape(A)) * np.finfo(np.float64).eps:
        return float("inf")
    return float(sigma[0] / sigma[-1])


def rank(A, tol: float | None = None) -> int:
    """Number of singular values above ``tol`` (default ``σ_max · max(m, n) · ε``, as NumPy)."""
    sigma = singular_values(A)
    if tol is None:
        A_shape = np.shape(A)
        tol = sigma.max(initial=0.0) * max(A_shape) * np.finfo(np.float64).eps
    return int(np.sum(sigma > tol))


def solve_least_squares(X, y, method: str = "lstsq", ridge: float = 0.0) -> np.ndarray:
    """Weights w minimising ``‖X w − y‖² + ridge·‖w‖²``: ``w = (XᵀX + ridge·I)⁻¹ Xᵀ y``.

    X (m, n), y (m,) or (m, k) → w (n,) or (n, k). ``method="normal"`` solves the normal equations
    as written (the course's formula; squares the condition number, and warns when XᵀX is
    singular or ill-conditioned, falling back to lstsq); ``method="lstsq"`` (default) uses an
    SVD-based solver on X directly, the stable choice, and returns the minimum-norm solution when
    X is rank-deficient.
    Every weight is penalised, including an intercept column if X has one.
    """
    X = as_matrix(X, "solve_least_squares", "X")
    y = as_float_array(y, "solve_least_squares", "y")
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ShapeError(
            hint(f"solve_least_squares: 'X' has shape {X.shape} but 'y' has shape {y.shape}",
                 "y needs one target per row of X")
        )
    ridge = check_positive(ridge, "solve_least_squares", "ridge", strict=False)
    n_features = X.shape[1]
    if method == "normal":
        gram = X.T @ X + ridge * np.eye(n_features)
        kappa = condition_number(gram)
        if kappa > 1.0 / np.finfo(np.float64).eps ** 0.75:
            warnings.warn(
                hint(
                    f"solve_least_squares: XᵀX is singular or ill-conditioned "
                    f"(condition number {kappa:.3g}); using the SVD solver instead",
                    "remove duplicate/collinear columns or pass ridge > 0",
                ),
                RuntimeWarning,
                stacklevel=2,
            )
            method = "lstsq"
        else:
            return np.linalg.solve(gram, X.T @ y)
    if method != "lstsq":
        raise ValueError(
            hint(f"solve_least_squares: argument 'method' must be 'lstsq' or 'normal', "
                 f"got {method!r}", "'lstsq' is the stable default")
        )
    if ridge > 0:
        # Ridge as ordinary least squares on X stacked over √ridge·I (and y over zeros).
        X = np.vstack([X, np.sqrt(ridge) * np.eye(n_features)])
        y = np.concatenate([y, np.zeros((n_features,) + y.shape[1:])])
    weights, *_ = np.linalg.lstsq(X, y, rcond=None)
    return weights


def is_symmetric(A, tol: float = 1e-10) -> bool:
    """True when ``A = Aᵀ`` up to ``tol`` relative to the largest entry."""
    A = as_matrix(A, "is_symmetric", "A")
    if A.shape[0] != A.shape[1]:
        return False
    scale = max(1.0, float(np.abs(A).max(initial=0.0)))
    return bool(np.all(np.abs(A - A.T) <= tol * scale))


def symmetric_part(A) -> np.ndarray:
    """``(A + Aᵀ)/2``; the quadratic form ``xᵀAx`` only sees this part of A."""
    A = as_matrix(A, "symmetric_part", "A", square=True)
    return (A + A.T) / 2


def definiteness(A, tol: float | None = None) -> str:
    """Classify the quadratic form ``xᵀAx`` by the eigenvalues of ``(A + Aᵀ)/2``.

    Returns "positive definite" (all λ > 0), "positive semidefinite" (all λ >= 0, some 0),
    "negative definite", "negative semidefinite", "indefinite" (signs mixed) or "zero".
    Eigenvalues within ``tol`` (default ``1e-10·max(1, max|λ|)``) of 0 count as zero.
    """
    values = np.linalg.eigvalsh(symmetric_part(as_matrix(A, "definiteness", "A", square=True)))
    return _classify_eigenvalues(values, tol)


def _classify_eigenvalues(values: np.ndarray, tol: float | None = None) -> str:
    if tol is None:
        tol = 1e-10 * max(1.0, float(np.abs(values).max(initial=0.0)))
    positive = np.sum(values > tol)
    negative = np.sum(values < -tol)
    zero = values.size - positive - negative
    if positive and negative:
        return "indefinite"
    if positive:
        return "positive definite" if zero == 0 else "positive semidefinite"
    if negative:
        return "negative definite" if zero == 0 else "negative semidefinite"
    return "zero"


def is_positive_definite(A, tol: float | None = None) -> bool:
    """True when ``xᵀAx > 0`` for every x ≠ 0, i.e. every eigenvalue of ``(A + Aᵀ)/2`` is > 0."""
    return definiteness(A, tol) == "positive definite"


def is_positive_semidefinite(A, tol: float | None = None) -> bool:
    """True when ``xᵀAx >= 0`` for every x, i.e. no eigenvalue of ``(A + Aᵀ)/2`` is < 0."""
    return definiteness(A, tol) in ("positive definite", "positive semidefinite", "zero")
