"""Decision trees (CART) with exact and histogram split finders, pruning and text export."""

from ._classes import DecisionTreeClassifier, DecisionTreeRegressor
from ._criterion import entropy_impurity, gini_impurity, information_gain
from .export import export_text

__all__ = [
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "export_text",
    "gini_impurity",
    "entropy_impurity",
    "information_gain",
]
