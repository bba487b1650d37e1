"""``groundup.nn.functional`` (``F``): the stateless form of every layer and loss, with PyTorch's
names and signatures (``F.linear``, ``F.relu``, ``F.dropout``, ``F.batch_norm``,
``F.cross_entropy``, ...). Modules in ``groundup.nn`` hold parameters and call these.

Losses take ``reduction`` = "none" | "mean" | "sum" and follow PyTorch's formulas exactly (noted per
function where a mean is weighted or a log is clamped).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from groundup.autograd import grad_mode
from groundup.errors import DTypeError, ShapeError, hint
from groundup.nn import _kernels as K
from groundup.ops import activation as _act
from groundup.ops import elementwise as _ew
from groundup.ops.activation import elu, gelu, leaky_relu, relu, softplus
from groundup.ops.elementwise import sigmoid, tanh, where
from groundup.ops.linalg import linear
from groundup.ops.shape import one_hot, pad
from groundup.random import as_numpy_generator
from groundup.tensor import Tensor

_state = grad_mode.state

__all__ = [
    "linear", "relu", "relu_", "leaky_relu", "prelu", "elu", "gelu", "sigmoid", "tanh", "softplus",
    "silu", "softmax", "log_softmax", "step", "sign", "dropout", "dropout1d", "dropout2d",
    "batch_norm", "layer_norm", "group_norm", "embedding", "one_hot", "pad", "mse_loss",
    "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div", "hinge_loss",
    "focal_loss", "sigmoid_focal_loss",
]


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


# ============================================================================ activations
def relu_(x):
    """In-place ReLU is not supported on tracked tensors; returns relu(x) (out of place)."""
    return relu(x)


def prelu(x, weight):
    """PReLU: x if x > 0 else a·x, with ``weight`` a of shape (1,) or (C,) (channel axis 1)."""
    w = weight
    if weight.numel() > 1:
        if x.ndim < 2 or x.shape[1] != weight.shape[0]:
            raise ShapeError(hint(
                f"prelu: weight of {weight.shape[0]} channels does not match input of shape "
                f"{x.shape} (channels are axis 1)",
                "use PReLU(num_parameters=x.shape[1]) or num_parameters=1",
            ))
        w = weight.reshape((1, -1) + (1,) * (x.ndim - 2))
    elif weight.ndim:
        w = weight.reshape(())
    return where(x.data > 0, x, w * x)


def silu(x):
    """SiLU (swish): x·σ(x)."""
    return x * sigmoid(x)


def softmax(x, dim=None, dtype=None):
    """softmax along ``dim``: e^{x_i}/Σ_j e^{x_j} (computed with the max shifted out)."""
    if dtype is not None:
        x = x.to(dtype)
    return _act.softmax(x, dim)


def log_softmax(x, dim=None, dtype=None):
    """log softmax along ``dim``: x_i − log Σ_j e^{x_j}, stable for any logits."""
    if dtype is not None:
        x = x.to(dtype)
    return _act.log_softmax(x, dim)


def step(x, threshold: float = 0.0):
    """The perceptron's Heaviside step: 1 where x ≥ threshold, else 0 (zero gradient)."""
    return Tensor((x.data >= threshold).astype(x.dtype if x.data.dtype.kind == "f" else np.float32))


def sign(x):
    """The perceptron's sign: +1 where x > 0, −1 otherwise (so sign(0) = −1, unlike torch.sign;
    zero gradient)."""
    dt = x.dtype if x.data.dtype.kind == "f" else np.float32
    return Tensor(np.where(x.data > 0, 1, -1).astype(dt))


# ============================================================================ dropout
def _check_p(p, name):
    if not 0.0 <= p <= 1.0:
        raise ValueError(hint(f"{name}: probability p={p} is not in [0, 1]",
                              "p is the probability of zeroing an element (e.g. 0.2)"))


def _dropout_mask(x, shape, p, generator):
    """The scaled keep mask m/(1 − p), m ~ Bernoulli(1 − p), in one vectorised draw.

    Raw 32-bit words from the bit generator are compared with p·2³²: P(keep) = 1 − p to within
    2⁻³², and about twice as fast as drawing floats (this runs every training step)."""
    rng = as_numpy_generator(generator)
    n = int(np.prod(shape))
    words = rng.bit_generator.random_raw((n + 1) // 2).view(np.uint32)[:n].reshape(shape)
    keep = words >= np.uint32(min(math.ceil(p * 2.0**32), 2**32 - 1))
    return np.multiply(keep, 1.0 / (1.0 - p), dtype=x.data.dtype)


def dropout(x, p: float = 0.5, training: bool = True, inplace: bool = False, generator=None):
    """Inverted dropout: in training each element is zeroed with probability p and the rest are
    scaled by 1/(1−p); identity when not training. y = x·m/(1−p), m ~ Bernoulli(1−p)."""
    _check_p(p, "dropout")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return K.MaskMul.apply(x, mask=np.zeros((), dtype=x.data.dtype))
    return K.MaskMul.apply(x, mask=_dropout_mask(x, x.shape, p, generator))


def _channel_dropout(x, p, training, generator, name, min_dim):
    _check_p(p, name)
    if x.ndim < min_dim:
        raise ShapeError(hint(
            f"{name} got input of shape {x.shape}: expected (N, C, ...) with at least {min_dim} "
            "dimensions",
            "channel dropout zeroes whole feature maps; use dropout for flat features",
        ))
    if not training or p == 0.0:
        return x
    shape = x.shape[:2] + (1,) * (x.ndim - 2)
    if p == 1.0:
        return K.MaskMul.apply(x, mask=np.zeros(shape, dtype=x.data.dtype))
    return K.MaskMul.apply(x, mask=_dropout_mask(x, shape, p, generator))


def dropout2d(x, p: float = 0.5, training: bool = True, inplace: bool = False, generator=None):
    """Channel dropout for (N, C, H, W) (or (N, C, L)): whole channels are zeroed with probability
    p, the rest scaled by 1/(1−p)."""
    return _channel_dropout(x, p, training, generator, "dropout2d", 3)


def dropout1d(x, p: float = 0.5, training: bool = True, inplace: bool = False, generator=None):
    """Channel dropout for (N, C, L)."""
    return _channel_dropout(x, p, training, generator, "dropout1d", 3)


# ============================================================================ normalisation
def batch_norm(x, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float | None = 0.1, eps: float = 1e-5, num_batches_tracked=None):
    """Batch normalisation over every axis but the channel axis 1 of x (N, C, ...).

    Training (or no running stats): y = (x − μ_B)/√(σ²_B + ε)·γ + β with the batch's mean and
    biased variance, and the running statistics (if given) updated in place:
    r ← (1 − momentum)·r + momentum·stat, with the *unbiased* batch variance for running_var
    (momentum None: cumulative average over ``num_batches_tracked``). Otherwise
    y = (x − r_mean)/√(r_var + ε)·γ + β.
    """
    if x.ndim < 2:
        raise ShapeError(hint(f"batch_norm: expected input of shape (N, C, ...), got {x.shape}",
                              "add a batch axis with x.unsqueeze(0)"))
    c = x.shape[1]
    pshape = (1, c) + (1,) * (x.ndim - 2)
    axes = (0,) + tuple(range(2, x.ndim))
    use_batch = training or running_mean is None or running_var is None
    if use_batch:
        count = x.data.size // c if c else 0
        if training and count <= 1:
            raise ValueError(hint(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {x.shape}",
                "use a batch size above 1, or call model.eval() to use the running statistics",
            ))
        # channels on separate threads (for large inputs): each has its own statistics, γ and β
        split = 1 if c > 1 else None
        mean, var, xc = K.moments(x.data, axes, split)
        if training and running_mean is not None:
            if momentum is None:
                n = int(num_batches_tracked.data) if num_batches_tracked is not None else 1
                factor = 1.0 / max(n, 1)
            else:
                factor = momentum
            unbiased = var.reshape(c) * (count / max(count - 1, 1))
            rm, rv = running_mean.data, running_var.data
            rm *= 1.0 - factor
            rm += factor * mean.reshape(c)
            rv *= 1.0 - factor
            rv += factor * unbiased
        return K.Normalize.apply(x, weight, bias, axes=axes, eps=eps, pshape=pshape, xc=xc,
                                 var=var, split=split)
    inv = 1.0 / np.sqrt(running_var.data + eps)
    scale = Tensor((inv).astype(x.data.dtype, copy=False))
    shift = Tensor((-running_mean.data * inv).astype(x.data.dtype, copy=False))
    if weight is not None:
        scale = weight * scale
        shift = weight * shift
    if bias is not None:
        shift = shift + bias
    return x * scale.reshape(pshape) + shift.reshape(pshape)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Layer normalisation over the trailing ``normalized_shape`` axes of each sample:
    y = (x − μ)/√(σ² + ε)·γ + β (biased variance)."""
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(ns)
    if x.shape[x.ndim - k:] != ns or x.ndim < k:
        raise ShapeError(hint(
            f"layer_norm: input of shape {x.shape} does not end with normalized_shape {ns}",
            f"expected (..., {', '.join(map(str, ns))})",
        ))
    axes = tuple(range(x.ndim - k, x.ndim))
    _, var, xc = K.moments(x.data, axes)
    return K.Normalize.apply(x, weight, bias, axes=axes, eps=eps, pshape=ns, xc=xc, var=var)


def group_norm(x, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Group normalisation of x (N, C, ...): statistics over each group of C/num_groups channels
    and all spatial positions; then per-channel y·γ_c + β_c."""
    if x.ndim < 2 or x.shape[1] % num_groups:
        raise ShapeError(hint(
            f"group_norm: input of shape {x.shape} cannot be split into {num_groups} groups "
            "along the channel axis 1",
            "num_channels must be divisible by num_groups",
        ))
    n, c = x.shape[:2]
    xg = x.reshape(n, num_groups, -1)
    _, var, xc = K.moments(xg.data, (2,))
    y = K.Normalize.apply(xg, None, None, axes=(2,), eps=eps, pshape=(), xc=xc, var=var)
    y = y.reshape(x.shape)
    pshape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(pshape)
    if bias is not None:
        y = y + bias.reshape(pshape)
    return y


# ============================================================================ embedding
def embedding(indices, weight, padding_idx=None):
    """Rows of ``weight`` (V, D) at integer ``indices`` (...) → (..., D); the row at
    ``padding_idx`` receives no gradient."""
    idx = np.asarray(_raw(indices))
    if idx.dtype.kind not in "iu":
        raise DTypeError(hint(f"embedding: indices must be integers, got dtype {idx.dtype}",
                              "convert token ids with .long()"))
    v = weight.shape[0]
    if idx.size and (idx.min() < -v or idx.max() >= v):
        raise ValueError(hint(
            f"embedding: index {int(idx.max() if idx.max() >= v else idx.min())} is out of range "
            f"for {v} embeddings",
            f"indices must lie in [0, {v - 1}]; raise num_embeddings",
        ))
    if padding_idx is not None and padding_idx < 0:
        padding_idx += v
    return K.EmbeddingLookup.apply(weight, indices=idx, padding_idx=padding_idx)


# ============================================================================ losses
_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction, name):
    if reduction not in _REDUCTIONS:
        raise ValueError(hint(f"{name}: reduction={reduction!r} is not valid",
                              "use 'none', 'mean' or 'sum'"))


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _as_tensor(t, like):
    if isinstance(t, Tensor):
        return t
    arr = np.asarray(t)
    if arr.dtype.kind in "fiub" and like.data.dtype.kind == "f":
        arr = arr.astype(like.data.dtype)
    return Tensor(arr)


def _same_shape(name, input, target):
    if input.shape != target.shape:
        # PyTorch broadcasts with a warning here; (N, 1) against (N,) is the classic bug.
        warnings.warn(
            f"{name}: target size {tuple(target.shape)} differs from input size "
            f"{tuple(input.shape)}; they will be broadcast, which is likely wrong. help: make "
            "both the same shape (e.g. output.squeeze(-1) or target.unsqueeze(-1))",
            UserWarning, stacklevel=3,
        )


def mse_loss(input, target, reduction: str = "mean"):
    """Mean squared error: (x − y)² per element, then reduced."""
    _check_reduction(reduction, "mse_loss")
    target = _as_tensor(target, input)
    _same_shape("mse_loss", input, target)
    d = input - target
    return _reduce(d * d, reduction)


def l1_loss(input, target, reduction: str = "mean"):
    """Mean absolute error: |x − y| per element, then reduced (gradient sign(x − y), 0 at 0)."""
    _check_reduction(reduction, "l1_loss")
    target = _as_tensor(target, input)
    _same_shape("l1_loss", input, target)
    return _reduce((input - target).abs(), reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0):
    """Huber: ½e² if |e| < δ else δ(|e| − ½δ), e = x − y (PyTorch's HuberLoss; the course's)."""
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    target = _as_tensor(target, input)
    _same_shape("huber_loss", input, target)
    e = input - target
    a = e.abs()
    quad = np.abs(e.data) < delta
    loss = where(quad, e * e * 0.5, (a - 0.5 * delta) * delta)
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0):
    """Smooth L1: ½e²/β if |e| < β else |e| − ½β (= Huber/β; β = 0 gives L1)."""
    _check_reduction(reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    target = _as_tensor(target, input)
    _same_shape("smooth_l1_loss", input, target)
    e = input - target
    a = e.abs()
    if beta == 0:
        return _reduce(a, reduction)
    quad = np.abs(e.data) < beta
    loss = where(quad, e * e * (0.5 / beta), a - 0.5 * beta)
    return _reduce(loss, reduction)


def _clamped_log(x):
    # PyTorch's BCE clamps log(·) at −100 so that p = 0 or 1 gives a finite loss.
    with np.errstate(divide="ignore"):
        return _ew.log(x).clamp(min=-100.0)


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean"):
    """BCE on probabilities: −w[y·log p + (1 − y)·log(1 − p)], logs clamped at −100 (PyTorch)."""
    _check_reduction(reduction, "binary_cross_entropy")
    target = _as_tensor(target, input)
    if input.shape != target.shape:
        raise ShapeError(hint(
            f"binary_cross_entropy: target of shape {target.shape} differs from input of shape "
            f"{input.shape}",
            "give one probability per target (squeeze the model's (N, 1) output to (N,))",
        ))
    p = input.data
    if p.size and (np.nanmin(p) < 0 or np.nanmax(p) > 1):
        raise ValueError(hint(
            "binary_cross_entropy: input values must be probabilities in [0, 1]",
            "apply sigmoid first, or use binary_cross_entropy_with_logits on raw scores",
        ))
    loss = -(target * _clamped_log(input) + (1.0 - target) * _clamped_log(1.0 - input))
    if weight is not None:
        loss = loss * _as_tensor(weight, input)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean",
                                     pos_weight=None):
    """BCE on logits z, stable for any z: w·[pw·y·softplus(−z) + (1 − y)·softplus(z)]
    (= −w[pw·y·log σ(z) + (1 − y)·log(1 − σ(z))]); ``pos_weight`` broadcasts over the last axis."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    target = _as_tensor(target, input)
    if input.shape != target.shape:
        raise ShapeError(hint(
            f"binary_cross_entropy_with_logits: target of shape {target.shape} differs from input "
            f"of shape {input.shape}",
            "give one logit per target (squeeze the model's (N, 1) output to (N,))",
        ))
    inf = math.inf
    sp_neg = softplus(-input, threshold=inf)  # −log σ(z)
    sp_pos = softplus(input, threshold=inf)  # −log(1 − σ(z))
    if pos_weight is not None:
        pw = _as_tensor(pos_weight, input)
        loss = pw * target * sp_neg + (1.0 - target) * sp_pos
    else:
        loss = target * sp_neg + (1.0 - target) * sp_pos
    if weight is not None:
        loss = loss * _as_tensor(weight, input)
    return _reduce(loss, reduction)


def _check_class_input(name, input, target, probs):
    if input.ndim == 0:
        raise ShapeError(hint(f"{name}: input must have a class axis, got a scalar",
                              "pass scores of shape (N, C) or (C,)"))
    if probs:
        if target.shape != input.shape:
            raise ShapeError(hint(
                f"{name}: probability target of shape {target.shape} differs from input of "
                f"shape {input.shape}",
                "class probabilities must have the input's shape; integer class indices have "
                "the input's shape without the class axis",
            ))
        return
    expect = input.shape[:1] + input.shape[2:] if input.ndim >= 2 else ()
    if tuple(target.shape) != expect:
        raise ShapeError(hint(
            f"{name}: target of shape {tuple(target.shape)} does not match input of shape "
            f"{input.shape}: expected class indices of shape {expect}",
            "targets are class indices (N,) for input (N, C) — not one-hot rows; use "
            "target.argmax(1), or pass float probabilities of the input's shape",
        ))


def _weight_array(weight, input, name):
    if weight is None:
        return None
    w = np.asarray(_raw(weight), dtype=input.data.dtype)
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    if w.shape != (c,):
        raise ShapeError(hint(f"{name}: weight of shape {w.shape} does not match {c} classes",
                              "give one weight per class, shape (C,)"))
    return w


def cross_entropy(input, target, weight=None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0):
    """Cross-entropy from logits, one fused stable op (log-softmax + NLL).

    input (C,), (N, C) or (N, C, d…); target class indices ((), (N) or (N, d…), int) or class
    probabilities (input's shape, float). loss_i = −Σ_c w_c·t_ic·log softmax(x_i)_c with t the
    one-hot target smoothed to (1 − ε)·t + ε/C. "mean" over indices divides by Σ_i w_{y_i}
    (ignored targets excluded); over probabilities by N. Gradient (softmax − target)/N.
    For second derivatives either works (the backward is differentiable), as does
    ``nll_loss(log_softmax(x, 1), y)``.
    """
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    t_raw = _raw(target)
    t_arr = np.asarray(t_raw)
    probs = t_arr.dtype.kind == "f"
    _check_class_input("cross_entropy", input, t_arr, probs)
    w = _weight_array(weight, input, "cross_entropy")
    if probs:
        tgt = target if isinstance(target, Tensor) else Tensor(t_arr.astype(input.data.dtype))
    else:
        if t_arr.dtype.kind not in "iu":
            raise DTypeError(hint(f"cross_entropy: target dtype {t_arr.dtype} is not supported",
                                  "use integer class indices (.long()) or float probabilities"))
        tgt = t_arr
    return K.CrossEntropy.apply(input, tgt, weight=w, ignore_index=ignore_index,
                                reduction=reduction, label_smoothing=label_smoothing, probs=probs)


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """Negative log-likelihood of log-probabilities ``input`` (C,), (N, C) or (N, C, d…) at class
    indices ``target``: loss_i = −w_{y_i}·input[i, y_i]; "mean" divides by Σ_i w_{y_i} (ignored
    targets excluded). Built from gather, so it is twice differentiable."""
    _check_reduction(reduction, "nll_loss")
    y = np.asarray(_raw(target))
    _check_class_input("nll_loss", input, y, False)
    if y.dtype.kind not in "iu":
        raise DTypeError(hint(f"nll_loss: target must hold integer class indices, got {y.dtype}",
                              "convert with .long()"))
    w = _weight_array(weight, input, "nll_loss")
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    valid = y != ignore_index
    yc = np.where(valid, y, 0)
    if yc.size and (yc.min() < 0 or yc.max() >= c):
        raise ValueError(hint(f"nll_loss: a target class is out of range for {c} classes",
                              f"class indices must lie in [0, {c - 1}] or equal ignore_index"))
    cdim = 0 if input.ndim == 1 else 1
    picked = input.gather(cdim, Tensor(np.expand_dims(yc, cdim).astype(np.int64))).squeeze(cdim)
    w_y = (w[yc] if w is not None else np.ones(yc.shape, dtype=input.data.dtype)) * valid
    loss = -(picked * Tensor(w_y.astype(input.data.dtype)))
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return loss.sum() / float(w_y.sum())


def kl_div(input, target, reduction: str = "mean", log_target: bool = False):
    """KL divergence with ``input`` = log q and ``target`` = p (or log p with ``log_target``):
    p·(log p − log q) per element (0 where p = 0). reduction "batchmean" divides the sum by N
    (the true KL per sample); "mean" averages over all elements like PyTorch."""
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(hint(f"kl_div: reduction={reduction!r} is not valid",
                              "use 'batchmean' (the mathematical KL), 'sum', 'mean' or 'none'"))
    target = _as_tensor(target, input)
    if log_target:
        loss = _ew.exp(target) * (target - input)
    else:
        t = target.data
        if target.requires_grad:
            pos = t > 0
            plogp = where(pos, target * _ew.log(where(pos, target, 1.0)), 0.0)
        else:
            # xlogy: p·log p is defined as 0 at p = 0
            with np.errstate(divide="ignore", invalid="ignore"):
                plogp = np.where(t > 0, t * np.log(np.where(t > 0, t, 1)), 0)
                plogp = Tensor(plogp.astype(t.dtype))
        loss = plogp - target * input
    if reduction == "batchmean":
        n = input.shape[0] if input.ndim else 1
        return loss.sum() / n
    return _reduce(loss, reduction)


def hinge_loss(input, target, margin: float = 1.0, reduction: str = "mean"):
    """The SVM hinge loss for labels y ∈ {−1, +1}: max(0, margin − y·f) per sample."""
    _check_reduction(reduction, "hinge_loss")
    target = _as_tensor(target, input)
    y = target.data
    if y.size and not np.all((y == 1) | (y == -1)):
        raise ValueError(hint("hinge_loss: labels must be −1 or +1",
                              "map {0, 1} labels with y = 2·y − 1"))
    if input.shape != target.shape:
        raise ShapeError(hint(f"hinge_loss: input of shape {input.shape} and target of shape "
                              f"{target.shape} differ", "give one score per label"))
    return _reduce(relu(margin - target * input), reduction)


def sigmoid_focal_loss(input, target, alpha: float = 0.25, gamma: float = 2.0,
                       reduction: str = "mean"):
    """Binary focal loss on logits (torchvision's form): −α_t·(1 − p_t)^γ·log p_t with p = σ(z),
    p_t = p for y = 1 and 1 − p for y = 0, α_t = α·y + (1 − α)(1 − y) (α < 0: no weighting)."""
    _check_reduction(reduction, "sigmoid_focal_loss")
    target = _as_tensor(target, input)
    p = sigmoid(input)
    ce = binary_cross_entropy_with_logits(input, target, reduction="none")
    p_t = p * target + (1.0 - p) * (1.0 - target)
    loss = ce * (1.0 - p_t) ** gamma
    if alpha >= 0:
        loss = loss * (target * alpha + (1.0 - target) * (1.0 - alpha))
    return _reduce(loss, reduction)


def focal_loss(input, target, alpha=0.25, gamma: float = 2.0, reduction: str = "mean"):
    """The course's focal loss −α_t·(1 − p̂_t)^γ·log p̂_t from logits.

    Binary (target of the input's shape, 0/1): p̂ = σ(z), as :func:`sigmoid_focal_loss`.
    Multi-class (input (N, C), target indices (N)): p̂_t = softmax(z)[y]; ``alpha`` a scalar or a
    per-class sequence α_c. γ = 0 and α = 1 give the cross-entropy.
    """
    t = np.asarray(_raw(target))
    if t.dtype.kind in "iu" and input.ndim >= 1 and tuple(t.shape) != tuple(input.shape):
        _check_reduction(reduction, "focal_loss")
        _check_class_input("focal_loss", input, t, False)
        cdim = 0 if input.ndim == 1 else 1
        logp = log_softmax(input, cdim)
        logp_t = logp.gather(cdim, Tensor(np.expand_dims(t, cdim).astype(np.int64))).squeeze(cdim)
        p_t = _ew.exp(logp_t)
        a = np.asarray(alpha, dtype=input.data.dtype)
        a_t = Tensor(a[t] if a.ndim else np.full(t.shape, a, dtype=input.data.dtype))
        return _reduce(-(a_t * (1.0 - p_t) ** gamma * logp_t), reduction)
    return sigmoid_focal_loss(input, target, alpha=alpha, gamma=gamma, reduction=reduction)


def _load_conv_ops():
    """Re-export the convolution and pooling functions of ``groundup.ops.conv`` and
    ``groundup.ops.pooling`` (imported late: those modules import the autograd machinery)."""
    import importlib

    g = globals()
    for modname in ("groundup.ops.conv", "groundup.ops.pooling"):
        mod = importlib.import_module(modname)
        for n in mod.__all__:
            if n not in g:
                g[n] = getattr(mod, n)
                __all__.append(n)


_load_conv_ops()


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale=None, generator=None):
    """softmax(Q·Kᵀ/√d_k + mask)·V; see :func:`groundup.nn.layers.attention.
    scaled_dot_product_attention` (bool ``attn_mask`` True = may attend; float masks are added)."""
    from groundup.nn.layers.attention import scaled_dot_product_attention as _sdpa

    return _sdpa(query, key, value, attn_mask=attn_mask, dropout_p=dropout_p,
                 is_causal=is_causal, scale=scale, generator=generator)


__all__.append("scaled_dot_product_attention")
