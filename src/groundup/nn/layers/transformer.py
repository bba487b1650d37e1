"""The Transformer's layers with PyTorch's names, submodule names and semantics:
``TransformerEncoderLayer``, ``TransformerEncoder``, ``TransformerDecoderLayer``,
``TransformerDecoder`` and ``Transformer`` (so a PyTorch ``state_dict`` loads as is).

An encoder layer (post-norm, the original paper's and PyTorch's default):
    x = LayerNorm(x + Dropout(SelfAttention(x)))
    x = LayerNorm(x + Dropout(Linear₂(Dropout(act(Linear₁(x))))))
With ``norm_first=True`` (pre-norm, easier to train deep): x = x + SA(LN(x)); x = x + FF(LN(x)).
A decoder layer adds cross-attention to the encoder's output (``memory``) between the two.
"""

from __future__ import annotations

import copy

import numpy as np

from groundup.errors import ShapeError, hint
from groundup.nn.containers import ModuleList
from groundup.nn.layers.attention import MultiheadAttention, generate_square_subsequent_mask
from groundup.nn.layers.dropout import Dropout
from groundup.nn.layers.linear import Linear
from groundup.nn.layers.normalization import LayerNorm
from groundup.nn.module import Module
from groundup.ops import activation as A
from groundup.tensor import Tensor

__all__ = ["TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
           "TransformerDecoder", "Transformer"]


def _activation(activation):
    if callable(activation):
        return activation
    if activation == "relu":
        return A.relu
    if activation == "gelu":
        return A.gelu
    raise ValueError(hint(f"transformer: activation should be 'relu' or 'gelu', not "
                          f"{activation!r}", "or pass a callable such as F.gelu"))


def _feed_forward(layer, x):
    """linear2(dropout(act(linear1(x)))) on the tokens as one (N·S, E) matrix: one BLAS call per
    product instead of one per sequence."""
    shape = x.shape
    h = x.reshape(-1, shape[-1]) if x.ndim > 2 else x
    h = layer.linear2(layer.dropout(layer.activation(layer.linear1(h))))
    return h.reshape(shape) if x.ndim > 2 else h


def _check_d_model(name, x, d_model):
    if not isinstance(x, Tensor):
        raise TypeError(hint(f"{name}: input must be a Tensor, got {type(x).__name__}",
                             "wrap it with groundup.tensor(...)"))
    if x.ndim not in (2, 3) or x.shape[-1] != d_model:
        raise ShapeError(hint(
            f"{name}(d_model={d_model}) got input of shape {tuple(x.shape)}: expected "
            f"(S, N, {d_model}), (N, S, {d_model}) with batch_first, or unbatched (S, {d_model})",
            "embed tokens to d_model features first (nn.Embedding(vocab, d_model))"))


class TransformerEncoderLayer(Module):
    """Self-attention and a position-wise feed-forward network, each with a residual connection
    and LayerNorm (see the module docstring).

    Shapes: src (S, N, E) (or (N, S, E) with ``batch_first``, or unbatched (S, E)) → same shape.
    ``src_mask`` (S, S) or (N·nhead, S, S) (bool True = not allowed, or float added);
    ``src_key_padding_mask`` (N, S) (True = padding); ``is_causal`` applies the causal mask when
    ``src_mask`` is None. Submodules: self_attn, linear1 (E→dim_feedforward), dropout, linear2,
    norm1, norm2, dropout1, dropout2.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype=None, generator=None,
                 device=None) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype,
                                            generator=generator)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype, generator=generator)
        self.dropout = Dropout(dropout, generator=generator)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype, generator=generator)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, generator=generator)
        self.dropout2 = Dropout(dropout, generator=generator)
        self.activation = _activation(activation)
        self.d_model, self.batch_first = d_model, batch_first

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        _check_d_model("TransformerEncoderLayer", src, self.d_model)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal and attn_mask is None)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(_feed_forward(self, x))


class TransformerDecoderLayer(Module):
    """Masked self-attention, cross-attention to ``memory`` and a feed-forward network, each with
    a residual connection and LayerNorm.

    Shapes: tgt (T, N, E), memory (S, N, E) (batch-first or unbatched likewise) → (T, N, E).
    Masks: tgt_mask (T, T), memory_mask (T, S), tgt_key_padding_mask (N, T),
    memory_key_padding_mask (N, S); ``tgt_is_causal`` applies the causal mask when tgt_mask is
    None. Submodules: self_attn, multihead_attn, linear1, dropout, linear2, norm1..3, dropout1..3.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype=None, generator=None,
                 device=None) -> None:
        super().__init__()
        kw = dict(dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype,
                  generator=generator)
        self.self_attn = MultiheadAttention(d_model, nhead, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype, generator=generator)
        self.dropout = Dropout(dropout, generator=generator)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype, generator=generator)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, generator=generator)
        self.dropout2 = Dropout(dropout, generator=generator)
        self.dropout3 = Dropout(dropout, generator=generator)
        self.activation = _activation(activation)
        self.d_model, self.batch_first = d_model, batch_first

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False):
        _check_d_model("TransformerDecoderLayer", tgt, self.d_model)
        _check_d_model("TransformerDecoderLayer (memory)", memory, self.d_model)
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask,
                                    memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal and attn_mask is None)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, need_weights=False,
                                is_causal=is_causal and attn_mask is None)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(_feed_forward(self, x))


def _clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


class TransformerEncoder(Module):
    """A stack of ``num_layers`` deep copies of ``encoder_layer`` (``layers.0``, ``layers.1``, ...),
    followed by ``norm`` if given. forward(src, mask=None, src_key_padding_mask=None,
    is_causal=None) → same shape as src."""

    def __init__(self, encoder_layer, num_layers: int, norm=None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=bool(is_causal))
        return self.norm(x) if self.norm is not None else x


class TransformerDecoder(Module):
    """A stack of ``num_layers`` deep copies of ``decoder_layer`` followed by ``norm`` if given.
    forward(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask,
    tgt_is_causal, memory_is_causal) → same shape as tgt."""

    def __init__(self, decoder_layer, num_layers: int, norm=None) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal: bool = False):
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return self.norm(x) if self.norm is not None else x


class Transformer(Module):
    """The encoder–decoder Transformer (Vaswani et al., 2017), PyTorch's ``nn.Transformer``:
    encoder (num_encoder_layers layers + LayerNorm) and decoder (num_decoder_layers + LayerNorm).
    forward(src (S, N, E), tgt (T, N, E), src_mask, tgt_mask, memory_mask,
    src_key_padding_mask, tgt_key_padding_mask, memory_key_padding_mask) → (T, N, E)."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype=None, generator=None,
                 device=None) -> None:
        super().__init__()
        kw = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                  layer_norm_eps=layer_norm_eps, batch_first=batch_first, norm_first=norm_first,
                  bias=bias, dtype=dtype, generator=generator)
        self.encoder = TransformerEncoder(TransformerEncoderLayer(d_model, nhead, **kw),
                                          num_encoder_layers,
                                          LayerNorm(d_model, eps=layer_norm_eps, bias=bias,
                                                    dtype=dtype))
        self.decoder = TransformerDecoder(TransformerDecoderLayer(d_model, nhead, **kw),
                                          num_decoder_layers,
                                          LayerNorm(d_model, eps=layer_norm_eps, bias=bias,
                                                    dtype=dtype))
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal: bool = False):
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, dtype=np.float32) -> Tensor:
        """Float (sz, sz) causal mask: 0 on and below the diagonal, −inf above."""
        return generate_square_subsequent_mask(sz, dtype)

