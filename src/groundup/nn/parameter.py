"""``Parameter``: a Tensor that a :class:`~groundup.nn.Module` registers as learnable."""

from __future__ import annotations

import numpy as np

from groundup.tensor import Tensor, as_array


class Parameter(Tensor):
    """A learnable tensor (PyTorch's ``nn.Parameter``): assigning one to a Module attribute
    registers it, so it appears in ``parameters()`` and ``state_dict()``. ``requires_grad`` is True
    by default.

    Shape: any. ``Parameter(data)`` shares ``data``'s array (a Tensor's ``.data`` or an ndarray);
    Python lists become float32 like ``groundup.tensor``.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        arr = data.data if isinstance(data, Tensor) else as_array(data)
        super().__init__(arr, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.data, self.requires_grad))
