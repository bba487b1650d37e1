"""Small synthetic datasets for the course's demos, each seeded.

Every function returns NumPy arrays ``(X, y)``: ``X`` float64 of shape ``(n_samples, n_features)``
and ``y`` int64 class labels (float64 targets for ``make_linear``). ``random_state`` is an int
seed, a ``numpy.random.Generator``, or ``None`` for groundup's global generator (reproducible after
``groundup.manual_seed``). The geometry of ``make_moons``, ``make_circles`` and ``make_blobs``
follows scikit-learn's generators of the same name (same points before noise and shuffling).
"""

from __future__ import annotations

import numpy as np

from groundup.data._interop import as_generator
from groundup.errors import hint

__all__ = ["make_xor", "make_moons", "make_circles", "make_spirals", "make_blobs", "make_linear"]


def _check_count(value, name: str, owner: str, minimum: int = 1) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(
            hint(f"{owner}: {name} must be an integer >= {minimum}, got {value!r}",
                 f"e.g. {name}=100")
        )
    return int(value)


def _check_noise(noise, owner: str) -> float:
    noise = 0.0 if noise is None else float(noise)
    if not noise >= 0:
        raise ValueError(hint(f"{owner}: noise must be >= 0, got {noise}",
                              "noise is the standard deviation of the added Gaussian noise"))
    return noise


def _finish(X, y, shuffle: bool, noise: float, generator: np.random.Generator):
    """Shuffle (X, y) together, then add N(0, noise^2) to X (scikit-learn's order)."""
    if shuffle:
        order = generator.permutation(len(X))
        X, y = X[order], y[order]
    if noise > 0:
        X = X + generator.normal(scale=noise, size=X.shape)
    return X, y


def make_xor(n_samples: int = 4, *, noise: float = 0.0, shuffle: bool = False,
             random_state=None):
    """The XOR problem: the corners of the unit square with label ``x1 XOR x2``.

    Point ``i`` is corner ``i mod 4`` of ``(0,0)->0, (0,1)->1, (1,0)->1, (1,1)->0`` plus
    ``N(0, noise^2)`` per coordinate, so the default ``n_samples=4`` is exactly the truth table
    the course uses to show a linear model cannot separate it. Returns ``X (n, 2)``, ``y (n,)``.
    """
    n = _check_count(n_samples, "n_samples", "make_xor")
    noise = _check_noise(noise, "make_xor")
    generator = as_generator(random_state)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    X = corners[np.arange(n) % 4]
    y = (X[:, 0] != X[:, 1]).astype(np.int64)
    return _finish(X, y, shuffle, noise, generator)


def make_moons(n_samples: int = 100, *, shuffle: bool = True, noise: float | None = None,
               random_state=None):
    """Two interleaving half circles (scikit-learn's ``make_moons``).

    ``n // 2`` points ``(cos t, sin t)`` for ``t`` evenly in ``[0, pi]`` (label 0) and the rest
    at ``(1 - cos t, 0.5 - sin t)`` (label 1), then shuffled and noised. ``X (n, 2)``, ``y (n,)``.
    """
    n = _check_count(n_samples, "n_samples", "make_moons")
    noise = _check_noise(noise, "make_moons")
    generator = as_generator(random_state)
    n_out, n_in = n // 2, n - n // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.vstack([
        np.append(np.cos(t_out), 1 - np.cos(t_in)),
        np.append(np.sin(t_out), 1 - np.sin(t_in) - 0.5),
    ]).T
    y = np.hstack([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    return _finish(X, y, shuffle, noise, generator)


def make_circles(n_samples: int = 100, *, shuffle: bool = True, noise: float | None = None,
                 random_state=None, factor: float = 0.8):
    """A large circle (label 0) around a smaller one of radius ``factor`` (label 1), as
    scikit-learn's ``make_circles``: ``n // 2`` points ``(cos t, sin t)`` with ``t`` evenly in
    ``[0, 2 pi)``, the rest ``factor * (cos t, sin t)``. ``X (n, 2)``, ``y (n,)``."""
    n = _check_count(n_samples, "n_samples", "make_circles")
    noise = _check_noise(noise, "make_circles")
    if not 0 <= factor < 1:
        raise ValueError(hint(f"make_circles: factor must be in [0, 1), got {factor}",
                              "factor is the inner radius relative to the outer one"))
    generator = as_generator(random_state)
    n_out, n_in = n // 2, n - n // 2
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.vstack([
        np.append(np.cos(t_out), np.cos(t_in) * factor),
        np.append(np.sin(t_out), np.sin(t_in) * factor),
    ]).T
    y = np.hstack([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    return _finish(X, y, shuffle, noise, generator)


def make_spirals(n_samples: int = 300, *, n_classes: int = 3, noise: float = 0.2,
                 turns: float = 4.0, shuffle: bool = True, random_state=None):
    """Interleaved spiral arms, one per class (the classic non-linear classification demo).

    Class ``k`` gets ``n_samples // n_classes`` points (the first ``n_samples % n_classes``
    classes one more) at radius ``r`` evenly in ``[0, 1]`` and angle
    ``theta = turns * (k + r) + N(0, noise^2)`` radians: ``x = (r sin theta, r cos theta)``.
    ``noise`` perturbs the angle, so every point keeps its radius. ``X (n, 2)``, ``y (n,)``.
    """
    n = _check_count(n_samples, "n_samples", "make_spirals")
    k = _check_count(n_classes, "n_classes", "make_spirals")
    noise = _check_noise(noise, "make_spirals")
    generator = as_generator(random_state)
    counts = np.full(k, n // k) + (np.arange(k) < n % k)
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    radius = np.concatenate([np.linspace(0.0, 1.0, c) for c in counts])
    theta = turns * (y + radius)
    if noise > 0:
        theta = theta + generator.normal(scale=noise, size=n)
    X = np.column_stack([radius * np.sin(theta), radius * np.cos(theta)])
    return _finish(X, y, shuffle, 0.0, generator)


def make_blobs(n_samples: int = 100, n_features: int = 2, *, centers=None,
               cluster_std: float = 1.0, center_box: tuple[float, float] = (-10.0, 10.0),
               shuffle: bool = True, random_state=None, return_centers: bool = False):
    """Isotropic Gaussian clusters (scikit-learn's ``make_blobs``).

    ``centers`` is a number of clusters (default 3, placed uniformly in ``center_box``) or an
    array ``(k, n_features)``. Cluster ``j`` gets ``n // k`` points (the first ``n % k`` one
    more) drawn from ``N(center_j, cluster_std^2 I)``, label ``j``. Returns ``X (n, d)``,
    ``y (n,)``, and the centers ``(k, d)`` when ``return_centers``.
    """
    n = _check_count(n_samples, "n_samples", "make_blobs")
    generator = as_generator(random_state)
    if centers is None or isinstance(centers, (int, np.integer)):
        k = 3 if centers is None else _check_count(centers, "centers", "make_blobs")
        d = _check_count(n_features, "n_features", "make_blobs")
        center_array = generator.uniform(center_box[0], center_box[1], size=(k, d))
    else:
        center_array = np.asarray(centers, dtype=np.float64)
        if center_array.ndim != 2:
            raise ValueError(hint(f"make_blobs: centers has shape {center_array.shape}",
                                  "pass an int or an array of shape (n_centers, n_features)"))
        k, d = center_array.shape
    stds = np.broadcast_to(np.asarray(cluster_std, dtype=np.float64), (k,))
    if np.any(stds < 0):
        raise ValueError(hint(f"make_blobs: cluster_std {cluster_std} is negative",
                              "standard deviations must be >= 0"))
    counts = np.full(k, n // k) + (np.arange(k) < n % k)
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    X = center_array[y] + stds[y, None] * generator.standard_normal(size=(n, d))
    X, y = _finish(X, y, shuffle, 0.0, generator)
    return (X, y, center_array) if return_centers else (X, y)


def make_linear(n_samples: int = 100, n_features: int = 1, *, weights=3.0, bias: float = 4.0,
                noise: float = 0.5, x_range: tuple[float, float] = (0.0, 2.0),
                random_state=None, return_coef: bool = False):
    """Noisy linear data ``y = X w + b + noise * N(0, 1)``, as in the lecture notes
    (``X = 2 * rand(100, 1)``, ``y = 4 + 3 X + 0.5 * randn``: the defaults).

    ``X`` is uniform in ``x_range``, shape ``(n, n_features)``; ``weights`` is a scalar (the same
    weight for every feature) or a vector of length ``n_features``. ``y`` has shape ``(n,)``
    (use ``y[:, None]`` for the notes' column vector). With ``return_coef`` also returns
    ``(w, b)``.
    """
    n = _check_count(n_samples, "n_samples", "make_linear")
    d = _check_count(n_features, "n_features", "make_linear")
    noise = _check_noise(noise, "make_linear")
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), (d,)).copy() \
        if np.ndim(weights) == 0 else np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape != (d,):
        raise ValueError(hint(f"make_linear: weights has {w.size} values for {d} features",
                              "give one weight per feature, or a single number"))
    generator = as_generator(random_state)
    low, high = x_range
    X = low + (high - low) * generator.random((n, d))
    y = X @ w + bias
    if noise > 0:
        y = y + noise * generator.standard_normal(n)
    return (X, y, w, float(bias)) if return_coef else (X, y)
