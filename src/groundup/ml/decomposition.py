"""Principal component analysis: the orthogonal directions of largest variance.

PCA centres the data, ``X_c = X - mean``, and finds the eigenvectors of the covariance matrix
``C = X_cᵀ X_c / (m - 1)``; equivalently the right singular vectors of ``X_c = U S Vᵀ``, with
eigenvalues ``λ_k = s_k² / (m - 1)``. Projecting onto the top ``k`` eigenvectors keeps the fraction
``Σ_{j≤k} λ_j / Σ_j λ_j`` of the variance.

Two routes compute the same thing:

* ``"svd"``: the thin SVD of ``X_c`` (m×n). Accurate even for tiny eigenvalues; costs ``O(m n²)``
  with a large constant.
* ``"eigh"``: the eigendecomposition of the n×n covariance. ``X ᵀ X`` is one symmetric BLAS call
  (``O(m n²)`` with a small constant) and the eigh is ``O(n³)``, so for tall data (many more
  samples than features, e.g. MNIST 60000×784) it is several times faster. It squares the
  condition number, so eigenvalues below ``~1e-8·λ_max`` lose their relative accuracy.

``"auto"`` picks ``eigh`` for tall, narrow data (``n_features ≤ 1000`` and
``n_samples ≥ 10·n_features``, scikit-learn's rule) and ``svd`` otherwise.
"""

from __future__ import annotations

import numbers

import numpy as np

from groundup.errors import hint
from groundup.ml.base import BaseEstimator, TransformerMixin, check_is_fitted
from groundup.ml.validation import check_array, check_n_features

__all__ = ["PCA"]


def _flip_signs(components: np.ndarray) -> np.ndarray:
    """Make each component's largest-magnitude entry positive (scikit-learn's ``svd_flip`` with
    ``u_based_decision=False``), so the result does not depend on the LAPACK routine used."""
    largest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(len(components)), largest])
    signs[signs == 0] = 1.0
    return components * signs[:, None]


class PCA(TransformerMixin, BaseEstimator):
    """Principal component analysis (linear dimensionality reduction).

    ``transform(X) = (X - mean_) @ components_.T`` of shape (n_samples, n_components_), divided by
    ``sqrt(explained_variance_)`` when ``whiten``; ``inverse_transform`` maps back.

    Parameters
    ----------
    n_components : int, float in (0, 1), or None
        Number of components to keep; a float keeps the fewest components whose cumulative
        explained-variance ratio is ``>= n_components`` (the course's rule; ties at exactly the
        target count as reached, where scikit-learn asks for strictly more); ``None`` keeps
        ``min(n_samples, n_features)``.
    solver : {"auto", "svd", "eigh"}
        ``"svd"`` = scikit-learn's ``svd_solver="full"``; ``"eigh"`` = its ``"covariance_eigh"``.
    whiten : bool
        Scale the projections to unit variance.
    ddof : {1, 0}
        Divisor ``m - ddof`` of the covariance. ``1`` (default) is scikit-learn's and the course's
        Sec. 12.2 convention ``1/(m-1)``; ``0`` gives the ``1/m`` form used in the course's
        exercises Q12.2/Q12.7. Ratios and components do not depend on it.
    random_state : ignored
        Accepted for scikit-learn compatibility; both solvers are deterministic.

    Attributes
    ----------
    components_ : (n_components_, n_features) unit-norm principal axes, by decreasing variance.
    explained_variance_ : (n_components_,) eigenvalues ``λ_k = s_k² / (m - ddof)``.
    explained_variance_ratio_ : (n_components_,) ``λ_k / Σ_j λ_j`` over all eigenvalues.
    singular_values_ : (n_components_,) singular values ``s_k`` of the centred data.
    mean_ : (n_features,) per-feature mean.
    noise_variance_ : mean of the discarded eigenvalues (0 when none are discarded).
    n_components_, n_features_in_, n_samples_.
    """

    def __init__(self, n_components=None, *, solver="auto", whiten=False, ddof=1,
                 random_state=None):
        self.n_components = n_components
        self.solver = solver
        self.whiten = whiten
        self.ddof = ddof
        self.random_state = random_state

    def _check_params(self, n_samples: int, n_features: int) -> str:
        """Validate parameters against the data's shape (before any work); return the route."""
        limit = min(n_samples, n_features)
        k = self.n_components
        if k is not None:
            if isinstance(k, bool) or not isinstance(k, numbers.Real):
                raise TypeError(hint(f"n_components={k!r} is not a number",
                                     "pass an int, a float in (0, 1), or None"))
            if isinstance(k, numbers.Integral):
                if not 1 <= k <= limit:
                    raise ValueError(hint(
                        f"n_components={k} must be between 1 and min(n_samples, n_features)="
                        f"min({n_samples}, {n_features})={limit}",
                        f"keep at most {limit} components, or pass a float in (0, 1) for a "
                        "variance target",
                    ))
            elif not 0 < k < 1:
                raise ValueError(hint(
                    f"n_components={k} is a float outside (0, 1)",
                    "a float is the fraction of variance to keep, e.g. 0.95; pass an int for a count",
                ))
        if self.solver not in ("auto", "svd", "eigh"):
            raise ValueError(hint(f"solver={self.solver!r} is not one of 'auto', 'svd', 'eigh'",
                                  "use 'auto' to pick by the data's shape"))
        if self.ddof not in (0, 1):
            raise ValueError(hint(f"ddof={self.ddof!r} is not 0 or 1",
                                  "ddof=1 divides by m-1 (scikit-learn), ddof=0 by m"))
        if n_samples - self.ddof <= 0:
            raise ValueError(hint(
                f"X has {n_samples} sample(s): the variance with ddof={self.ddof} is undefined",
                "pass at least 2 samples, or ddof=0",
            ))
        if self.solver != "auto":
            return self.solver
        return "eigh" if n_features <= 1000 and n_samples >= 10 * n_features else "svd"

    def fit(self, X, y=None):
        """Learn the mean and principal axes of ``X`` (n_samples, n_features); returns ``self``."""
        self._fit(X)
        return self

    def _fit(self, X):
        X = check_array(X, name="X")
        n_samples, n_features = X.shape
        route = self._check_params(n_samples, n_features)
        check_n_features(self, X, reset=True)
        mean = X.mean(axis=0)
        divisor = n_samples - self.ddof
        if route == "svd":
            centred = X - mean
            _, singular, vt = np.linalg.svd(centred, full_matrices=False)
            eigenvalues = singular**2 / divisor
        else:
            # X.T @ X on the same buffer is a single symmetric BLAS call (syrk); centring via the
            # rank-one correction avoids materialising X - mean (scikit-learn does the same).
            scatter = X.T @ X
            scatter -= n_samples * np.outer(mean, mean)
            eigenvalues, vectors = np.linalg.eigh(scatter / divisor)
            eigenvalues, vt = eigenvalues[::-1].copy(), vectors[:, ::-1].T
            eigenvalues[eigenvalues < 0] = 0.0  # round-off below zero
            singular = np.sqrt(eigenvalues * divisor)
        vt = _flip_signs(vt)
        total = eigenvalues.sum()
        ratio = eigenvalues / total if total > 0 else np.zeros_like(eigenvalues)

        k = self.n_components
        if k is None:
            k = min(n_samples, n_features)
        elif not isinstance(k, numbers.Integral):
            # fewest components with cumulative ratio >= target; a tolerance keeps an exact tie
            # such as 18/20 = 0.9 from being lost to round-off
            cumulative = np.cumsum(ratio)
            k = int(np.searchsorted(cumulative, k - 1e-12, side="left")) + 1
            k = min(k, len(ratio))
        k = int(k)
        self.noise_variance_ = float(eigenvalues[k:].mean()) if k < len(eigenvalues) else 0.0
        self.n_samples_ = n_samples
        self.n_components_ = k
        self.mean_ = mean
        self.components_ = np.ascontiguousarray(vt[:k])
        self.explained_variance_ = eigenvalues[:k].copy()
        self.explained_variance_ratio_ = ratio[:k].copy()
        self.singular_values_ = singular[:k].copy()
        return X

    def transform(self, X):
        """Project ``X`` (n_samples, n_features) onto the components: ``(X - mean_) @ components_.T``
        → (n_samples, n_components_), whitened by ``1/sqrt(explained_variance_)`` if ``whiten``."""
        check_is_fitted(self, "components_")
        X = check_array(X, name="X")
        check_n_features(self, X, reset=False)
        # X @ W - mean @ W equals (X - mean) @ W without copying X
        projected = X @ self.components_.T
        projected -= self.mean_ @ self.components_.T
        if self.whiten:
            projected /= np.sqrt(np.maximum(self.explained_variance_, np.finfo(float).tiny))
        return projected

    def fit_transform(self, X, y=None):
        """``fit(X).transform(X)``: the training data in principal-component coordinates."""
        X = self._fit(X)
        return self.transform(X)

    def inverse_transform(self, Z):
        """Map projections ``Z`` (n_samples, n_components_) back to feature space:
        ``Z @ components_ + mean_`` (un-whitening first). Exact when no component was dropped."""
        check_is_fitted(self, "components_")
        Z = check_array(Z, name="Z")
        if Z.shape[1] != self.n_components_:
            raise ValueError(hint(
                f"Z has {Z.shape[1]} columns but this PCA has {self.n_components_} components",
                "pass the output of transform()",
            ))
        if self.whiten:
            Z = Z * np.sqrt(self.explained_variance_)
        return Z @ self.components_ + self.mean_

    def get_covariance(self):
        """The model's covariance ``Wᵀ diag(λ - σ²) W + σ² I`` (n_features, n_features), σ² the noise
        variance; with every component kept it is the sample covariance ``X_cᵀ X_c / (m - ddof)``.
        Whitening does not change it (scikit-learn rescales the components here when whitening).
        """
        check_is_fitted(self, "components_")
        shrunk = np.maximum(self.explained_variance_ - self.noise_variance_, 0.0)
        cov = (self.components_.T * shrunk) @ self.components_
        cov.flat[:: cov.shape[0] + 1] += self.noise_variance_
        return cov
