"""Pipelines: chain transformers and a final estimator into one estimator."""

from __future__ import annotations

from groundup.errors import hint
from groundup.ml.base import BaseEstimator, available_if, check_is_fitted


def _final_has(method):
    return available_if(lambda self: self._final in (None, "passthrough") and method == "transform" or hasattr(self._final, method))

__all__ = ["Pipeline", "make_pipeline"]


class Pipeline(BaseEstimator):
    """Apply transformers in order, then a final estimator: ``fit`` runs
    X₁ = t₁.fit_transform(X₀), …, then final.fit(X_k, y); ``predict`` runs the fitted transforms
    then final.predict. ``steps`` is a list of ``(name, estimator)``; a step may be ``"passthrough"``
    or ``None`` (skipped). Parameters of steps are reached as ``"<step>__<param>"``, so the pipeline
    works with ``clone``, ``cross_val_score`` and ``GridSearchCV``.
    """

    def __init__(self, steps, *, verbose: bool = False):
        self.steps = steps
        self.verbose = verbose

    # -- parameters: the steps themselves are parameters, addressable by name ------------------
    def get_params(self, deep: bool = True) -> dict:
        """Parameters, with each step by name and, when ``deep``, its parameters as ``step__param``."""
        out = {"steps": self.steps, "verbose": self.verbose}
        if not deep:
            return out
        for name, step in self.steps:
            out[name] = step
            if hasattr(step, "get_params"):
                for key, value in step.get_params(deep=True).items():
                    out[f"{name}__{key}"] = value
        return out

    def set_params(self, **params) -> Pipeline:
        """Set ``steps``, replace a step by name, or set ``step__param``; returns ``self``."""
        if "steps" in params:
            self.steps = params.pop("steps")
        if "verbose" in params:
            self.verbose = params.pop("verbose")
        names = [name for name, _ in self.steps]
        nested: dict[str, dict] = {}
        for key, value in params.items():
            name, sep, sub = key.partition("__")
            if name not in names:
                raise ValueError(hint(f"invalid parameter {key!r} for Pipeline", f"step names are {names}"))
            if sep:
                nested.setdefault(name, {})[sub] = value
            else:
                self.steps = [(n, value if n == name else s) for n, s in self.steps]
        for name, sub_params in nested.items():
            dict(self.steps)[name].set_params(**sub_params)
        return self

    def _validate_steps(self):
        names = [name for name, _ in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(hint(f"Pipeline step names are not unique: {names}", "give every step its own name"))
        for name, step in self.steps[:-1]:
            if step in (None, "passthrough"):
                continue
            if not (hasattr(step, "fit") and hasattr(step, "transform")):
                raise TypeError(
                    hint(
                        f"Pipeline step {name!r} ({type(step).__name__}) is not a transformer",
                        "every step but the last needs fit() and transform()",
                    )
                )

    @property
    def named_steps(self) -> dict:
        """The steps as a dict ``{name: estimator}``."""
        return dict(self.steps)

    @property
    def _final(self):
        return self.steps[-1][1]

    @property
    def _estimator_type(self):
        return getattr(self._final, "_estimator_type", None)

    def __len__(self):
        return len(self.steps)

    def __getitem__(self, index):
        """``pipe[i]`` is a step, ``pipe["name"]`` a step by name, ``pipe[a:b]`` a sub-pipeline."""
        if isinstance(index, slice):
            return Pipeline(self.steps[index], verbose=self.verbose)
        if isinstance(index, str):
            return self.named_steps[index]
        return self.steps[index][1]

    def __sklearn_is_fitted__(self) -> bool:
        final = self._final
        if final in (None, "passthrough"):
            return True
        try:
            check_is_fitted(final)
            return True
        except Exception:  # noqa: BLE001 -- any not-fitted signal means "not fitted"
            return False

    def _transform_through(self, X, fit: bool, y=None):
        for _, step in self.steps[:-1]:
            if step in (None, "passthrough"):
                continue
            X = step.fit_transform(X, y) if fit else step.transform(X)
        return X

    def fit(self, X, y=None, **fit_params):
        """Fit every transformer on the output of the previous one, then the final estimator."""
        self._validate_steps()
        Xt = self._transform_through(X, fit=True, y=y)
        if self._final not in (None, "passthrough"):
            self._final.fit(Xt, y, **fit_params) if y is not None else self._final.fit(Xt, **fit_params)
        return self

    def _check_fitted(self):
        if not self.__sklearn_is_fitted__():
            check_is_fitted(self._final)  # raises NotFittedError naming the final step

    @_final_has("predict")
    def predict(self, X):
        """Transform X through the fitted steps and call the final estimator's ``predict``."""
        self._check_fitted()
        return self._final.predict(self._transform_through(X, fit=False))

    @_final_has("predict_proba")
    def predict_proba(self, X):
        """Transform X and call the final estimator's ``predict_proba``."""
        self._check_fitted()
        return self._final.predict_proba(self._transform_through(X, fit=False))

    @_final_has("predict_log_proba")
    def predict_log_proba(self, X):
        """Transform X and call the final estimator's ``predict_log_proba``."""
        self._check_fitted()
        return self._final.predict_log_proba(self._transform_through(X, fit=False))

    @_final_has("decision_function")
    def decision_function(self, X):
        """Transform X and call the final estimator's ``decision_function``."""
        self._check_fitted()
        return self._final.decision_function(self._transform_through(X, fit=False))

    @_final_has("transform")
    def transform(self, X):
        """Transform X through every step, including a final transformer."""
        self._check_fitted()
        Xt = self._transform_through(X, fit=False)
        return Xt if self._final in (None, "passthrough") else self._final.transform(Xt)

    @_final_has("transform")
    def fit_transform(self, X, y=None):
        """Fit all steps and return the transformed X."""
        self._validate_steps()
        Xt = self._transform_through(X, fit=True, y=y)
        final = self._final
        if final in (None, "passthrough"):
            return Xt
        return final.fit_transform(Xt, y) if hasattr(final, "fit_transform") else final.fit(Xt, y).transform(Xt)

    @_final_has("predict")
    def fit_predict(self, X, y=None):
        """Fit, then predict on the same X."""
        return self.fit(X, y).predict(X)

    @_final_has("score")
    def score(self, X, y=None):
        """Transform X and call the final estimator's ``score``."""
        self._check_fitted()
        return self._final.score(self._transform_through(X, fit=False), y)

    @property
    def classes_(self):
        """The final estimator's classes."""
        return self._final.classes_

    @property
    def n_features_in_(self):
        """The first step's number of input features."""
        return self.steps[0][1].n_features_in_

    def __repr__(self):
        inner = ", ".join(f"({name!r}, {step!r})" for name, step in self.steps)
        return f"Pipeline(steps=[{inner}])"


def make_pipeline(*steps, verbose: bool = False) -> Pipeline:
    """A :class:`Pipeline` whose step names are the lower-cased class names (numbered if repeated)."""
    names = [type(step).__name__.lower() if step not in (None, "passthrough") else str(step) for step in steps]
    counts = {n: names.count(n) for n in names}
    seen: dict[str, int] = {}
    unique = []
    for n in names:
        if counts[n] > 1:
            seen[n] = seen.get(n, 0) + 1
            unique.append(f"{n}-{seen[n]}")
        else:
            unique.append(n)
    return Pipeline(list(zip(unique, steps)), verbose=verbose)
