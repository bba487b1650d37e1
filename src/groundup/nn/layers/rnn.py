"""Recurrent layers: ``RNN`` (tanh/relu), ``LSTM``, ``GRU`` and their cells, with PyTorch's names,
signatures, shapes and weight layouts (a PyTorch ``state_dict`` loads as is).

The equations (PyTorch's; x_t the input, h the previous hidden state, σ the logistic sigmoid):

RNN   h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)            (or relu)

LSTM  i = σ(W_ii x + b_ii + W_hi h + b_hi)      input gate
      f = σ(W_if x + b_if + W_hf h + b_hf)      forget gate
      g = tanh(W_ig x + b_ig + W_hg h + b_hg)   candidate memory (the primer's c̃)
      o = σ(W_io x + b_io + W_ho h + b_ho)      output gate
      c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)
      weight_ih_l{k} = [W_ii; W_if; W_ig; W_io] (4H, in), weight_hh_l{k} (4H, H):
      gate order i,f,g,o.

GRU   r = σ(W_ir x + b_ir + W_hr h + b_hr)      reset gate
      z = σ(W_iz x + b_iz + W_hz h + b_hz)      update gate
      n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
      h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
      weight_ih_l{k} (3H, in), weight_hh_l{k} (3H, H): gate order r,z,n.

The primer writes one bias per gate (W[h, x] + b); PyTorch keeps two (b_ih and b_hh), which adds
4H parameters to an LSTM layer: hidden 128 and input 64 give 98,816 parameters with one bias and
99,328 with two. ``single_bias=True`` (RNN and LSTM) builds the primer's form (no ``bias_hh``).

Speed: backpropagation through time runs in two parts. The input projections of all time steps
are one matrix product (``x·W_ihᵀ + b_ih`` for the whole (T·B, in) input, recorded by the engine);
the recurrence over time is one fused op per layer and direction (:class:`LSTMRecurrence`,
:class:`GRURecurrence`, :class:`RNNRecurrence`) whose backward runs the reverse-time loop on arrays
and forms ∂W_hh with a single matrix product over all steps. These fused ops are
once-differentiable; :func:`lstm_reference` & co. are the plain step-by-step compositions of Tensor
ops they are tested against (and can be differentiated twice).
"""

from __future__ import annotations

import math

import numpy as np

from groundup._threads import single_threaded_blas
from groundup.autograd.function import Function
from groundup.errors import DTypeError, ShapeError, hint
from groundup.nn import functional as F
from groundup.nn import init
from groundup.nn.module import Module
from groundup.nn.parameter import Parameter
from groundup.ops import elementwise as E
from groundup.ops import shape as S
from groundup.ops._gemm import gemm
from groundup.ops.linalg import Linear as _LinearFn
from groundup.tensor import Tensor

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
           "lstm_parameter_count"]


# ============================================================================ array helpers
def _sigmoid_(x: np.ndarray) -> np.ndarray:
    """σ(x) in place as ½(1 + tanh(x/2)): stable for any x, no masks."""
    x *= 0.5
    np.tanh(x, out=x)
    x += 1.0
    x *= 0.5
    return x


def _one_blas_thread(step_loop):
    """Run a recurrence's time loop with NumPy's BLAS on one thread. Its per-step products are
    small (batch × hidden × gates: 4 M multiply-adds for 128 LSTM units on batches of 64), and
    waking BLAS's threads for each of them costs more than they share: an MNIST-rows LSTM ran 2.5
    to 6 times slower on a busy 2-core machine with them (the products over all steps at once go
    through :func:`gemm`, which splits the large ones over groundup's threads)."""
    def run(*args, **kwargs):
        with single_threaded_blas:
            return step_loop(*args, **kwargs)
    run.__name__, run.__doc__ = step_loop.__name__, step_loop.__doc__
    return run


def _order(T: int, reverse: bool):
    return range(T - 1, -1, -1) if reverse else range(T)


def _dw_hh(dgates: np.ndarray, hs: np.ndarray, h0: np.ndarray, reverse: bool) -> np.ndarray:
    """Σ_t dgates_t ᵀ · h_{t−1} in one product: h_{t−1} is the previous output in time order
    (h0 for the first step processed)."""
    T, B, G = dgates.shape
    H = hs.shape[-1]
    if reverse:  # step t used h_{t+1}; the last step (t = T−1) used h0
        dw = dgates[T - 1].T @ h0
        if T > 1:
            dw += gemm(dgates[:T - 1].reshape(-1, G).T, hs[1:T].reshape(-1, H))
    else:
        dw = dgates[0].T @ h0
        if T > 1:
            dw += gemm(dgates[1:].reshape(-1, G).T, hs[:T - 1].reshape(-1, H))
    return dw


def _prev(t: int, T: int, reverse: bool) -> int | None:
    """Index of the step whose output was h_{t−1} for step t (None: the initial state)."""
    if reverse:
        return t + 1 if t < T - 1 else None
    return t - 1 if t > 0 else None


def _grad(arr, needed: bool, like):
    if not needed:
        return None
    return Tensor(arr.astype(like.dtype, copy=False).reshape(like.shape))


# ============================================================================ fused recurrences
class RNNRecurrence(Function):
    """The Elman recurrence over a whole sequence, fused: h_t = act(xp_t + h_{t−1}·W_hhᵀ + b_hh).

    Shapes: xp (T, B, H) (the input projections x_t·W_ihᵀ + b_ih of all steps), h0 (B, H),
    w_hh (H, H), b_hh (H,) or None → output (T, B, H), the hidden state at every step (in time
    order, also when ``reverse``). Backward (reverse time):
    a_t = (g_t + ∂h_t from step t+1)·act'(·),
    ∂h_{t−1} = a_t·W_hh, ∂W_hh = Σ a_tᵀ h_{t−1}, ∂b_hh = Σ a_t, ∂xp_t = a_t.
    """

    once_differentiable = True

    @staticmethod
    @_one_blas_thread
    def forward(ctx, xp, h0, w_hh, b_hh=None, nonlinearity="tanh", reverse=False):
        T, B, H = xp.shape
        out = np.empty((T, B, H), dtype=xp.dtype)
        whT = w_hh.T
        h = h0
        for t in _order(T, reverse):
            a = out[t]
            np.matmul(h, whT, out=a)
            a += xp[t]
            if b_hh is not None:
                a += b_hh
            if nonlinearity == "tanh":
                np.tanh(a, out=a)
            else:
                np.maximum(a, 0, out=a)
            h = a
        ctx.out, ctx.nl, ctx.reverse = out, nonlinearity, reverse
        return out

    @staticmethod
    @_one_blas_thread
    def backward(ctx, grad):
        xp, h0, w_hh, b_hh = ctx.inputs
        out, reverse = ctx.out, ctx.reverse
        g = grad.data
        T, B, H = out.shape
        W = w_hh.data
        da = np.empty_like(out)
        dh = np.zeros((B, H), dtype=out.dtype)
        for t in _order(T, not reverse):
            d = da[t]
            np.add(g[t], dh, out=d)
            if ctx.nl == "tanh":
                d *= 1.0 - out[t] * out[t]
            else:
                d *= out[t] > 0
            dh = d @ W
        h0a = np.broadcast_to(_arr(h0), (B, H))
        need = ctx.needs_input_grad
        return (_grad(da, need[0], xp),
                _grad(dh, need[1], h0),
                _grad(_dw_hh(da, out, h0a, reverse), need[2], w_hh),
                _grad(da.sum(axis=(0, 1)), b_hh is not None and need[3], b_hh))


class LSTMRecurrence(Function):
    """The LSTM recurrence over a whole sequence, fused (gates in one product per step).

    Shapes: xp (T, B, 4H) (x_t·W_ihᵀ + b_ih for all steps, gate order i,f,g,o), h0 and c0 (B, H),
    w_hh (4H, H), b_hh (4H,) or None → output (T+1, B, H): rows 0..T−1 are h_t in time order, row
    T is the final cell state c_n. Backward (reverse time), with ∂h_t = g_t + ∂h from step t+1:
    ∂o = ∂h_t·tanh c_t, ∂c_t += ∂h_t·o·(1 − tanh² c_t), ∂i = ∂c_t·g, ∂g = ∂c_t·i,
    ∂f = ∂c_t·c_{t−1}, ∂c_{t−1} = ∂c_t·f; pre-activations ∂a = [∂i·i(1−i), ∂f·f(1−f), ∂g·(1−g²),
    ∂o·o(1−o)]; ∂h_{t−1} = ∂a·W_hh, ∂W_hh = Σ ∂aᵀ h_{t−1}, ∂xp_t = ∂a.
    """

    once_differentiable = True

    @staticmethod
    @_one_blas_thread
    def forward(ctx, xp, h0, c0, w_hh, b_hh=None, reverse=False):
        T, B, G = xp.shape
        H = G // 4
        dt = xp.dtype
        gates = np.empty((T, B, G), dtype=dt)
        cs = np.empty((T, B, H), dtype=dt)
        tcs = np.empty((T, B, H), dtype=dt)
        out = np.empty((T + 1, B, H), dtype=dt)
        # σ(x) = ½(1 + tanh(x/2)): scale the i, f, o rows by ½ once, so that one tanh over all
        # 4H pre-activations gives tanh(g) and, after ½(· + 1), the three sigmoid gates.
        scale = np.full(G, 0.5, dtype=dt)
        scale[2 * H:3 * H] = 1.0
        whT = (w_hh * scale[:, None]).T
        xs = xp * scale
        if b_hh is not None:
            xs += b_hh * scale
        h, c = h0, c0
        for t in _order(T, reverse):
            a = gates[t]
            np.matmul(h, whT, out=a)
            a += xs[t]
            np.tanh(a, out=a)
            for sig in (a[:, :2 * H], a[:, 3 * H:]):
                sig += 1.0
                sig *= 0.5
            ct = cs[t]
            np.multiply(a[:, H:2 * H], c, out=ct)
            ct += a[:, :H] * a[:, 2 * H:3 * H]
            np.tanh(ct, out=tcs[t])
            h = out[t]
            np.multiply(a[:, 3 * H:], tcs[t], out=h)
            c = ct
        out[T] = c
        ctx.gates, ctx.cs, ctx.tcs, ctx.out, ctx.reverse = gates, cs, tcs, out, reverse
        return out

    @staticmethod
    @_one_blas_thread
    def backward(ctx, grad):
        xp, h0, c0, w_hh, b_hh = ctx.inputs
        gates, cs, tcs, out, reverse = ctx.gates, ctx.cs, ctx.tcs, ctx.out, ctx.reverse
        g = grad.data
        T, B, G = gates.shape
        H = G // 4
        W = w_hh.data
        c0a = np.broadcast_to(_arr(c0), (B, H))
        # the activations' derivatives for all steps at once (few large ops, not many small
        # ones per step): σ' = σ(1 − σ) for i, f, o; tanh' = 1 − g² for g; o·(1 − tanh² c)
        deriv = gates * (1.0 - gates)
        gg_all = gates[:, :, 2 * H:3 * H]
        np.multiply(gg_all, gg_all, out=deriv[:, :, 2 * H:3 * H])
        np.subtract(1.0, deriv[:, :, 2 * H:3 * H], out=deriv[:, :, 2 * H:3 * H])
        o_dtc = 1.0 - tcs * tcs
        o_dtc *= gates[:, :, 3 * H:]
        dgates = np.empty_like(gates)
        dh = np.zeros((B, H), dtype=gates.dtype)
        dc = np.array(g[T], dtype=gates.dtype)
        for t in _order(T, not reverse):
            a, da = gates[t], deriv[t]
            i, f, gg = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H]
            dht = g[t] + dh
            d = dgates[t]
            di, df, dg, do = d[:, :H], d[:, H:2 * H], d[:, 2 * H:3 * H], d[:, 3 * H:]
            np.multiply(dht, tcs[t], out=do)
            do *= da[:, 3 * H:]
            dht *= o_dtc[t]
            dc += dht
            p = _prev(t, T, reverse)
            cprev = c0a if p is None else cs[p]
            np.multiply(dc, gg, out=di)
            di *= da[:, :H]
            np.multiply(dc, cprev, out=df)
            df *= da[:, H:2 * H]
            np.multiply(dc, i, out=dg)
            dg *= da[:, 2 * H:3 * H]
            dc *= f
            dh = d @ W
        h0a = np.broadcast_to(_arr(h0), (B, H))
        need = ctx.needs_input_grad
        return (_grad(dgates, need[0], xp),
                _grad(dh, need[1], h0),
                _grad(dc, need[2], c0),
                _grad(_dw_hh(dgates, out[:T], h0a, reverse), need[3], w_hh),
                _grad(dgates.sum(axis=(0, 1)), b_hh is not None and need[4], b_hh))


class GRURecurrence(Function):
    """The GRU recurrence over a whole sequence, fused.

    Shapes: xp (T, B, 3H) (x_t·W_ihᵀ + b_ih, gate order r,z,n), h0 (B, H), w_hh (3H, H), b_hh (3H,)
    or None → output (T, B, H) in time order. With hp = h_{t−1}·W_hhᵀ + b_hh:
    r, z = σ(xp_rz + hp_rz), n = tanh(xp_n + r·hp_n), h_t = n + z·(h_{t−1} − n).
    Backward: ∂z = ∂h·(h_{t−1} − n), ∂n = ∂h·(1 − z), ∂a_n = ∂n·(1 − n²), ∂r = ∂a_n·hp_n;
    ∂xp = [∂r·r(1−r), ∂z·z(1−z), ∂a_n], ∂hp = [same, same, ∂a_n·r];
    ∂h_{t−1} = ∂h·z + ∂hp·W_hh, ∂W_hh = Σ ∂hpᵀ h_{t−1}.
    """

    once_differentiable = True

    @staticmethod
    @_one_blas_thread
    def forward(ctx, xp, h0, w_hh, b_hh=None, reverse=False):
        T, B, G = xp.shape
        H = G // 3
        dt = xp.dtype
        rz = np.empty((T, B, 2 * H), dtype=dt)
        ns = np.empty((T, B, H), dtype=dt)
        hpn = np.empty((T, B, H), dtype=dt)
        out = np.empty((T, B, H), dtype=dt)
        whT = w_hh.T
        h = h0
        for t in _order(T, reverse):
            hp = h @ whT
            if b_hh is not None:
                hp += b_hh
            x = xp[t]
            a = rz[t]
            np.add(x[:, :2 * H], hp[:, :2 * H], out=a)
            _sigmoid_(a)
            hpn[t] = hp[:, 2 * H:]
            n = ns[t]
            np.multiply(a[:, :H], hp[:, 2 * H:], out=n)
            n += x[:, 2 * H:]
            np.tanh(n, out=n)
            ht = out[t]
            np.subtract(h, n, out=ht)
            ht *= a[:, H:]
            ht += n
            h = ht
        ctx.rz, ctx.ns, ctx.hpn, ctx.out, ctx.reverse = rz, ns, hpn, out, reverse
        return out

    @staticmethod
    @_one_blas_thread
    def backward(ctx, grad):
        xp, h0, w_hh, b_hh = ctx.inputs
        rz, ns, hpn, out, reverse = ctx.rz, ctx.ns, ctx.hpn, ctx.out, ctx.reverse
        g = grad.data
        T, B, H = out.shape
        W = w_hh.data
        h0a = np.broadcast_to(_arr(h0), (B, H))
        dx = np.empty((T, B, 3 * H), dtype=out.dtype)
        dhp = np.empty((T, B, 3 * H), dtype=out.dtype)
        dh = np.zeros((B, H), dtype=out.dtype)
        # factors of all steps at once: σ'(r), σ'(z)·(h_{t−1} − n), (1 − z)(1 − n²)
        drz = rz * (1.0 - rz)
        zz = rz[:, :, H:]
        hprev_all = np.empty_like(out)
        if reverse:
            hprev_all[:T - 1], hprev_all[T - 1] = out[1:], h0a
        else:
            hprev_all[1:], hprev_all[0] = out[:T - 1], h0a
        hprev_all -= ns
        drz[:, :, H:] *= hprev_all
        dn = (1.0 - zz) * (1.0 - ns * ns)
        for t in _order(T, not reverse):
            r, z = rz[t, :, :H], rz[t, :, H:]
            dht = g[t] + dh
            d = dx[t]
            dr, dz, dan = d[:, :H], d[:, H:2 * H], d[:, 2 * H:]
            np.multiply(dht, drz[t, :, H:], out=dz)
            np.multiply(dht, dn[t], out=dan)
            np.multiply(dan, hpn[t], out=dr)
            dr *= drz[t, :, :H]
            e = dhp[t]
            e[:, :2 * H] = d[:, :2 * H]
            np.multiply(dan, r, out=e[:, 2 * H:])
            dh = dht * z
            dh += e @ W
        need = ctx.needs_input_grad
        return (_grad(dx, need[0], xp),
                _grad(dh, need[1], h0),
                _grad(_dw_hh(dhp, out, h0a, reverse), need[2], w_hh),
                _grad(dhp.sum(axis=(0, 1)), b_hh is not None and need[3], b_hh))


def _arr(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


# ============================================================================ references
def rnn_reference(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """One Elman step from elementary Tensor ops (the plain form the fused op is tested against):
    x (B, in), h (B, H) → act(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)."""
    a = x @ w_ih.T + h @ w_hh.T
    if b_ih is not None:
        a = a + b_ih
    if b_hh is not None:
        a = a + b_hh
    return E.tanh(a) if nonlinearity == "tanh" else a.relu()


def lstm_reference(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step from elementary Tensor ops, exactly the gate equations of the module
    docstring: returns (h_t, c_t)."""
    a = x @ w_ih.T + h @ w_hh.T
    if b_ih is not None:
        a = a + b_ih
    if b_hh is not None:
        a = a + b_hh
    i, f, g, o = S.chunk(a, 4, dim=-1)
    i, f, g, o = E.sigmoid(i), E.sigmoid(f), E.tanh(g), E.sigmoid(o)
    c = f * c + i * g
    return o * E.tanh(c), c


def gru_reference(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step from elementary Tensor ops: returns h_t."""
    gx = x @ w_ih.T
    gh = h @ w_hh.T
    if b_ih is not None:
        gx = gx + b_ih
    if b_hh is not None:
        gh = gh + b_hh
    xr, xz, xn = S.chunk(gx, 3, dim=-1)
    hr, hz, hn = S.chunk(gh, 3, dim=-1)
    r = E.sigmoid(xr + hr)
    z = E.sigmoid(xz + hz)
    n = E.tanh(xn + r * hn)
    return (1.0 - z) * n + z * h


# ============================================================================ layers
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def lstm_parameter_count(input_size: int, hidden_size: int, num_layers: int = 1,
                         bidirectional: bool = False, biases_per_gate: int = 2) -> int:
    """Parameters of an LSTM: per layer and direction 4·H·(in + H) weights plus
    ``biases_per_gate``·4·H biases (PyTorch: 2, b_ih and b_hh; the primer: 1). The primer's LSTM
    (input 64, hidden 128): 98,304 weights, 98,816 with one bias, 99,328 with two."""
    d = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        n_in = input_size if layer == 0 else hidden_size * d
        total += d * (4 * hidden_size * (n_in + hidden_size) + biases_per_gate * 4 * hidden_size)
    return total


def _float_dtype(dtype):
    dt = np.dtype(np.float32 if dtype is None else dtype)
    if dt.kind != "f":
        raise DTypeError(f"recurrent layers hold floating-point parameters, got dtype {dt}; "
                         "help: use float32 or float64")
    return dt


def _layout_help(shape, input_size) -> str:
    if len(shape) == 3 and shape[1] == input_size:
        return ("the features seem to be on axis 1 (the (N, C, L) layout of Conv1d): use "
                "x.transpose(1, 2) with batch_first=True")
    if len(shape) == 4 and shape[1] == 1:
        return "for images (N, 1, H, W) read row by row, pass x.squeeze(1) with batch_first=True"
    return "the last axis holds the features of one time step"


class RNNBase(Module):
    """Shared machinery of :class:`RNN`, :class:`LSTM` and :class:`GRU` (PyTorch's ``RNNBase``).

    Parameters per layer k (and with suffix ``_reverse`` for the backward direction):
    ``weight_ih_l{k}`` (G·H, in_k), ``weight_hh_l{k}`` (G·H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}``
    (G·H,), with G = 1 (RNN), 4 (LSTM) or 3 (GRU) and in_k = input_size for k = 0, else
    D·hidden_size (D = 2 if bidirectional). All initialised U(−1/√H, 1/√H) as in PyTorch.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, single_bias: bool = False,
                 dtype=None, generator=None, device=None) -> None:
        super().__init__()
        name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        if int(hidden_size) <= 0 or int(num_layers) <= 0 or int(input_size) <= 0:
            raise ValueError(hint(
                f"{name}: input_size={input_size}, hidden_size={hidden_size} and num_layers="
                f"{num_layers} must all be positive", "e.g. LSTM(28, 128, num_layers=1)"))
        if not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(hint(f"{name}: dropout={dropout} is not in [0, 1]",
                                  "dropout is the probability of zeroing between layers"))
        if proj_size:
            raise NotImplementedError(hint(f"{name}: proj_size is not supported",
                                           "add a Linear after the LSTM instead"))
        if single_bias and mode == "GRU":
            raise ValueError(hint("GRU: single_bias is not available",
                                  "a GRU's b_hn sits inside r ⊙ (W_hn h + b_hn), so it cannot be "
                                  "merged with b_in"))
        self.mode = mode
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = int(num_layers), bool(bias), batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bool(bidirectional), 0
        self.single_bias = bool(single_bias)
        self.nonlinearity = "relu" if mode == "RNN_RELU" else "tanh"
        dt = _float_dtype(dtype)
        G = _GATES[mode] * self.hidden_size
        D = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(self.num_layers):
            n_in = self.input_size if layer == 0 else self.hidden_size * D
            for suffix in ("", "_reverse")[:D]:
                names = [f"weight_ih_l{layer}{suffix}", f"weight_hh_l{layer}{suffix}"]
                setattr(self, names[0], Parameter(np.empty((G, n_in), dtype=dt)))
                setattr(self, names[1], Parameter(np.empty((G, self.hidden_size), dtype=dt)))
                if bias:
                    names.append(f"bias_ih_l{layer}{suffix}")
                    setattr(self, names[-1], Parameter(np.empty((G,), dtype=dt)))
                    if not single_bias:
                        names.append(f"bias_hh_l{layer}{suffix}")
                        setattr(self, names[-1], Parameter(np.empty((G,), dtype=dt)))
                self._flat_weights_names.extend(names)
        self.reset_parameters(generator)

    def flatten_parameters(self) -> None:
        """PyTorch's cuDNN weight-compaction hook: nothing to do on the CPU (kept so that code
        written for ``torch.nn.LSTM`` runs unchanged)."""

    @property
    def all_weights(self) -> list:
        """The parameters grouped per layer and direction, in PyTorch's order."""
        per = 4 if self.bias and not self.single_bias else (3 if self.bias else 2)
        names = self._flat_weights_names
        return [[self.__dict__[n] for n in names[i:i + per]] for i in range(0, len(names), per)]

    @property
    def _name(self) -> str:
        return {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(self.mode, self.mode)

    def reset_parameters(self, generator=None) -> None:
        """PyTorch's init: every weight and bias ~ U(−1/√hidden_size, 1/√hidden_size)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound, generator=generator)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        if self.single_bias:
            s += ", single_bias=True"
        return s

    # ------------------------------------------------------------------ checks
    def _check_input(self, x):
        name = self._name
        if not isinstance(x, Tensor):
            raise TypeError(hint(f"{name}: input must be a Tensor, got {type(x).__name__}",
                                 "wrap it with groundup.tensor(...)"))
        if x.dtype.kind != "f":
            raise DTypeError(hint(f"{name}: input has dtype {x.dtype}; expected a float tensor",
                                  "convert it with .float()"))
        layout = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ShapeError(hint(
                f"{name}(input_size={self.input_size}, hidden_size={self.hidden_size}) got input "
                f"of shape {tuple(x.shape)}: expected {layout} or unbatched (L, H_in) with "
                f"H_in={self.input_size}",
                _layout_help(x.shape, self.input_size)))
        if x.ndim == 3 and (x.shape[0] == 0 or x.shape[1] == 0):
            raise ShapeError(hint(f"{name}: got an empty input of shape {tuple(x.shape)}",
                                  "sequences need at least one step and one sample"))
        if x.ndim == 2 and x.shape[0] == 0:
            raise ShapeError(hint(f"{name}: got an empty sequence of shape {tuple(x.shape)}",
                                  "sequences need at least one step"))

    def _check_state(self, state, batch: int | None, what: str):
        D = 2 if self.bidirectional else 1
        expected = ((self.num_layers * D, batch, self.hidden_size) if batch is not None
                    else (self.num_layers * D, self.hidden_size))
        if not isinstance(state, Tensor):
            raise TypeError(hint(f"{self._name}: {what} must be a Tensor, got "
                                 f"{type(state).__name__}", "pass groundup tensors"))
        if tuple(state.shape) != expected:
            raise ShapeError(hint(
                f"{self._name}: initial state {what} has shape {tuple(state.shape)}, expected "
                f"{expected} (num_layers·num_directions, batch, hidden_size)",
                "the batch size must match the input's and hidden_size the layer's"))

    # ------------------------------------------------------------------ forward
    def forward(self, input, hx=None):  # noqa: A002 (PyTorch's name)
        self._check_input(input)
        unbatched = input.ndim == 2
        x = input
        if unbatched:
            x = S.unsqueeze(x, 1)
        elif self.batch_first:
            x = S.transpose(x, 0, 1)
        T, B = x.shape[0], x.shape[1]
        D = 2 if self.bidirectional else 1
        L, H = self.num_layers, self.hidden_size
        is_lstm = self.mode == "LSTM"
        batch = None if unbatched else B
        h0 = c0 = None
        if hx is not None:
            if is_lstm:
                if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                    raise TypeError(hint("LSTM: hx must be a tuple (h_0, c_0)",
                                         "pass both initial states, or neither"))
                h0, c0 = hx
                self._check_state(h0, batch, "h_0")
                self._check_state(c0, batch, "c_0")
            else:
                self._check_state(hx, batch, "h_0")
                h0 = hx
            if unbatched:
                h0 = S.unsqueeze(h0, 1)
                c0 = S.unsqueeze(c0, 1) if c0 is not None else None
            if h0.dtype != x.dtype or (c0 is not None and c0.dtype != x.dtype):
                raise DTypeError(hint(
                    f"{self._name}: initial state dtype {h0.dtype} differs from input dtype "
                    f"{x.dtype}", "cast the states with .to(input.dtype)"))
        zeros = np.zeros((B, H), dtype=x.dtype)
        h_n, c_n = [], []
        layer_in = x
        for layer in range(L):
            if layer > 0 and self.dropout and self.training:
                layer_in = F.dropout(layer_in, self.dropout, True)
            x2 = S.reshape(layer_in, (T * B, layer_in.shape[-1]))
            outs = []
            for d in range(D):
                sfx = "_reverse" if d else ""
                idx = layer * D + d
                w_ih = self.__dict__[f"weight_ih_l{layer}{sfx}"]
                w_hh = self.__dict__[f"weight_hh_l{layer}{sfx}"]
                b_ih = self.__dict__.get(f"bias_ih_l{layer}{sfx}") if self.bias else None
                b_hh = (self.__dict__.get(f"bias_hh_l{layer}{sfx}")
                        if self.bias and not self.single_bias else None)
                xp = S.reshape(_LinearFn.apply(x2, w_ih, b_ih), (T, B, w_ih.shape[0]))
                hi = h0[idx] if h0 is not None else zeros
                rev = bool(d)
                if is_lstm:
                    ci = c0[idx] if c0 is not None else zeros
                    y = LSTMRecurrence.apply(xp, hi, ci, w_hh, b_hh, reverse=rev)
                    seq = y[:T]
                    h_n.append(y[0] if rev else y[T - 1])
                    c_n.append(y[T])
                elif self.mode == "GRU":
                    seq = GRURecurrence.apply(xp, hi, w_hh, b_hh, reverse=rev)
                    h_n.append(seq[0] if rev else seq[T - 1])
                else:
                    seq = RNNRecurrence.apply(xp, hi, w_hh, b_hh, nonlinearity=self.nonlinearity,
                                              reverse=rev)
                    h_n.append(seq[0] if rev else seq[T - 1])
                outs.append(seq)
            layer_in = outs[0] if D == 1 else S.cat(outs, dim=2)
        output = layer_in
        hn = S.stack(h_n, dim=0)
        cn = S.stack(c_n, dim=0) if is_lstm else None
        if unbatched:
            output = S.squeeze(output, 1)
            hn = S.squeeze(hn, 1)
            cn = S.squeeze(cn, 1) if cn is not None else None
        elif self.batch_first:
            output = S.transpose(output, 0, 1)
        return (output, (hn, cn)) if is_lstm else (output, hn)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh) (``nonlinearity="relu"``
    for ReLU), stacked ``num_layers`` deep, optionally bidirectional.

    Shapes: input (L, N, H_in), or (N, L, H_in) with ``batch_first``, or unbatched (L, H_in);
    h_0 (D·num_layers, N, H_out) (zeros if omitted) → output (L, N, D·H_out) (the last layer's
    h_t at every step; batch-first if ``batch_first``), h_n (D·num_layers, N, H_out).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, single_bias: bool = False,
                 dtype=None, generator=None, device=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(hint(f"RNN: unknown nonlinearity {nonlinearity!r}",
                                  "use 'tanh' or 'relu'"))
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         single_bias=single_bias, dtype=dtype, generator=generator)


class LSTM(RNNBase):
    """Long short-term memory (the gate equations are in the module docstring).

    Shapes: input (L, N, H_in) (or (N, L, H_in) with ``batch_first``, or unbatched (L, H_in));
    hx = (h_0, c_0), each (D·num_layers, N, H_out), zeros if omitted → ``(output, (h_n, c_n))`` with
    output (L, N, D·H_out) and h_n, c_n (D·num_layers, N, H_out).

    Parameters: weight_ih_l{k} (4H, in), weight_hh_l{k} (4H, H), bias_ih_l{k}, bias_hh_l{k} (4H,);
    gate order i, f, g, o. Two biases per gate as in PyTorch (``single_bias=True`` gives the
    primer's one; see :func:`lstm_parameter_count`).
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, single_bias: bool = False, dtype=None, generator=None,
                 device=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, single_bias=single_bias, dtype=dtype,
                         generator=generator)


class GRU(RNNBase):
    """Gated recurrent unit (the gate equations are in the module docstring).

    Shapes as :class:`RNN`: input (L, N, H_in) (or batch-first, or unbatched), h_0
    (D·num_layers, N, H_out) → (output (L, N, D·H_out), h_n (D·num_layers, N, H_out)).
    Parameters: weight_ih_l{k} (3H, in), weight_hh_l{k} (3H, H), biases (3H,); gate order r, z, n.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype=None, generator=None, device=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype, generator=generator)


# ============================================================================ cells
class RNNCellBase(Module):
    """One time step. Parameters ``weight_ih`` (G·H, in), ``weight_hh`` (G·H, H), ``bias_ih``,
    ``bias_hh`` (G·H,), all U(−1/√H, 1/√H). Input (N, in) or unbatched (in,)."""

    _gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=None,
                 generator=None, device=None) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bias
        dt = _float_dtype(dtype)
        G = self._gates * self.hidden_size
        self.weight_ih = Parameter(np.empty((G, self.input_size), dtype=dt))
        self.weight_hh = Parameter(np.empty((G, self.hidden_size), dtype=dt))
        if bias:
            self.bias_ih = Parameter(np.empty((G,), dtype=dt))
            self.bias_hh = Parameter(np.empty((G,), dtype=dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound, generator=generator)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def _prepare(self, x, states, names):
        """Validate; return x as (N, in), the states as (N, H) (zeros if None), unbatched flag."""
        name = type(self).__name__
        if not isinstance(x, Tensor) or x.dtype.kind != "f":
            raise DTypeError(hint(f"{name}: input must be a float Tensor",
                                  "wrap it with groundup.tensor(...) and use float32/64"))
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ShapeError(hint(
                f"{name}({self.input_size}, {self.hidden_size}) got input of shape "
                f"{tuple(x.shape)}: expected (N, {self.input_size}) or ({self.input_size},)",
                "a cell takes one time step; loop over time or use the sequence layer"))
        unbatched = x.ndim == 1
        if unbatched:
            x = S.unsqueeze(x, 0)
        N = x.shape[0]
        out = []
        for s, nm in zip(states, names):
            if s is None:
                out.append(np.zeros((N, self.hidden_size), dtype=x.dtype))
                continue
            expected = (self.hidden_size,) if unbatched else (N, self.hidden_size)
            if not isinstance(s, Tensor) or tuple(s.shape) != expected:
                raise ShapeError(hint(
                    f"{name}: state {nm} has shape {tuple(getattr(s, 'shape', ()))}, expected "
                    f"{expected}", "states are (batch, hidden_size), matching the input's batch"))
            out.append(S.unsqueeze(s, 0) if unbatched else s)
        return x, out, unbatched

    def _xp(self, x):
        return S.unsqueeze(_LinearFn.apply(x, self.weight_ih, self.bias_ih), 0)


class RNNCell(RNNCellBase):
    """h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) (or relu). Input (N, in) or (in,), hx (N, H)
    (zeros if omitted) → h' (N, H)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", dtype=None, generator=None, device=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(hint(f"RNNCell: unknown nonlinearity {nonlinearity!r}",
                                  "use 'tanh' or 'relu'"))
        self.__dict__["nonlinearity"] = nonlinearity
        super().__init__(input_size, hidden_size, bias, dtype, generator)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):  # noqa: A002
        x, (h,), unbatched = self._prepare(input, [hx], ["hx"])
        y = RNNRecurrence.apply(self._xp(x), h, self.weight_hh, self.bias_hh,
                                nonlinearity=self.nonlinearity)[0]
        return S.squeeze(y, 0) if unbatched else y


class LSTMCell(RNNCellBase):
    """One LSTM step (gate order i, f, g, o; equations in the module docstring).
    Input (N, in) or (in,), hx = (h, c) each (N, H) (zeros if omitted) → (h', c')."""

    _gates = 4

    def forward(self, input, hx=None):  # noqa: A002
        h, c = (None, None) if hx is None else hx
        x, (h, c), unbatched = self._prepare(input, [h, c], ["h", "c"])
        y = LSTMRecurrence.apply(self._xp(x), h, c, self.weight_hh, self.bias_hh)
        h1, c1 = y[0], y[1]
        if unbatched:
            return S.squeeze(h1, 0), S.squeeze(c1, 0)
        return h1, c1


class GRUCell(RNNCellBase):
    """One GRU step (gate order r, z, n; equations in the module docstring).
    Input (N, in) or (in,), hx (N, H) (zeros if omitted) → h' (N, H)."""

    _gates = 3

    def forward(self, input, hx=None):  # noqa: A002
        x, (h,), unbatched = self._prepare(input, [hx], ["hx"])
        y = GRURecurrence.apply(self._xp(x), h, self.weight_hh, self.bias_hh)[0]
        return S.squeeze(y, 0) if unbatched else y
