"""``groundup.nn``: modules, layers, losses, ``functional`` and ``init`` with PyTorch's names,
signatures and weight layouts (a model written for ``torch.nn`` runs by changing the import)."""

import importlib as _importlib
import importlib.util as _importlib_util

from groundup.nn import functional, init
from groundup.nn.containers import ModuleDict, ModuleList, Sequential
from groundup.nn.layers.activation import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    PReLU,
    ReLU,
    Sigmoid,
    Sign,
    SiLU,
    Softmax,
    Softplus,
    Step,
    Tanh,
)
from groundup.nn.layers.dropout import Dropout, Dropout1d, Dropout2d
from groundup.nn.layers.embedding import Embedding
from groundup.nn.layers.linear import Flatten, Identity, Linear, Unflatten
from groundup.nn.layers.normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from groundup.nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    FocalLoss,
    HingeLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from groundup.nn.module import Module
from groundup.nn.parameter import Parameter
from groundup.nn.summary import summary

__all__ = [
    "functional", "init", "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict",
    "Linear", "Identity", "Flatten", "Unflatten", "ReLU", "LeakyReLU", "PReLU", "ELU", "GELU",
    "Sigmoid", "Tanh", "SiLU", "Softplus", "Softmax", "LogSoftmax", "Step", "Sign", "Dropout",
    "Dropout1d", "Dropout2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "Embedding",
    "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss",
    "CrossEntropyLoss", "NLLLoss", "KLDivLoss", "HingeLoss", "FocalLoss", "summary", "models",
]


def _reexport(module_name: str) -> None:
    """Import ``module_name`` if it exists (layers written in parallel) and re-export its public
    Module classes."""
    if _importlib_util.find_spec(module_name) is None:
        return
    mod = _importlib.import_module(module_name)
    names = getattr(mod, "__all__", None) or [
        n for n, v in vars(mod).items()
        if isinstance(v, type) and issubclass(v, Module) and not n.startswith("_")
        and v.__module__ == mod.__name__]
    for n in names:
        globals()[n] = getattr(mod, n)
        if n not in __all__:
            __all__.append(n)


_reexport("groundup.nn.layers.conv")
_reexport("groundup.nn.layers.pooling")
_reexport("groundup.nn.layers.rnn")
_reexport("groundup.nn.layers.attention")
_reexport("groundup.nn.layers.transformer")
_reexport("groundup.nn.layers.positional")
if _importlib_util.find_spec("groundup.nn.utils") is not None:
    from groundup.nn import utils  # noqa: E402,F401

from groundup.nn import models  # noqa: E402
