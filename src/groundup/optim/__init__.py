"""groundup.optim: optimizers with ``param_groups`` and per-parameter ``state`` (PyTorch's API), and
learning-rate schedules in :mod:`groundup.optim.lr_scheduler`.

Every optimizer updates ``p.data`` in place with NumPy ``out=`` arguments and records no graph.
"""

from groundup.optim import lr_scheduler
from groundup.optim.adagrad import Adagrad
from groundup.optim.adam import Adam, AdamW
from groundup.optim.optimizer import Optimizer, OptimizerError, required
from groundup.optim.rmsprop import RMSprop
from groundup.optim.sgd import SGD

__all__ = ["Optimizer", "OptimizerError", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad",
           "lr_scheduler", "required"]
