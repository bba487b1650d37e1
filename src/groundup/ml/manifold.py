"""t-SNE: a 2-D (or 3-D) map whose neighbourhoods match those of the data.

t-SNE turns distances into probabilities twice and moves the map points to make the two agree:

* in the data, ``p_{j|i} ∝ exp(-β_i ||x_i - x_j||²)`` with each ``β_i`` found by bisection so the
  row's perplexity ``2^{H(P_i)}`` equals ``perplexity``; then ``p_ij = (p_{j|i} + p_{i|j}) / Σ``;
* in the map, a heavy-tailed Student-t kernel ``q_ij = w_ij / Z``, ``w_ij = (1 + ||y_i - y_j||²)^-1``,
  ``Z = Σ_{k≠l} w_kl``;
* gradient descent on ``KL(P || Q) = Σ p_ij log(p_ij / q_ij)``, whose gradient is
  ``∂KL/∂y_i = 4 Σ_j (p_ij - q_ij) w_ij (y_i - y_j)`` — attraction along P's edges minus repulsion
  from every point — with "early exaggeration" (P multiplied by 12 for the first 250 steps),
  momentum and per-coordinate gains, exactly scikit-learn's optimiser.

``method="exact"`` evaluates everything on the full n×n matrices (O(n²) memory; small data).

``method="barnes_hut"`` (the default, scikit-learn's name for its fast method) is O(n) per step, but
does not use a quadtree, which cannot be vectorised in NumPy. Instead:

* P is sparse: each point keeps only its ``k = 3·perplexity + 1`` nearest neighbours (as
  scikit-learn does), so attraction is a sum over ~``n·k`` edges (two ``bincount`` calls);
* repulsion uses FIt-SNE's interpolation (Linderman et al., Nature Methods 2019): the map is covered
  by square boxes of side ≤ 1 with 3×3 equispaced nodes each; every point spreads its "charges"
  ``(1, y, ||y||²)`` onto the 9 nodes of its box by quadratic Lagrange interpolation, the charges are
  convolved with the kernel ``w²`` on the node grid by FFT, and the potentials are interpolated back.
  All repulsive sums and ``Z`` follow from those four convolutions (``w = w²·(1 + ||y_i - y_j||²)``).
  ``angle`` is accepted for scikit-learn compatibility; accuracy is set by the grid instead.
"""

from __future__ import annotations

import numbers

import numpy as np

from groundup.errors import hint
from groundup.ml.base import BaseEstimator
from groundup.ml.decomposition import PCA
from groundup.ml.validation import check_array, check_n_features, check_random_state

__all__ = ["TSNE", "joint_probabilities"]

_MACHINE_EPSILON = np.finfo(np.double).eps
_EXPLORATION_ITERS = 250  # early-exaggeration phase, as scikit-learn
_CHECK_EVERY = 50


def _squared_distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``||a_i - b_j||²`` for all pairs via ``|a|² + |b|² - 2 a·b`` (one matrix product)."""
    d = (A * A).sum(axis=1)[:, None] + (B * B).sum(axis=1)[None, :] - 2.0 * (A @ B.T)
    return np.maximum(d, 0.0, out=d)


def _binary_search_perplexity(sq_dist: np.ndarray, perplexity: float, mask_self: bool,
                              n_steps: int = 100, tol: float = 1e-5) -> np.ndarray:
    """Conditional probabilities ``p_{j|i}`` (rows sum to 1) with every row's entropy equal to
    ``log(perplexity)``: a bisection on the precisions ``β_i``, run on all rows at once."""
    n = sq_dist.shape[0]
    desired_entropy = np.log(perplexity)
    beta = np.ones(n)
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    active = np.ones(n, dtype=bool)
    P = np.zeros_like(sq_dist)
    for _ in range(n_steps):  # bisection steps, vectorised over rows
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        d = sq_dist[rows]
        p = np.exp(-d * beta[rows, None])
        if mask_self:
            p[np.arange(len(rows)), rows] = 0.0
        total = p.sum(axis=1)
        total[total == 0.0] = 1e-8
        p /= total[:, None]
        entropy = np.log(total) + beta[rows] * (d * p).sum(axis=1)
        P[rows] = p
        diff = entropy - desired_entropy
        done = np.abs(diff) <= tol
        up = (diff > 0) & ~done  # entropy too high: sharpen (raise β)
        down = (diff <= 0) & ~done
        b = beta[rows]
        lo_r, hi_r = lo[rows], hi[rows]
        lo_r = np.where(up, b, lo_r)
        hi_r = np.where(down, b, hi_r)
        b_up = np.where(np.isinf(hi_r), b * 2.0, (b + hi_r) / 2.0)
        b_down = np.where(np.isinf(lo_r), b / 2.0, (b + lo_r) / 2.0)
        beta[rows] = np.where(up, b_up, np.where(down, b_down, b))
        lo[rows], hi[rows] = lo_r, hi_r
        active[rows[done]] = False
    return P


def _nearest_neighbours(X: np.ndarray, k: int, block: int = 1024):
    """Indices (n, k) and squared distances (n, k) of each row's k nearest other rows, sorted by
    distance; computed block by block so memory stays O(block·n)."""
    n = X.shape[0]
    norms = (X * X).sum(axis=1)
    indices = np.empty((n, k), dtype=np.intp)
    distances = np.empty((n, k))
    for start in range(0, n, block):  # one matrix product per block of rows
        stop = min(start + block, n)
        d = norms[start:stop, None] + norms[None, :] - 2.0 * (X[start:stop] @ X.T)
        np.maximum(d, 0.0, out=d)
        d[np.arange(stop - start), np.arange(start, stop)] = np.inf  # not its own neighbour
        part = np.argpartition(d, k - 1, axis=1)[:, :k]
        part_d = np.take_along_axis(d, part, axis=1)
        order = np.argsort(part_d, axis=1, kind="stable")
        indices[start:stop] = np.take_along_axis(part, order, axis=1)
        distances[start:stop] = np.take_along_axis(part_d, order, axis=1)
    return indices, distances


def joint_probabilities(X, perplexity: float = 30.0, n_neighbors: int | None = None):
    """The symmetric affinities ``p_ij = (p_{j|i} + p_{i|j}) / Σ`` of t-SNE.

    With ``n_neighbors=None``: a dense (n, n) matrix over all pairs. Otherwise a sparse result
    ``(rows, cols, values)`` over the ``n_neighbors`` nearest neighbours of each point (and their
    mirror images), each pair once per direction; values sum to 1.
    """
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if n_neighbors is None:
        conditional = _binary_search_perplexity(_squared_distances(X, X), perplexity, True)
        P = conditional + conditional.T
        P /= max(P.sum(), _MACHINE_EPSILON)
        return np.maximum(P, 0.0)
    neighbours, sq_dist = _nearest_neighbours(X, n_neighbors)
    conditional = _binary_search_perplexity(sq_dist, perplexity, False)
    rows = np.repeat(np.arange(n), n_neighbors)
    cols = neighbours.ravel()
    # P + Pᵀ on the union of both directions, duplicates summed
    keys = np.concatenate([rows * n + cols, cols * n + rows])
    values = np.concatenate([conditional.ravel(), conditional.ravel()])
    unique_keys, inverse = np.unique(keys, return_inverse=True)
    summed = np.bincount(inverse, weights=values)
    summed /= max(summed.sum(), _MACHINE_EPSILON)
    return unique_keys // n, unique_keys % n, summed


def _exact_kl_and_grad(Y, P, dof, compute_error=True):
    """KL(P||Q) and its gradient on the full matrices (Student-t with ``dof`` degrees of freedom)."""
    sq = _squared_distances(Y, Y)
    w = (1.0 + sq / dof) ** (-(dof + 1.0) / 2.0)
    np.fill_diagonal(w, 0.0)
    Q = np.maximum(w / w.sum(), _MACHINE_EPSILON)
    kl = float(np.sum(P * np.log(np.maximum(P, _MACHINE_EPSILON) / Q))) if compute_error else np.nan
    # ∂KL/∂y_i = c Σ_j (p_ij - q_ij) w_ij (y_i - y_j), c = 2(dof+1)/dof (scikit-learn's form)
    PQd = (P - Q) * w
    grad = (PQd.sum(axis=1)[:, None] * Y - PQd @ Y) * (2.0 * (dof + 1.0) / dof)
    return kl, grad


def _next_fast_size(n: int) -> int:
    """Smallest 2^a·3^b·5^c ≥ n (sizes pocketfft transforms fastest)."""
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            size = p35
            while size < n:
                size *= 2
            best = min(best, size)
            p35 *= 3
        p5 *= 5
    return best


# Lagrange basis for 3 nodes at 0.5, 1.5, 2.5 (in units of the node spacing) within a box
def _lagrange3(t: np.ndarray) -> np.ndarray:
    return np.stack([(t - 1.5) * (t - 2.5) / 2.0, -(t - 0.5) * (t - 2.5),
                     (t - 0.5) * (t - 1.5) / 2.0], axis=-1)


def _interpolated_repulsion(Y: np.ndarray, min_boxes: int = 50, box_width: float = 1.0):
    """Repulsive sums for 2-D ``Y`` by FFT on an interpolation grid (FIt-SNE).

    Returns ``(rep, Z)``: ``rep_i = Σ_j w_ij² (y_i - y_j)`` (n, 2) and ``Z = Σ_{i≠j} w_ij``,
    ``w_ij = 1 / (1 + ||y_i - y_j||²)``.
    """
    n = Y.shape[0]
    lo = Y.min(axis=0)
    span = float((Y.max(axis=0) - lo).max()) * (1 + 1e-9) + 1e-12
    n_boxes = max(min_boxes, int(np.ceil(span / box_width)))
    n_nodes = 3 * n_boxes
    h = span / n_nodes  # node spacing
    size = _next_fast_size(2 * n_nodes)

    # local coordinates: box index and position within the box in node units
    scaled = (Y - lo) / h  # in [0, n_nodes)
    box = np.minimum((scaled // 3).astype(np.intp), n_boxes - 1)
    t = scaled - 3 * box
    wx, wy = _lagrange3(t[:, 0]), _lagrange3(t[:, 1])  # (n, 3) each
    base_x, base_y = 3 * box[:, 0], 3 * box[:, 1]
    node = ((base_x[:, None, None] + np.arange(3)[None, :, None]) * n_nodes
            + base_y[:, None, None] + np.arange(3)[None, None, :]).reshape(n, 9)
    weight = (wx[:, :, None] * wy[:, None, :]).reshape(n, 9)

    sq_norm = (Y * Y).sum(axis=1)
    charges = (np.ones(n), Y[:, 0], Y[:, 1], sq_norm)
    flat_node = node.ravel()
    # float32 grids: NumPy's FFT then runs in single precision, twice as fast, and the
    # interpolation error (~1e-2) dwarfs the rounding error (~1e-7)
    grids = np.zeros((4, size, size), dtype=np.float32)
    for c, charge in enumerate(charges):  # 4 charge kinds, each one bincount
        grids[c, :n_nodes, :n_nodes] = np.bincount(
            flat_node, weights=(weight * charge[:, None]).ravel(), minlength=n_nodes * n_nodes
        ).reshape(n_nodes, n_nodes)

    offsets = np.arange(size)
    offsets = np.where(offsets <= size // 2, offsets, offsets - size) * h
    kernel = (1.0 / (1.0 + offsets[:, None] ** 2 + offsets[None, :] ** 2) ** 2).astype(np.float32)
    potentials = np.fft.irfft2(np.fft.rfft2(grids) * np.fft.rfft2(kernel)[None], s=(size, size))
    potentials = potentials[:, :n_nodes, :n_nodes].reshape(4, -1).astype(np.float64)

    phi = np.einsum("nk,cnk->cn", weight, potentials[:, node])  # (4, n) at the points
    phi0, phix, phiy, phi2 = phi
    # Σ_j w_ij = Σ_j w_ij² (1 + |y_i|² - 2 y_i·y_j + |y_j|²); subtract the self term w_ii = 1
    Z = float(np.sum((1.0 + sq_norm) * phi0 - 2.0 * (Y[:, 0] * phix + Y[:, 1] * phiy) + phi2) - n)
    rep = np.stack([Y[:, 0] * phi0 - phix, Y[:, 1] * phi0 - phiy], axis=1)
    return rep, Z


def _exact_repulsion(Y: np.ndarray, block: int = 2048):
    """``rep_i = Σ_j w_ij² (y_i - y_j)`` and ``Z`` by blocks of rows (any dimension; O(n²))."""
    n = Y.shape[0]
    rep = np.empty_like(Y)
    Z = 0.0
    for start in range(0, n, block):  # one matrix product per block of rows
        stop = min(start + block, n)
        w = 1.0 / (1.0 + _squared_distances(Y[start:stop], Y))
        w[np.arange(stop - start), np.arange(start, stop)] = 0.0
        Z += float(w.sum())
        w2 = w * w
        rep[start:stop] = w2.sum(axis=1)[:, None] * Y[start:stop] - w2 @ Y
    return rep, Z


def _sparse_kl_and_grad(Y, rows, cols, values, compute_error=True):
    """KL(P||Q) over P's edges and its gradient ``4 (attraction - repulsion / Z)`` (Student-t, 1 dof)."""
    n = Y.shape[0]
    diff = Y[rows] - Y[cols]
    w = 1.0 / (1.0 + (diff * diff).sum(axis=1))
    pw = values * w
    attraction = np.stack([np.bincount(rows, weights=pw * diff[:, d], minlength=n)
                           for d in range(Y.shape[1])], axis=1)
    if Y.shape[1] == 2:
        rep, Z = _interpolated_repulsion(Y)
    else:
        rep, Z = _exact_repulsion(Y)
    Z = max(Z, _MACHINE_EPSILON)
    grad = 4.0 * (attraction - rep / Z)
    kl = np.nan
    if compute_error:
        q = np.maximum(w / Z, _MACHINE_EPSILON)
        kl = float(np.sum(values * np.log(np.maximum(values, _MACHINE_EPSILON) / q)))
    return kl, grad


class TSNE(BaseEstimator):
    """t-distributed Stochastic Neighbor Embedding (scikit-learn's interface and optimiser).

    ``fit_transform(X)`` maps X (n_samples, n_features) to ``embedding_`` (n_samples, n_components)
    minimising ``KL(P || Q)``; there is no ``transform`` for new points (t-SNE is not parametric).

    Parameters
    ----------
    n_components : dimension of the map (2 or 3 for plots).
    perplexity : effective number of neighbours (5-50); must be less than n_samples.
    early_exaggeration : factor on P for the first 250 iterations (pulls clusters together).
    learning_rate : float or "auto" = ``max(n_samples / early_exaggeration / 4, 50)``.
    max_iter : total iterations (at least 250).
    n_iter_without_progress : stop when the KL has not improved for this many iterations.
    min_grad_norm : stop when the gradient norm falls below this.
    init : "pca" (PCA projection scaled to std 1e-4, stable across runs) or "random"
        (N(0, 1e-4²)), or an array (n_samples, n_components).
    method : "barnes_hut" (O(n) per step: sparse kNN P and FFT-interpolated repulsion, see the
        module docstring) or "exact" (O(n²)).
    angle : accepted for scikit-learn compatibility; unused (see the module docstring).
    random_state : seed, Generator or None (used by init="random").

    Attributes
    ----------
    embedding_ : (n_samples, n_components); kl_divergence_ : final KL(P||Q);
    n_iter_ : index of the last iteration run; learning_rate_ : the step size used;
    n_features_in_.
    """

    def __init__(self, n_components=2, *, perplexity=30.0, early_exaggeration=12.0,
                 learning_rate="auto", max_iter=1000, n_iter_without_progress=300,
                 min_grad_norm=1e-7, init="pca", method="barnes_hut", angle=0.5,
                 random_state=None):
        self.n_components = n_components
        self.perplexity = perplexity
        self.early_exaggeration = early_exaggeration
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.n_iter_without_progress = n_iter_without_progress
        self.min_grad_norm = min_grad_norm
        self.init = init
        self.method = method
        self.angle = angle
        self.random_state = random_state

    def _check_params(self, n_samples: int, n_features: int) -> None:
        """Validate every parameter against the data's shape before any work."""
        if isinstance(self.n_components, bool) or not isinstance(self.n_components,
                                                                  numbers.Integral):
            raise TypeError(hint(f"n_components={self.n_components!r} is not an int",
                                 "pass the map dimension, usually 2"))
        if self.n_components < 1:
            raise ValueError(hint(f"n_components={self.n_components} must be >= 1",
                                  "pass the map dimension, usually 2"))
        if self.method not in ("barnes_hut", "exact"):
            raise ValueError(hint(f"method={self.method!r} is not 'barnes_hut' or 'exact'",
                                  "use 'exact' for small data, 'barnes_hut' otherwise"))
        if self.method == "barnes_hut" and self.n_components > 3:
            raise ValueError(hint(
                f"method='barnes_hut' supports n_components of 1 to 3, got {self.n_components}",
                "use method='exact' for higher-dimensional maps"))
        if not (isinstance(self.perplexity, numbers.Real) and self.perplexity > 0):
            raise ValueError(hint(f"perplexity={self.perplexity!r} must be a positive number",
                                  "typical values are 5 to 50"))
        if self.perplexity >= n_samples:
            raise ValueError(hint(
                f"perplexity={self.perplexity} must be less than n_samples={n_samples}",
                f"lower perplexity below {n_samples} (about n_samples / 3 or less works best)",
            ))
        if not (isinstance(self.early_exaggeration, numbers.Real)
                and self.early_exaggeration >= 1):
            raise ValueError(hint(f"early_exaggeration={self.early_exaggeration!r} must be >= 1",
                                  "the usual value is 12"))
        if not (self.learning_rate == "auto" or (isinstance(self.learning_rate, numbers.Real)
                                                 and self.learning_rate > 0)):
            raise ValueError(hint(f"learning_rate={self.learning_rate!r} must be 'auto' or > 0",
                                  "use 'auto'"))
        if not isinstance(self.max_iter, numbers.Integral) or self.max_iter < _EXPLORATION_ITERS:
            raise ValueError(hint(f"max_iter={self.max_iter!r} must be an int >= 250",
                                  "the first 250 iterations are early exaggeration; use >= 250"))
        if isinstance(self.init, str):
            if self.init not in ("pca", "random"):
                raise ValueError(hint(f"init={self.init!r} is not 'pca', 'random' or an array",
                                      "use init='pca'"))
            if self.init == "pca" and self.n_components > min(n_samples, n_features):
                raise ValueError(hint(
                    f"init='pca' needs n_components={self.n_components} <= "
                    f"min(n_samples, n_features)={min(n_samples, n_features)}",
                    "use init='random' or fewer components"))
        else:
            shape = np.shape(self.init)
            if shape != (n_samples, self.n_components):
                raise ValueError(hint(
                    f"init array has shape {shape}, expected ({n_samples}, {self.n_components})",
                    "pass one starting point per sample"))

    def _initial_embedding(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if isinstance(self.init, str) and self.init == "pca":
            Y = PCA(self.n_components).fit_transform(X)
            std = np.std(Y[:, 0])
            return Y / (std if std > 0 else 1.0) * 1e-4
        if isinstance(self.init, str):
            return 1e-4 * rng.standard_normal((X.shape[0], self.n_components))
        return np.array(self.init, dtype=np.float64)

    def fit_transform(self, X, y=None):
        """Embed ``X`` (n_samples, n_features); returns ``embedding_`` (n_samples, n_components)."""
        X = check_array(X, name="X", ensure_min_samples=2)
        n_samples, n_features = X.shape
        self._check_params(n_samples, n_features)
        check_n_features(self, X, reset=True)
        rng = check_random_state(self.random_state)
        if self.learning_rate == "auto":
            self.learning_rate_ = max(n_samples / self.early_exaggeration / 4.0, 50.0)
        else:
            self.learning_rate_ = float(self.learning_rate)
        dof = max(self.n_components - 1, 1)

        if self.method == "exact":
            P = joint_probabilities(X, self.perplexity)

            def objective(Y, exaggeration, compute_error):
                return _exact_kl_and_grad(Y, P * exaggeration, dof, compute_error)
        else:
            k = min(n_samples - 1, int(3.0 * self.perplexity + 1))
            rows, cols, values = joint_probabilities(X, self.perplexity, n_neighbors=k)

            def objective(Y, exaggeration, compute_error):
                return _sparse_kl_and_grad(Y, rows, cols, values * exaggeration, compute_error)

        Y = self._initial_embedding(X, rng)
        Y, kl, it = self._gradient_descent(objective, Y, start=0, stop=_EXPLORATION_ITERS,
                                           momentum=0.5, exaggeration=self.early_exaggeration,
                                           patience=_EXPLORATION_ITERS)
        if it < _EXPLORATION_ITERS - 1 or self.max_iter > _EXPLORATION_ITERS:
            Y, kl, it = self._gradient_descent(objective, Y, start=it + 1, stop=self.max_iter,
                                               momentum=0.8, exaggeration=1.0,
                                               patience=self.n_iter_without_progress)
        self.embedding_ = Y
        self.kl_divergence_ = float(kl)
        self.n_iter_ = int(it)
        return Y

    def fit(self, X, y=None):
        """Compute the embedding of ``X`` (see :meth:`fit_transform`); returns ``self``."""
        self.fit_transform(X)
        return self

    def _gradient_descent(self, objective, Y, *, start, stop, momentum, exaggeration, patience):
        """scikit-learn's t-SNE optimiser: momentum, adaptive gains (+0.2 when the gradient flips
        sign against the update, ×0.8 otherwise, at least 0.01), progress checked every 50 steps.
        """
        Y = Y.copy()
        update = np.zeros_like(Y)
        gains = np.ones_like(Y)
        error = best_error = np.finfo(float).max
        best_iter = i = start
        for i in range(start, stop):
            check = (i + 1) % _CHECK_EVERY == 0
            error, grad = objective(Y, exaggeration, check or i == stop - 1)
            same_direction = update * grad < 0.0
            gains = np.where(same_direction, gains + 0.2, gains * 0.8)
            np.maximum(gains, 0.01, out=gains)
            grad *= gains
            update = momentum * update - self.learning_rate_ * grad
            Y += update
            if check:
                if error < best_error:
                    best_error, best_iter = error, i
                elif i - best_iter > patience:
                    break
                if np.linalg.norm(grad) <= self.min_grad_norm:
                    break
        return Y, error, i
