"""Attention: ``scaled_dot_product_attention`` (the primer's softmax(QKᵀ/√d_k)·V) and
``MultiheadAttention`` with PyTorch's names, masks, packed ``in_proj_weight`` layout and outputs.

Attention is a soft dictionary lookup: each query q scores every key k_j by q·k_j/√d_k, the scores
become weights α_j by a softmax over the keys, and the output is Σ_j α_j v_j. Dividing by √d_k keeps
the scores' variance near 1 when q and k have unit-variance entries, so the softmax does not
saturate.

Mask conventions (PyTorch's, which differ between the two functions):

- ``scaled_dot_product_attention(attn_mask=...)``: a **bool** mask is True where a query MAY attend;
  a float mask is **added** to the scores (−inf forbids).
- ``MultiheadAttention``: a bool ``attn_mask`` or ``key_padding_mask`` is True where attention is
  NOT allowed (padding, the future); float masks are added.

Speed: the attention core is one fused op (:class:`ScaledDotProductAttention`): forward
S = QKᵀ·scale + M, P = softmax(S), O = P·V on arrays; backward ∂V = Pᵀ∂O, ∂P = ∂O·Vᵀ,
∂S = P ⊙ (∂P − Σ_j ∂P⊙P)·scale, ∂Q = ∂S·K, ∂K = ∂Sᵀ·Q. When the attention weights are requested
(``need_weights=True``) the same computation runs as plain Tensor ops (:func:`attention_reference`),
which also serves as the reference the fused op is tested against.
"""

from __future__ import annotations

import math

import numpy as np

from groundup.autograd.function import Function
from groundup.errors import DTypeError, ShapeError, hint
from groundup.nn import functional as F
from groundup.nn import init
from groundup.nn.layers.linear import Linear
from groundup.nn.module import Module
from groundup.nn.parameter import Parameter
from groundup.ops import activation as A
from groundup.ops import shape as S
from groundup.ops.linalg import Linear as _LinearFn
from groundup.tensor import Tensor

# re-exported by groundup.nn (attention_reference and the mask helper stay in this module)
__all__ = ["MultiheadAttention", "scaled_dot_product_attention"]


def _sum_to(arr: np.ndarray, shape: tuple) -> np.ndarray:
    if arr.shape == tuple(shape):
        return arr
    lead = arr.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and arr.shape[lead + i] != 1)
    return arr.sum(axis=axes).reshape(shape)


class ScaledDotProductAttention(Function):
    """O = dropout(softmax(Q·Kᵀ·scale + M))·V, fused (see the module docstring for the backward).

    Shapes: q (..., L, E), k (..., S, E), v (..., S, Ev) with equal (or broadcastable) leading
    axes; ``mask`` a constant additive array broadcastable to (..., L, S) or None → (..., L, Ev).
    """

    once_differentiable = True

    @staticmethod
    def forward(ctx, q, k, v, mask=None, scale=1.0, dropout_p=0.0, generator=None):
        s = np.matmul(q, np.swapaxes(k, -1, -2))
        s *= scale
        if mask is not None:
            if np.broadcast_shapes(s.shape, mask.shape) == s.shape:
                s += mask
            else:  # the mask has more batch axes than the scores
                s = s + mask
        s -= s.max(axis=-1, keepdims=True)
        np.exp(s, out=s)
        s /= s.sum(axis=-1, keepdims=True)
        keep = None
        pd = s
        if dropout_p > 0.0:
            # the same scaled keep mask as F.dropout (same generator → same mask)
            keep = F._dropout_mask(Tensor(s), s.shape, dropout_p, generator)
            pd = s * keep
        ctx.p, ctx.keep, ctx.scale = s, keep, scale
        return np.matmul(pd, v)

    @staticmethod
    def backward(ctx, grad):
        q, k, v = ctx.inputs[:3]
        p, keep, scale = ctx.p, ctx.keep, ctx.scale
        g = grad.data
        need = ctx.needs_input_grad
        pd = p if keep is None else p * keep
        dv = np.matmul(np.swapaxes(pd, -1, -2), g) if need[2] else None
        dp = np.matmul(g, np.swapaxes(v.data, -1, -2))
        if keep is not None:
            dp *= keep
        ds = dp
        ds -= (dp * p).sum(axis=-1, keepdims=True)
        ds *= p
        ds *= scale
        dq = np.matmul(ds, k.data) if need[0] else None
        dk = np.matmul(np.swapaxes(ds, -1, -2), q.data) if need[1] else None
        out = []
        for arr, x, n in ((dq, q, need[0]), (dk, k, need[1]), (dv, v, need[2])):
            out.append(Tensor(_sum_to(arr, x.shape).astype(x.dtype, copy=False)) if n else None)
        return tuple(out)


def _check_float_or_bool(mask, name, op):
    data = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if data.dtype.kind not in "bf":
        raise DTypeError(hint(
            f"{op}: {name} has dtype {data.dtype}; expected bool or float",
            "use a bool mask or a float mask of additive scores (−inf forbids)"))
    return data


def _causal(L: int, S_: int, dtype) -> np.ndarray:
    """Additive causal mask (L, S): 0 on and below the diagonal, −inf above (query i sees keys
    j ≤ i)."""
    m = np.zeros((L, S_), dtype=dtype)
    m[np.triu_indices(L, k=1, m=S_)] = -np.inf
    return m


def generate_square_subsequent_mask(sz: int, dtype=np.float32) -> Tensor:
    """PyTorch's ``Transformer.generate_square_subsequent_mask``: a float (sz, sz) mask with 0 on
    and below the diagonal and −inf above, for causal self-attention."""
    return Tensor(_causal(int(sz), int(sz), np.dtype(dtype)))


def _sdpa_mask(attn_mask, is_causal, L, S_, dtype, op="scaled_dot_product_attention"):
    """The additive mask array of ``scaled_dot_product_attention`` (bool True = may attend)."""
    if is_causal and attn_mask is not None:
        raise ValueError(hint(f"{op}: pass either attn_mask or is_causal=True, not both",
                              "is_causal builds the causal mask itself"))
    if is_causal:
        return _causal(L, S_, dtype)
    if attn_mask is None:
        return None
    m = _check_float_or_bool(attn_mask, "attn_mask", op)
    if m.ndim < 2 or m.shape[-2:] not in ((L, S_), (1, S_), (L, 1), (1, 1)):
        raise ShapeError(hint(
            f"{op}: attn_mask of shape {m.shape} does not broadcast to the scores' shape "
            f"(..., {L}, {S_})", "the mask's last two axes are (target length L, source length S)"))
    if m.dtype == np.bool_:
        out = np.zeros(m.shape, dtype=dtype)
        out[~m] = -np.inf
        return out
    return m.astype(dtype, copy=False)


def attention_reference(query, key, value, mask=None, scale=None, dropout_p=0.0, training=True,
                        generator=None):
    """softmax(Q·Kᵀ·scale + mask)·V from elementary Tensor ops; returns (output, weights).
    ``mask`` is an additive array/Tensor (or None). Differentiable twice."""
    E = query.shape[-1]
    scale = 1.0 / math.sqrt(E) if scale is None else scale
    scores = (query @ S.transpose(key, -1, -2)) * scale
    if mask is not None:
        scores = scores + (mask if isinstance(mask, Tensor) else Tensor(np.asarray(mask)))
    weights = A.softmax(scores, -1)
    if dropout_p > 0.0 and training:
        weights = F.dropout(weights, dropout_p, True, generator=generator)
    return weights @ value, weights


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale=None, generator=None):
    """The primer's Attention(Q, K, V) = softmax(QKᵀ/√d_k)·V (PyTorch's
    ``F.scaled_dot_product_attention``).

    Shapes: query (..., L, E), key (..., S, E), value (..., S, Ev) → (..., L, Ev). ``attn_mask``:
    bool (True = may attend) or float (added to the scores), broadcastable to (..., L, S).
    ``is_causal``: query i attends only to keys j ≤ i. ``scale`` defaults to 1/√E. ``dropout_p``
    drops attention weights (always applied when > 0, like PyTorch's; pass 0.0 in eval).
    """
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(hint(f"{op}: {name} must be a Tensor, got {type(t).__name__}",
                                 "wrap it with groundup.tensor(...)"))
        if t.ndim < 2:
            raise ShapeError(hint(f"{op}: {name} of shape {tuple(t.shape)} needs at least 2 "
                                  "dimensions (..., length, features)",
                                  "a single query is q.unsqueeze(0) of shape (1, E)"))
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(hint(
            f"{op}: query {tuple(query.shape)}, key {tuple(key.shape)} and value "
            f"{tuple(value.shape)} do not fit: need query (..., L, E), key (..., S, E), value "
            "(..., S, Ev)", "queries and keys share the feature size E; keys and values the "
                            "length S"))
    L, S_ = query.shape[-2], key.shape[-2]
    mask = _sdpa_mask(attn_mask, is_causal, L, S_, query.dtype)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    return ScaledDotProductAttention.apply(query, key, value, mask=mask, scale=scale,
                                           dropout_p=float(dropout_p), generator=generator)


class MultiheadAttention(Module):
    """Multi-head attention (PyTorch's ``nn.MultiheadAttention``):
    MultiHead(Q, K, V) = Concat(head_1, ..., head_h)·W_Oᵀ + b_O with
    head_i = Attention(Q·W_Q,iᵀ, K·W_K,iᵀ, V·W_V,iᵀ) in d = embed_dim/num_heads dimensions.

    Parameters: ``in_proj_weight`` (3E, E) = [W_Q; W_K; W_V] and ``in_proj_bias`` (3E,) (packed,
    when
    kdim = vdim = embed_dim; otherwise ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim),
    ``v_proj_weight`` (E, vdim)), and ``out_proj`` (Linear(E, E)). Initialised as PyTorch: Xavier
    uniform projections, zero biases.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)``. Shapes: query (L, N, E) (or (N, L, E) with
    ``batch_first``, or unbatched (L, E)), key (S, N, kdim), value (S, N, vdim);
    key_padding_mask (N, S) (True = ignore that key); attn_mask (L, S) or (N·num_heads, L, S)
    (bool True = not allowed, or float added). Returns (attn_output (L, N, E), attn_weights
    (N, L, S) averaged over heads, or (N, num_heads, L, S), or None without ``need_weights``).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, dtype=None, generator=None, device=None) -> None:
        super().__init__()
        embed_dim, num_heads = int(embed_dim), int(num_heads)
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(hint(
                f"MultiheadAttention: embed_dim={embed_dim} is not divisible by num_heads="
                f"{num_heads}",
                "each head gets embed_dim/num_heads dimensions; pick num_heads dividing embed_dim"))
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError(hint("MultiheadAttention: add_bias_kv and add_zero_attn are "
                                           "not supported", "leave them False"))
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.kdim = int(kdim) if kdim is not None else embed_dim
        self.vdim = int(vdim) if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = float(dropout), batch_first
        self.head_dim = embed_dim // num_heads
        self.generator = generator
        dt = np.dtype(dtype or np.float32)
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * E, E), dtype=dt))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(np.empty((E, E), dtype=dt))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), dtype=dt))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), dtype=dt))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.zeros((3 * E,), dtype=dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dt, generator=generator)
        self._reset_parameters(generator)

    def _reset_parameters(self, generator=None) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight, generator=generator)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w, generator=generator)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}"
                + (", batch_first=True" if self.batch_first else ""))

    # ------------------------------------------------------------------ helpers
    def _check_inputs(self, query, key, value):
        name = f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"
        for nm, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(hint(f"{name}: {nm} must be a Tensor, got {type(t).__name__}",
                                     "wrap it with groundup.tensor(...)"))
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ShapeError(hint(
                f"{name}: query {tuple(query.shape)}, key {tuple(key.shape)} and value "
                f"{tuple(value.shape)} must all be 3-D (batched) or all 2-D (unbatched)",
                "batched inputs are (L, N, E), or (N, L, E) with batch_first=True"))
        for nm, t, d in (("query", query, self.embed_dim), ("key", key, self.kdim),
                         ("value", value, self.vdim)):
            if t.shape[-1] != d:
                raise ShapeError(hint(
                    f"{name}: {nm} of shape {tuple(t.shape)} has feature size {t.shape[-1]}, "
                    f"expected {d}", f"the last axis of {nm} must be "
                                     + ("embed_dim" if nm == "query" else f"{nm[0]}dim")))
        if query.ndim == 3:
            b = 0 if self.batch_first else 1
            s = 1 - b
            if not (query.shape[b] == key.shape[b] == value.shape[b]):
                raise ShapeError(hint(
                    f"{name}: batch sizes differ: query {tuple(query.shape)}, key "
                    f"{tuple(key.shape)}, value {tuple(value.shape)}",
                    "pass batch_first=True for (N, L, E) inputs" if not self.batch_first
                    else "query, key and value need the same batch size"))
            if key.shape[s] != value.shape[s]:
                raise ShapeError(hint(f"{name}: key {tuple(key.shape)} and value "
                                      f"{tuple(value.shape)} have different lengths",
                                      "keys and values come in pairs"))
        elif key.shape[0] != value.shape[0]:
            raise ShapeError(hint(f"{name}: key {tuple(key.shape)} and value "
                                  f"{tuple(value.shape)} have different lengths",
                                  "keys and values come in pairs"))
        return name

    def _mask(self, name, attn_mask, key_padding_mask, is_causal, N, L, S_, dtype):
        """Merge the masks into one additive array broadcastable to (N, H, L, S), or None."""
        H = self.num_heads
        total = None
        if attn_mask is None and is_causal:
            total = _causal(L, S_, dtype)[None, None]
        elif attn_mask is not None:
            m = _check_float_or_bool(attn_mask, "attn_mask", name)
            if m.shape == (L, S_):
                m = m[None, None]
            elif m.shape == (N * H, L, S_):
                m = m.reshape(N, H, L, S_)
            else:
                raise ShapeError(hint(
                    f"{name}: attn_mask of shape {m.shape} does not fit: expected ({L}, {S_}) or "
                    f"({N * H}, {L}, {S_}) (batch·num_heads, target length, source length)",
                    "build a 2-D (L, S) mask shared by the batch, or one per batch element and "
                    "head"))
            total = _additive(m, dtype)
        if key_padding_mask is not None:
            k = _check_float_or_bool(key_padding_mask, "key_padding_mask", name)
            if k.shape != (N, S_):
                raise ShapeError(hint(
                    f"{name}: key_padding_mask of shape {k.shape} does not fit: expected "
                    f"({N}, {S_}) (batch, source length)",
                    "True marks the padded keys to ignore; one row per sequence"))
            k = _additive(k, dtype)[:, None, None, :]
            total = k if total is None else total + k
        return total

    def _project(self, query, key, value):
        E = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:
                qkv = _LinearFn.apply(query, w, b)
                return qkv[..., :E], qkv[..., E:2 * E], qkv[..., 2 * E:]
            wq, wk, wv = w[:E], w[E:2 * E], w[2 * E:]
            if key is value:
                q = _LinearFn.apply(query, wq, bq)
                kv = _LinearFn.apply(key, w[E:], None if b is None else b[E:])
                return q, kv[..., :E], kv[..., E:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return (_LinearFn.apply(query, wq, bq), _LinearFn.apply(key, wk, bk),
                _LinearFn.apply(value, wv, bv))

    # ------------------------------------------------------------------ forward
    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        name = self._check_inputs(query, key, value)
        unbatched = query.ndim == 2
        if unbatched:
            query, key, value = (S.unsqueeze(t, 0) for t in (query, key, value))
            if key_padding_mask is not None:
                kp = key_padding_mask.data if isinstance(key_padding_mask, Tensor) else \
                    np.asarray(key_padding_mask)
                key_padding_mask = kp[None] if kp.ndim == 1 else kp
        elif not self.batch_first:
            same_kv = key is value
            same = query is key and same_kv
            query = S.transpose(query, 0, 1)
            key = query if same else S.transpose(key, 0, 1)
            value = key if same_kv else S.transpose(value, 0, 1)
        N, L, E = query.shape
        S_ = key.shape[1]
        H, d = self.num_heads, self.head_dim
        mask = self._mask(name, attn_mask, key_padding_mask, is_causal, N, L, S_, query.dtype)
        # tokens as one (N·L, E) matrix: one BLAS call per projection
        q2 = S.reshape(query, (N * L, E))
        k2 = q2 if key is query else S.reshape(key, (N * S_, key.shape[-1]))
        v2 = k2 if value is key else S.reshape(value, (N * S_, value.shape[-1]))
        q, k, v = self._project(q2, k2, v2)
        q = S.permute(S.reshape(q, (N, L, H, d)), 0, 2, 1, 3)
        k = S.permute(S.reshape(k, (N, S_, H, d)), 0, 2, 1, 3)
        v = S.permute(S.reshape(v, (N, S_, H, d)), 0, 2, 1, 3)
        p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            o, weights = attention_reference(q, k, v, mask, 1.0 / math.sqrt(d), p, True,
                                             self.generator)
        else:
            o = ScaledDotProductAttention.apply(q, k, v, mask=mask, scale=1.0 / math.sqrt(d),
                                                dropout_p=p, generator=self.generator)
        o = S.reshape(S.permute(o, 0, 2, 1, 3), (N * L, E))
        out = S.reshape(self.out_proj(o), (N, L, E))
        if weights is not None and average_attn_weights:
            weights = weights.mean(dim=1)
        if unbatched:
            out = S.squeeze(out, 0)
            weights = S.squeeze(weights, 0) if weights is not None else None
        elif not self.batch_first:
            out = S.transpose(out, 0, 1)
        return out, weights


def _additive(m: np.ndarray, dtype) -> np.ndarray:
    """bool (True = forbidden) → 0/−inf; float masks pass through (cast to ``dtype``)."""
    if m.dtype == np.bool_:
        out = np.zeros(m.shape, dtype=dtype)
        out[m] = -np.inf
        return out
    return m.astype(dtype, copy=False)
