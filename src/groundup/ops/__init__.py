"""Differentiable operations: each a :class:`~groundup.autograd.Function` plus a public function."""

from groundup.ops.activation import (
    elu, erf, gelu, leaky_relu, log_softmax, relu, softmax, softplus,
)
from groundup.ops.elementwise import (
    abs, add, clamp, clip, cos, div, exp, log, log1p, maximum, minimum, mul, neg, pow,
    reciprocal, rsqrt, sigmoid, sign, sin, sqrt, sub, tanh, where,
)
from groundup.ops.linalg import bmm, dot, einsum, linear, matmul, mm, outer
from groundup.ops.reduce import (
    amax, amin, argmax, argmin, logsumexp, max, mean, min, norm, prod, std, sum, var,
)
from groundup.ops.shape import (
    broadcast_to, cat, chunk, concat, expand, flatten, flip, gather, getitem, index_select,
    masked_fill, one_hot, pad, permute, repeat, reshape, roll, split, squeeze, stack, transpose,
    unbind, unflatten, unsqueeze, view,
)
