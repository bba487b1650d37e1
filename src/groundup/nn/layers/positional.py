"""Positional information for attention models, which are otherwise blind to order.

``SinusoidalPositionalEncoding`` adds the fixed encodings of Vaswani et al. (2017):
PE[pos, 2i] = sin(pos / 10000^(2i/d_model)), PE[pos, 2i+1] = cos(pos / 10000^(2i/d_model)).
Each pair of dimensions is a rotation at its own frequency, so PE[pos + k] is a linear function of
PE[pos] and relative offsets are easy to attend to. Learned positions are simply an
``nn.Embedding(max_len, d_model)`` indexed by ``arange(seq_len)`` and added the same way.
"""

from __future__ import annotations

import math

import numpy as np

from groundup.errors import ShapeError, hint
from groundup.nn.layers.dropout import Dropout
from groundup.nn.module import Module
from groundup.tensor import Tensor

__all__ = ["SinusoidalPositionalEncoding", "sinusoidal_encoding"]


def sinusoidal_encoding(max_len: int, d_model: int, dtype=np.float32) -> np.ndarray:
    """The (max_len, d_model) table PE[pos, 2i] = sin(pos·ω_i), PE[pos, 2i+1] = cos(pos·ω_i) with
    ω_i = 10000^(−2i/d_model) (an odd d_model drops the last cosine)."""
    pos = np.arange(max_len, dtype=np.float64)[:, None]
    omega = np.exp(np.arange(0, d_model, 2, dtype=np.float64) * (-math.log(10000.0) / d_model))
    pe = np.zeros((max_len, d_model), dtype=np.float64)
    pe[:, 0::2] = np.sin(pos * omega)
    pe[:, 1::2] = np.cos(pos * omega)[:, : d_model // 2]
    return pe.astype(dtype)


class SinusoidalPositionalEncoding(Module):
    """x + PE[:seq_len], then dropout (the "PositionalEncoding" of PyTorch's tutorial).

    Shapes: x (S, N, d_model), or (N, S, d_model) with ``batch_first``, or unbatched
    (S, d_model) → same shape. The table is a non-persistent buffer ``pe`` (max_len, d_model).
    """

    def __init__(self, d_model: int, dropout: float = 0.0, max_len: int = 5000,
                 batch_first: bool = False, dtype=None, generator=None) -> None:
        super().__init__()
        self.d_model, self.max_len, self.batch_first = int(d_model), int(max_len), batch_first
        self.dropout = Dropout(dropout, generator=generator)
        self.register_buffer("pe", Tensor(sinusoidal_encoding(self.max_len, self.d_model,
                                                              np.dtype(dtype or np.float32))),
                             persistent=False)

    def forward(self, x):
        if not isinstance(x, Tensor) or x.ndim not in (2, 3) or x.shape[-1] != self.d_model:
            raise ShapeError(hint(
                f"SinusoidalPositionalEncoding(d_model={self.d_model}) got input of shape "
                f"{tuple(getattr(x, 'shape', ()))}: expected (S, N, {self.d_model}), "
                f"(N, S, {self.d_model}) with batch_first, or (S, {self.d_model})",
                "embed tokens to d_model features first"))
        seq_axis = 1 if (self.batch_first and x.ndim == 3) else 0
        S_ = x.shape[seq_axis]
        if S_ > self.max_len:
            raise ShapeError(hint(
                f"SinusoidalPositionalEncoding: sequence length {S_} exceeds max_len="
                f"{self.max_len}", "build the encoding with a larger max_len"))
        pe = self.pe.data[:S_].astype(x.dtype, copy=False)
        if x.ndim == 3 and seq_axis == 0:
            pe = pe[:, None, :]
        return self.dropout(x + Tensor(pe))

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}"
