"""The scikit-learn estimator contract: parameters, cloning, mixins for scoring, and fit checks.

Rules every groundup estimator follows (the same as scikit-learn's):

* ``__init__`` only stores its arguments, under the same names, and does nothing else;
* ``fit`` validates its inputs, learns attributes whose names end in ``_`` and returns ``self``;
* using an estimator before ``fit`` raises :class:`groundup.errors.NotFittedError`.

Because parameters are exactly the ``__init__`` arguments, :meth:`BaseEstimator.get_params` can find
them by introspecting the signature, and :func:`clone` can build an unfitted copy from them.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np

from groundup.errors import NotFittedError, hint

__all__ = [
    "BaseEstimator",
    "ClassifierMixin",
    "RegressorMixin",
    "TransformerMixin",
    "clone",
    "check_is_fitted",
    "is_classifier",
    "is_regressor",
]


class BaseEstimator:
    """Base class of all estimators: ``get_params``/``set_params`` by signature introspection and a
    ``repr`` that shows only the parameters that differ from their defaults."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The names of the ``__init__`` parameters (excluding ``self`` and ``*args``/``**kwargs``)."""
        init = cls.__init__
        if init is object.__init__:
            return []
        params = inspect.signature(init).parameters.values()
        names = []
        for p in params:
            if p.name == "self" or p.kind == p.VAR_KEYWORD:
                continue
            if p.kind == p.VAR_POSITIONAL:
                raise TypeError(
                    hint(
                        f"{cls.__name__}.__init__ takes *{p.name}",
                        "estimators must list every parameter explicitly in __init__",
                    )
                )
            names.append(p.name)
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict:
        """The estimator's parameters as a dict ``{name: value}``; with ``deep`` also the parameters
        of nested estimators as ``"name__param"`` keys."""
        out = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                for key, sub in value.get_params(deep=True).items():
                    out[f"{name}__{key}"] = sub
            out[name] = value
        return out

    def set_params(self, **params) -> BaseEstimator:
        """Set parameters (``name=value`` or nested ``step__param=value``) and return ``self``."""
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict] = {}
        for key, value in params.items():
            name, sep, sub_key = key.partition("__")
            if name not in valid:
                raise ValueError(
                    hint(
                        f"invalid parameter {name!r} for estimator {type(self).__name__}",
                        f"valid parameters are {sorted(self._get_param_names())}",
                    )
                )
            if sep:
                nested.setdefault(name, {})[sub_key] = value
            else:
                setattr(self, name, value)
                valid[name] = value
        for name, sub_params in nested.items():
            valid[name].set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.default is not p.empty
        }
        shown = []
        for name in self._get_param_names():
            value = getattr(self, name, None)
            if name in defaults and _same_value(value, defaults[name]):
                continue
            shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __getstate__(self):
        return dict(self.__dict__)

    def __setstate__(self, state):
        self.__dict__.update(state)


def _same_value(a, b) -> bool:
    """Whether a parameter value equals its default (arrays and NaN compared sensibly)."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # noqa: BLE001 -- objects with exotic __eq__ count as different
        return False


class ClassifierMixin:
    """Adds ``score(X, y)`` = accuracy = mean(predict(X) == y) to a classifier."""

    _estimator_type = "classifier"

    def score(self, X, y, sample_weight=None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y``: (1/n) Σ [ŷᵢ = yᵢ] (weighted if given)."""
        y_pred = self.predict(X)
        correct = (np.asarray(y_pred) == np.asarray(y)).astype(np.float64)
        return float(np.average(correct, weights=sample_weight))


class RegressorMixin:
    """Adds ``score(X, y)`` = R² = 1 − SS_res / SS_tot to a regressor."""

    _estimator_type = "regressor"

    def score(self, X, y, sample_weight=None) -> float:
        """Coefficient of determination R² = 1 − Σ(yᵢ − ŷᵢ)² / Σ(yᵢ − ȳ)² (averaged over outputs)."""
        y = np.asarray(y, dtype=np.float64)
        y_pred = np.asarray(self.predict(X), dtype=np.float64).reshape(y.shape)
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        y_mean = np.average(y, axis=0, weights=w)
        res = np.average((y - y_pred) ** 2, axis=0, weights=w)
        tot = np.average((y - y_mean) ** 2, axis=0, weights=w)
        # A constant target: perfect predictions score 1, anything else 0 (scikit-learn's choice).
        r2 = np.where(tot > 0, 1.0 - res / np.where(tot > 0, tot, 1.0), np.where(res == 0, 1.0, 0.0))
        return float(np.mean(r2))


class TransformerMixin:
    """Adds ``fit_transform(X, y)`` = ``fit(X, y).transform(X)`` to a transformer."""

    def fit_transform(self, X, y=None, **fit_params):
        """Fit to ``X`` (and ``y``) and return the transformed ``X``."""
        if y is None:
            return self.fit(X, **fit_params).transform(X)
        return self.fit(X, y, **fit_params).transform(X)


def clone(estimator, *, safe: bool = True):
    """A new unfitted estimator with the same parameters: ``type(est)(**est.get_params(deep=False))``,
    cloning nested estimators too. Lists/tuples of estimators are cloned element-wise; with
    ``safe=False`` a non-estimator is deep-copied."""
    if isinstance(estimator, (list, tuple, set, frozenset)):
        return type(estimator)(clone(e, safe=safe) for e in estimator)
    if not hasattr(estimator, "get_params") or isinstance(estimator, type):
        if not safe:
            return copy.deepcopy(estimator)
        raise TypeError(
            hint(
                f"cannot clone object {estimator!r} of type {type(estimator).__name__}",
                "clone() expects an estimator with get_params(); pass safe=False to deep-copy",
            )
        )
    params = estimator.get_params(deep=False)
    new_params = {k: clone(v, safe=False) for k, v in params.items()}
    new = type(estimator)(**new_params)
    # Parameters must round-trip unchanged, otherwise __init__ is doing logic it should not.
    for name, value in new.get_params(deep=False).items():
        if value is not new_params[name]:
            raise RuntimeError(
                hint(
                    f"{type(estimator).__name__}.__init__ changed parameter {name!r}",
                    "store __init__ arguments unchanged and validate them in fit()",
                )
            )
    return new


def check_is_fitted(estimator, attributes=None) -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` is fitted: the given ``attributes`` (a name
    or list of names) exist, or, by default, ``estimator.__sklearn_is_fitted__()`` if defined, else some attribute ends in
    ``_`` (not ``__``)."""
    if not hasattr(estimator, "fit"):
        raise TypeError(hint(f"{estimator!r} is not an estimator", "pass an object that has fit()"))
    if attributes is None and hasattr(estimator, "__sklearn_is_fitted__"):
        fitted = bool(estimator.__sklearn_is_fitted__())
    elif attributes is not None:
        names = [attributes] if isinstance(attributes, str) else list(attributes)
        fitted = all(hasattr(estimator, a) for a in names)
    else:
        fitted = any(k.endswith("_") and not k.startswith("__") for k in vars(estimator))
    if not fitted:
        name = type(estimator).__name__
        raise NotFittedError(
            hint(
                f"this {name} instance is not fitted yet",
                f"call {name}.fit(X, y) with appropriate arguments before using it",
            )
        )


def is_classifier(estimator) -> bool:
    """Whether ``estimator`` is a classifier (``_estimator_type == "classifier"``)."""
    return getattr(estimator, "_estimator_type", None) == "classifier"


def is_regressor(estimator) -> bool:
    """Whether ``estimator`` is a regressor (``_estimator_type == "regressor"``)."""
    return getattr(estimator, "_estimator_type", None) == "regressor"


class available_if:
    """Method decorator for meta-estimators: the method exists (``hasattr`` is true) only when
    ``check(self)`` is true, e.g. a pipeline has ``predict_proba`` only if its last step does."""

    def __init__(self, check):
        self.check = check

    def __call__(self, fn):
        self.fn = fn
        self.__doc__ = fn.__doc__
        return self

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self.fn
        if not self.check(obj):
            raise AttributeError(f"{type(obj).__name__} has no attribute {self.name!r} (its estimator does not provide it)")
        return self.fn.__get__(obj, owner)
