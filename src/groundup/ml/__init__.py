"""Classical machine learning with scikit-learn's estimator contract (NumPy only).

Every estimator follows scikit-learn's rules: no logic in ``__init__``, ``fit`` returns ``self``,
learned attributes end in ``_``, ``get_params``/``set_params``/``clone`` work, and predicting before
``fit`` raises :class:`~groundup.errors.NotFittedError`. The submodules mirror scikit-learn's:
``preprocessing``, ``linear_model``, ``tree``, ``ensemble``, ``decomposition``, ``manifold``,
``model_selection``, ``pipeline``; the common estimators are also importable from here.
"""

from groundup.ml import (
    base,
    decomposition,
    ensemble,
    linear_model,
    manifold,
    model_selection,
    pipeline,
    preprocessing,
    tree,
    validation,
)
from groundup.ml.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    TransformerMixin,
    check_is_fitted,
    clone,
)
from groundup.ml.decomposition import PCA
from groundup.ml.ensemble import *  # noqa: F403
from groundup.ml.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Perceptron,
    Ridge,
)
from groundup.ml.manifold import TSNE
from groundup.ml.model_selection import *  # noqa: F403
from groundup.ml.pipeline import Pipeline, make_pipeline
from groundup.ml.preprocessing import (
    LabelEncoder,
    MinMaxScaler,
    OneHotEncoder,
    PolynomialFeatures,
    StandardScaler,
)
from groundup.ml.tree import DecisionTreeClassifier, DecisionTreeRegressor, export_text
