"""Grad modes: whether operations are recorded for backward.

``no_grad`` and ``enable_grad`` work as context managers and as decorators, like PyTorch's.
"""

from __future__ import annotations

import functools


class _GradState:
    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = True


# One module-level flag read by Function.apply on every op (cheap attribute lookup).
state = _GradState()


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad are recorded."""
    return state.enabled


class _GradModeContext:
    """Base of the grad-mode context managers; also usable as a decorator."""

    _mode: bool

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = self._mode
        return self

    def __exit__(self, *exc) -> None:
        state.enabled = self._prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):  # noqa: N801 (PyTorch's name)
    """Disable recording: ``with no_grad(): ...`` or ``@no_grad()``. Used for evaluation and for
    optimizer updates, which must not build a graph."""

    _mode = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Re-enable recording inside a ``no_grad`` block."""

    _mode = True


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """``set_grad_enabled(mode)``: switch recording on or off (context manager or plain call)."""

    def __init__(self, mode: bool = True) -> None:
        self._mode = bool(mode)
        self._prev = state.enabled
        state.enabled = self._mode

    def __enter__(self):
        return self

    def __call__(self, fn):
        mode = self._mode
        state.enabled = self._prev  # used as a decorator: do not change the mode now

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = state.enabled
            state.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                state.enabled = prev

        return wrapper
