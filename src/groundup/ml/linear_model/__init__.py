"""Linear models: least squares (normal equation and gradient descent), ridge, lasso, elastic net,
logistic/softmax regression and the perceptron."""

from groundup.ml.linear_model._base import LinearRegression, NormalEquation, normal_equation
from groundup.ml.linear_model._coordinate_descent import ElasticNet, Lasso
from groundup.ml.linear_model._lbfgs import minimize_lbfgs
from groundup.ml.linear_model._logistic import (
    LogisticRegression,
    logistic_loss_grad,
    sigmoid,
    softmax,
)
from groundup.ml.linear_model._perceptron import Perceptron
from groundup.ml.linear_model._ridge import Ridge

__all__ = [
    "LinearRegression",
    "Ridge",
    "Lasso",
    "ElasticNet",
    "LogisticRegression",
    "Perceptron",
    "minimize_lbfgs",
    "normal_equation",
    "NormalEquation",
    "logistic_loss_grad",
    "sigmoid",
    "softmax",
]
