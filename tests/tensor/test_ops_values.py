"""Forward values of every op against NumPy (these run without PyTorch)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import groundup as gu

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)


def data(shape, seed, positive=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    return np.abs(a) + 0.1 if positive else a


def erf_np(a):
    return np.vectorize(math.erf)(a)


UNARY = {
    "exp": (gu.exp, np.exp, False), "log": (gu.log, np.log, True),
    "log1p": (gu.log1p, np.log1p, True), "sqrt": (gu.sqrt, np.sqrt, True),
    "rsqrt": (gu.rsqrt, lambda a: 1 / np.sqrt(a), True),
    "reciprocal": (gu.reciprocal, np.reciprocal, True), "abs": (gu.abs, np.abs, False),
    "neg": (gu.neg, np.negative, False), "sign": (gu.sign, np.sign, False),
    "sin": (gu.sin, np.sin, False), "cos": (gu.cos, np.cos, False),
    "tanh": (gu.tanh, np.tanh, False), "sigmoid": (gu.sigmoid, lambda a: 1 / (1 + np.exp(-a)), False),
    "relu": (gu.relu, lambda a: np.maximum(a, 0), False),
    "leaky_relu": (gu.leaky_relu, lambda a: np.where(a > 0, a, 0.01 * a), False),
    "elu": (gu.elu, lambda a: np.where(a > 0, a, np.expm1(a)), False),
    "gelu": (gu.gelu, lambda a: 0.5 * a * (1 + erf_np(a / np.sqrt(2))), False),
    "gelu_tanh": (lambda t: gu.gelu(t, approximate="tanh"),
                  lambda a: 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a**3))),
                  False),
    "softplus": (gu.softplus, lambda a: np.log1p(np.exp(a)), False),
    "erf": (gu.erf, erf_np, False),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=array_shapes(min_dims=0, max_dims=3, max_side=5), seed=st.integers(0, 999))
def test_unary_values(name, shape, seed):
    gfn, nfn, positive = UNARY[name]
    a = data(shape, seed, positive)
    out = gfn(gu.tensor(a))
    assert out.shape == np.shape(nfn(a)) and out.dtype == gu.float64
    np.testing.assert_allclose(out.numpy(), nfn(a), rtol=1e-12, atol=1e-14)


BINARY = {
    "add": (lambda a, b: a + b, np.add), "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply), "div": (lambda a, b: a / b, np.divide),
    "maximum": (gu.maximum, np.maximum), "minimum": (gu.minimum, np.minimum),
    "pow": (lambda a, b: gu.abs(a) ** b, lambda a, b: np.abs(a) ** b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4),
       seed=st.integers(0, 999))
def test_binary_values_broadcast(name, shapes, seed):
    gfn, nfn = BINARY[name]
    a, b = (data(s, seed + i) for i, s in enumerate(shapes.input_shapes))
    out = gfn(gu.tensor(a), gu.tensor(b))
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.numpy(), nfn(a, b), rtol=1e-12)


@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=3, max_side=4), seed=st.integers(0, 999),
       keepdim=st.booleans(), data_=st.data())
def test_reduction_values(shape, seed, keepdim, data_):
    a = data(shape, seed)
    nd = len(shape)
    dims = data_.draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
    dim = tuple(dims)
    t = gu.tensor(a)
    np.testing.assert_allclose(t.sum(dim, keepdim).numpy(), a.sum(dim, keepdims=keepdim))
    np.testing.assert_allclose(t.mean(dim, keepdim).numpy(), a.mean(dim, keepdims=keepdim))
    np.testing.assert_allclose(t.amax(dim, keepdim).numpy(), a.max(dim, keepdims=keepdim))
    np.testing.assert_allclose(t.amin(dim, keepdim).numpy(), a.min(dim, keepdims=keepdim))
    n = int(np.prod([shape[d] for d in dim]))
    if n > 1:
        np.testing.assert_allclose(t.var(dim, keepdim).numpy(), a.var(dim, ddof=1, keepdims=keepdim))
        np.testing.assert_allclose(t.std(dim, keepdim, correction=0).numpy(),
                                   a.std(dim, keepdims=keepdim))
    m = a.max(dim, keepdims=True)
    lse = np.log(np.exp(a - m).sum(dim, keepdims=True)) + m
    np.testing.assert_allclose(gu.logsumexp(t, dim, keepdim=True).numpy(), lse)
    d0 = dims[0]
    np.testing.assert_allclose(t.prod(d0, keepdim).numpy(), a.prod(d0, keepdims=keepdim))
    v, i = t.max(dim=d0, keepdim=keepdim)
    np.testing.assert_allclose(v.numpy(), a.max(d0, keepdims=keepdim))
    np.testing.assert_array_equal(i.numpy(), a.argmax(d0, keepdims=keepdim))
    np.testing.assert_allclose(t.norm(dim=dim).numpy(), np.sqrt((a * a).sum(dim)))
    e = np.exp(a - a.max(d0, keepdims=True))
    np.testing.assert_allclose(t.softmax(d0).numpy(), e / e.sum(d0, keepdims=True))
    np.testing.assert_allclose(t.log_softmax(d0).numpy(),
                               np.log(e / e.sum(d0, keepdims=True)), atol=1e-12)


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                                   ((5, 2, 3), (3, 4)), ((2, 1, 2, 3), (4, 3, 2))])
def test_matmul_values(sa, sb):
    a, b = data(sa, 1), data(sb, 2)
    np.testing.assert_allclose((gu.tensor(a) @ gu.tensor(b)).numpy(), a @ b)


def test_shape_op_values():
    a = data((2, 3, 4), 0)
    t = gu.tensor(a)
    np.testing.assert_array_equal(t.reshape(6, 4).numpy(), a.reshape(6, 4))
    np.testing.assert_array_equal(t.permute(2, 0, 1).numpy(), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(t.transpose(0, 1).numpy(), a.swapaxes(0, 1))
    np.testing.assert_array_equal(t.flatten(1).numpy(), a.reshape(2, 12))
    np.testing.assert_array_equal(t[:, None].squeeze(1).numpy(), a)
    np.testing.assert_array_equal(t.unsqueeze(-1).numpy(), a[..., None])
    np.testing.assert_array_equal(t[:, :1].expand(2, 5, 4).numpy(),
                                  np.broadcast_to(a[:, :1], (2, 5, 4)))
    np.testing.assert_array_equal(t.repeat(1, 2, 1).numpy(), np.tile(a, (1, 2, 1)))
    np.testing.assert_array_equal(gu.cat([t, t], 2).numpy(), np.concatenate([a, a], 2))
    np.testing.assert_array_equal(gu.stack([t, t], 1).numpy(), np.stack([a, a], 1))
    parts = t.split(2, dim=2)
    np.testing.assert_array_equal(parts[1].numpy(), a[:, :, 2:])
    assert [p.shape[0] for p in gu.tensor(data((7,), 1)).chunk(3)] == [3, 3, 1]
    np.testing.assert_array_equal(gu.pad(t, (1, 0)).numpy(), np.pad(a, ((0, 0), (0, 0), (1, 0))))
    np.testing.assert_array_equal(t.flip(1).numpy(), a[:, ::-1])
    np.testing.assert_array_equal(t.roll(2, 2).numpy(), np.roll(a, 2, 2))
    idx = np.array([[0, 2], [1, 1]])
    m = data((2, 3), 3)
    np.testing.assert_array_equal(gu.tensor(m).gather(1, gu.tensor(idx)).numpy(),
                                  np.take_along_axis(m, idx, 1))
    np.testing.assert_array_equal(gu.tensor(m).index_select(1, gu.tensor([2, 0])).numpy(),
                                  m[:, [2, 0]])
    np.testing.assert_array_equal(gu.tensor(m).masked_fill(gu.tensor(m) > 0, 0.0).numpy(),
                                  np.where(m > 0, 0.0, m))
    np.testing.assert_array_equal(gu.one_hot(gu.tensor([0, 2]), 3).numpy(), [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(t[t > 0].numpy(), a[a > 0])
    np.testing.assert_allclose(gu.einsum("ijk,ik->ij", t, gu.tensor(a[:, 0])).numpy(),
                               np.einsum("ijk,ik->ij", a, a[:, 0]))
