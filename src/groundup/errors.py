"""Exception and warning types shared by every part of groundup.

Every error groundup raises for bad input is a ``ValueError`` or ``TypeError`` subclass whose message
names the op, layer or argument, the shapes or values involved, and ends with a ``help:`` hint.
"""

from __future__ import annotations


class GroundupError(Exception):
    """Base class of groundup's own exceptions."""


class ShapeError(GroundupError, ValueError):
    """Shapes that cannot broadcast, multiply, or feed a layer."""


class DTypeError(GroundupError, TypeError):
    """An unsupported or mismatched dtype."""


class GradError(GroundupError, RuntimeError):
    """Misuse of autograd: backward through a freed graph, in-place change of a recorded tensor,
    second derivative of a once-differentiable op, ..."""


class NotFittedError(GroundupError, ValueError, AttributeError):
    """An estimator was used before ``fit`` (like scikit-learn's, it is both a ValueError and an
    AttributeError)."""


class CheckpointError(GroundupError, ValueError):
    """A checkpoint or weights file that is damaged or does not match the model."""


class DataError(GroundupError, ValueError):
    """A dataset file that is missing, damaged or malformed."""


class ConvergenceWarning(UserWarning):
    """An iterative algorithm stopped before it converged."""


def hint(message: str, help: str) -> str:
    """Format an error message with its ``help:`` hint: ``"<message>; help: <help>"``."""
    return f"{message}; help: {help}"
