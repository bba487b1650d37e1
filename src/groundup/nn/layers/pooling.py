"""Pooling layers: ``MaxPool1d``, ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d`` (PyTorch's
names, arguments and semantics; the kernels are in :mod:`groundup.ops.pooling`). Pooling layers have
no parameters.

Output size per spatial axis: floor((n + 2p − d(k − 1) − 1)/s) + 1, with ``stride`` defaulting to
``kernel_size`` (so MaxPool2d(2) halves each side: 28 → 14). ``ceil_mode=True`` rounds up instead.
"""

from __future__ import annotations

from groundup.errors import ShapeError, hint
from groundup.nn.module import Module
from groundup.ops import pooling as _pool


class _Pool(Module):
    _nd = 2

    def _check_input(self, x) -> None:
        nd = self._nd
        if x.ndim not in (nd + 1, nd + 2):
            layout = "(N, C, H, W) or (C, H, W)" if nd == 2 else "(N, C, L) or (C, L)"
            help_ = ("a single (H, W) image needs a batch and a channel axis: "
                     "x.reshape(1, 1, H, W)"
                     if nd == 2 and x.ndim == 2 else
                     f"{type(self).__name__} pools batches of {nd}-D feature maps")
            raise ShapeError(hint(
                f"{type(self).__name__}({self.extra_repr()}) got input of shape "
                f"{tuple(x.shape)}: expected {layout}", help_))

    def _run(self, fn, x, *args, **kwargs):
        self._check_input(x)
        try:
            return fn(x, *args, **kwargs)
        except ShapeError as exc:  # e.g. a map smaller than the window: name the layer
            raise ShapeError(f"{type(self).__name__}({self.extra_repr()}): {exc}") from None


class MaxPool2d(_Pool):
    """2-D max pooling: the maximum of each kH×kW window; the gradient flows only to that maximum
    (the first one in row-major window order on ties, as in PyTorch).

    Shapes: (N, C, H, W) or (C, H, W) → (N, C, OH, OW), OH = floor((H + 2p − d(kH − 1) − 1)/s) + 1.
    With ``return_indices`` the layer returns (output, indices): flat positions h·W + w in the
    input.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)
        _pool._pool_args(type(self).__name__, kernel_size, self.stride, padding, dilation,
                         self._nd)

    def forward(self, x):
        return self._run(_pool.max_pool2d, x, self.kernel_size, self.stride, self.padding,
                         self.dilation, self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(MaxPool2d):
    """1-D max pooling over sequences: (N, C, L) or (C, L) → (N, C, L_out),
    L_out = floor((L + 2p − d(k − 1) − 1)/s) + 1."""

    _nd = 1

    def forward(self, x):
        return self._run(_pool.max_pool1d, x, self.kernel_size, self.stride, self.padding,
                         self.dilation, self.ceil_mode, self.return_indices)


class AvgPool2d(_Pool):
    """2-D average pooling: the mean of each window; the gradient spreads evenly over it.

    Shapes: (N, C, H, W) or (C, H, W) → (N, C, OH, OW), OH = floor((H + 2p − kH)/s) + 1.
    ``count_include_pad``: padded zeros count in the divisor (PyTorch's default True);
    ``divisor_override``: divide by this number instead.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        self.divisor_override = divisor_override
        _pool._pool_args(type(self).__name__, kernel_size, self.stride, padding, 1)

    def forward(self, x):
        return self._run(_pool.avg_pool2d, x, self.kernel_size, self.stride, self.padding,
                         self.ceil_mode, self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(_Pool):
    """Average pooling to a fixed output size, whatever the input size: output cell i along an
    axis of length n averages positions [floor(i·n/out), ceil((i+1)·n/out)).

    Shapes: (N, C, H, W) or (C, H, W) → (N, C, *output_size). ``AdaptiveAvgPool2d(1)`` is global
    average pooling (one number per feature map); ``None`` keeps that axis' input size.
    """

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return self._run(_pool.adaptive_avg_pool2d, x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool1d", "MaxPool2d"]
