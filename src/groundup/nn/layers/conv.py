"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose2d`` (PyTorch's names, arguments,
weight layouts and default initialisation; the kernels are in :mod:`groundup.ops.conv`).

Output size per spatial axis (input n, kernel k, padding p, stride s, dilation d):

    Conv:           floor((n + 2p − d(k − 1) − 1)/s) + 1
    ConvTranspose:  (n − 1)s − 2p + d(k − 1) + output_padding + 1

Parameters: a convolution with C_in → C_out channels and a kH×kW kernel has
C_out·(C_in/groups)·kH·kW weights plus C_out biases (the course's K·(f²C + 1) for groups = 1):
Conv2d(3, 32, 3) has 32·(3·9 + 1) = 896, Conv2d(32, 64, 3) has 64·(32·9 + 1) = 18,496.
"""

from __future__ import annotations

import math

import numpy as np

from groundup.errors import ShapeError, hint
from groundup.nn import init
from groundup.nn.module import Module
from groundup.nn.parameter import Parameter
from groundup.ops import conv as _conv


def _float_dtype(dtype):
    dt = np.dtype(np.float32 if dtype is None else dtype)
    if dt.kind != "f":
        raise TypeError(f"layers hold floating-point parameters, got dtype {dt}; help: use "
                        "float32 or float64")
    return dt


def _tuple(value, n: int, name: str, layer: str) -> tuple:
    return _conv._pair(value, name, layer, n)


class _ConvNd(Module):
    """Shared constructor, initialisation, input check and repr of the convolution layers."""

    _nd = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                 bias, padding_mode, output_padding=0, dtype=None, generator=None) -> None:
        super().__init__()
        name, nd = type(self).__name__, self._nd
        in_channels, out_channels, groups = int(in_channels), int(out_channels), int(groups)
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(hint(
                f"{name}: in_channels={in_channels} and out_channels={out_channels} must both be "
                f"divisible by groups={groups}",
                "groups splits the channels into equal independent blocks",
            ))
        if padding_mode != "zeros":
            raise ValueError(hint(
                f"{name}: padding_mode={padding_mode!r} is not supported",
                "use padding_mode='zeros' (pad reflectively yourself before the layer if needed)",
            ))
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _tuple(kernel_size, nd, "kernel_size", name)
        self.stride = _tuple(stride, nd, "stride", name)
        self.dilation = _tuple(dilation, nd, "dilation", name)
        self.output_padding = _tuple(output_padding, nd, "output_padding", name)
        _conv._check_positive(self.kernel_size, "kernel_size", name)
        _conv._check_positive(self.stride, "stride", name)
        _conv._check_positive(self.dilation, "dilation", name)
        if isinstance(padding, str):
            if self._transposed:
                raise ValueError(hint(f"{name}: padding must be numbers, got {padding!r}",
                                      "'same'/'valid' are for Conv layers only"))
            # Validate now ('same' needs stride 1), keep PyTorch's string form.
            _conv._conv_padding(padding, self.kernel_size, self.dilation, self.stride, name)
            self.padding = padding
        else:
            self.padding = _tuple(padding, nd, "padding", name)
            _conv._check_positive(self.padding, "padding", name, allow_zero=True)
        self.padding_mode = padding_mode
        dt = _float_dtype(dtype)
        if self._transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(np.empty(shape, dtype=dt))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        """PyTorch's default: kaiming_uniform_(W, a=√5), i.e. W ~ U(−1/√fan_in, 1/√fan_in), and
        b ~ U(−1/√fan_in, 1/√fan_in), fan_in = weight.shape[1]·kH·kW."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in = self.weight.shape[1] * int(np.prod(self.kernel_size))
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def _describe(self) -> str:
        k = "×".join(str(v) for v in self.kernel_size)
        return f"{type(self).__name__}({self.in_channels}→{self.out_channels}, kernel {k})"

    def _check_input(self, x) -> None:
        nd = self._nd
        shape = tuple(x.shape)
        spatial = ", ".join("HW"[i] if nd == 2 else "L" for i in range(nd))
        ok = len(shape) in (nd + 1, nd + 2) and shape[-nd - 1] == self.in_channels
        if ok:
            return
        expected = f"(N, {self.in_channels}, {spatial}) or ({self.in_channels}, {spatial})"
        if len(shape) == nd + 1 and self.in_channels == 1 and nd == 2:
            help_ = "grayscale images need a channel axis: x.unsqueeze(1) turns (N, H, W) into " \
                    "(N, 1, H, W)"
        elif len(shape) in (nd + 1, nd + 2):
            help_ = (f"the channel axis (axis {len(shape) - nd - 1}) has size {shape[-nd - 1]}; "
                     f"the layer was built for in_channels={self.in_channels} (channels-last "
                     "data needs x.permute(0, 3, 1, 2))" if nd == 2 else
                     f"the channel axis has size {shape[-nd - 1]}; the layer was built for "
                     f"in_channels={self.in_channels}")
        else:
            help_ = f"{type(self).__name__} takes batches of {nd}-D feature maps"
        raise ShapeError(hint(
            f"{self._describe()} got input of shape {shape}: expected {expected}", help_))

    def _run(self, fn, x, *args, **kwargs):
        self._check_input(x)
        try:
            return fn(x, self.weight, self.bias, *args, **kwargs)
        except ShapeError as exc:  # e.g. a map smaller than the kernel: name the layer
            raise ShapeError(f"{self._describe()}: {exc}") from None

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, " \
            f"stride={self.stride}"
        zero = (0,) * self._nd
        if self.padding != zero:
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else \
                f", padding={self.padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != zero:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution layer (cross-correlation, as in PyTorch).

    Shapes: input (N, C_in, H, W) or (C_in, H, W) → output (N, C_out, OH, OW) with
    OH = floor((H + 2p − d(kH − 1) − 1)/s) + 1 (likewise OW);
    ``weight`` (C_out, C_in/groups, kH, kW), ``bias`` (C_out,). ``padding``: int, pair, ``"valid"`` or ``"same"`` (stride 1).
    Example: Conv2d(1, 32, 3, padding=1) maps (64, 1, 28, 28) to (64, 32, 28, 28) with 320 params.
    """

    _nd = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None, generator=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, dtype=dtype, generator=generator)

    def forward(self, x):
        return self._run(_conv.conv2d, x, self.stride, self.padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-D convolution layer over sequences.

    Shapes: input (N, C_in, L) or (C_in, L) → output (N, C_out, L_out) with
    L_out = floor((L + 2p − d(k − 1) − 1)/s) + 1; ``weight`` (C_out, C_in/groups, k),
    ``bias`` (C_out,).
    """

    _nd = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None, generator=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, dtype=dtype, generator=generator)

    def forward(self, x):
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        return self._run(_conv.conv1d, x, self.stride[0], padding, self.dilation[0], self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (the gradient of Conv2d with respect to its input; used to
    upsample in decoders and autoencoders).

    Shapes: input (N, C_in, H, W) or (C_in, H, W) → output (N, C_out, OH, OW) with
    OH = (H − 1)·s − 2p + d(kH − 1) + output_padding + 1; ``weight`` (C_in, C_out/groups, kH, kW)
    (PyTorch's layout: note in and out are swapped relative to Conv2d), ``bias`` (C_out,).
    ``forward(x, output_size=None)``: give ``output_size`` to pick the output_padding that
    produces it, as PyTorch does.
    """

    _nd = 2
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None, generator=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, output_padding=output_padding, dtype=dtype,
                         generator=generator)

    def _output_padding(self, x, output_size):
        if output_size is None:
            return self.output_padding
        size = tuple(int(v) for v in output_size)[-2:]
        out_pad = []
        for i in range(2):
            n = x.shape[-2 + i]
            smallest = ((n - 1) * self.stride[i] - 2 * self.padding[i]
                        + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
            extra = size[i] - smallest
            if not 0 <= extra < max(self.stride[i], self.dilation[i]):
                raise ShapeError(hint(
                    f"{self._describe()}: requested output_size {size} is not reachable from "
                    f"input of shape {tuple(x.shape)} (axis {i}: sizes {smallest}.."
                    f"{smallest + max(self.stride[i], self.dilation[i]) - 1} are)",
                    "pick an output size in that range",
                ))
            out_pad.append(extra)
        return tuple(out_pad)

    def forward(self, x, output_size=None):
        self._check_input(x)
        out_pad = self._output_padding(x, output_size)
        return self._run(_conv.conv_transpose2d, x, self.stride, self.padding, out_pad,
                         self.groups, self.dilation)


__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d"]
