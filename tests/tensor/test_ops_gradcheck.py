"""Every differentiable op: gradcheck (float64 central differences) and gradgradcheck on shapes drawn
by hypothesis — 0-d, size-1 axes, broadcasting both ways, non-square, non-contiguous inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import groundup as gu
from groundup.autograd import gradcheck, gradgradcheck

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)


def make(shape, seed, low=-2.0, high=2.0, away_from=None, fortran=False):
    """A float64 leaf of ``shape``; values kept 0.1 away from ``away_from`` points (kinks)."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(low, high, shape)
    if away_from is not None:
        for p in np.atleast_1d(away_from):
            close = np.abs(a - p) < 0.1
            a[close] = p + 0.1 + rng.uniform(0, 0.3, close.sum())
    if fortran and a.ndim >= 2:
        a = np.asfortranarray(a)  # strides no longer C-ordered: exercises non-contiguous inputs
    return gu.tensor(a, requires_grad=True) if not fortran else _wrap(a)


def _wrap(a):
    t = gu.from_numpy(a)
    t.requires_grad_(True)
    return t


def check(fn, *inputs, second=True):
    assert gradcheck(fn, inputs)
    if second:
        assert gradgradcheck(fn, inputs)


UNARY = {
    "exp": (gu.exp, {}),
    "log": (gu.log, {"low": 0.2, "high": 3.0}),
    "log1p": (gu.log1p, {"low": -0.8, "high": 3.0}),
    "sqrt": (gu.sqrt, {"low": 0.2, "high": 3.0}),
    "rsqrt": (gu.rsqrt, {"low": 0.2, "high": 3.0}),
    "reciprocal": (gu.reciprocal, {"away_from": 0.0}),
    "abs": (gu.abs, {"away_from": 0.0}),
    "neg": (gu.neg, {}),
    "sin": (gu.sin, {}),
    "cos": (gu.cos, {}),
    "tanh": (gu.tanh, {}),
    "sigmoid": (gu.sigmoid, {}),
    "relu": (gu.relu, {"away_from": 0.0}),
    "leaky_relu": (lambda x: gu.leaky_relu(x, 0.1), {"away_from": 0.0}),
    "elu": (gu.elu, {"away_from": 0.0}),
    "gelu": (gu.gelu, {}),
    "gelu_tanh": (lambda x: gu.gelu(x, approximate="tanh"), {}),
    "erf": (gu.erf, {}),
    "softplus": (gu.softplus, {}),
    "clamp": (lambda x: gu.clamp(x, -0.5, 0.7), {"away_from": [-0.5, 0.7]}),
    "pow_scalar": (lambda x: x**3, {}),
    "pow_frac": (lambda x: x**1.5, {"low": 0.2, "high": 3.0}),
    "rpow": (lambda x: 2.0**x, {}),
    "square": (lambda x: x**2, {}),
    "scalar_arith": (lambda x: (1 - x) * 2 / 3 + 0.5, {}),
    "rdiv": (lambda x: 1.5 / x, {"away_from": 0.0}),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 99),
       fortran=st.booleans())
def test_unary(name, shape, seed, fortran):
    fn, domain = UNARY[name]
    check(fn, make(shape, seed, fortran=fortran, **domain))


def test_sign_has_zero_gradient():
    x = gu.tensor([-2.0, 0.0, 3.0], dtype=gu.float64, requires_grad=True)
    gu.sign(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


BINARY = {
    "add": (lambda a, b: a + b, {}, {}),
    "sub": (lambda a, b: a - b, {}, {}),
    "mul": (lambda a, b: a * b, {}, {}),
    "div": (lambda a, b: a / b, {}, {"away_from": 0.0}),
    "pow": (lambda a, b: a**b, {"low": 0.3, "high": 2.0}, {}),
    "maximum": (gu.maximum, {}, {}),
    "minimum": (gu.minimum, {}, {}),
    "where": (lambda a, b: gu.where(a > 0, a, b), {"away_from": 0.0}, {}),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 99))
def test_binary_broadcasting(name, shapes, seed):
    fn, da, db = BINARY[name]
    sa, sb = shapes.input_shapes
    a = make(sa, seed, **da)
    b = make(sb, seed + 1000, **db)
    if name in ("maximum", "minimum"):
        # keep the two operands apart so no tie sits within the finite-difference step
        b = gu.tensor(np.broadcast_to(b.data, sb) + 0.0, requires_grad=True)
        bd = b.data
        close = np.abs(np.broadcast_to(a.data, shapes.result_shape) -
                       np.broadcast_to(bd, shapes.result_shape)) < 0.05
        if close.any():
            return
    check(fn, a, b)


@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 99),
       keepdim=st.booleans(), data=st.data())
def test_reductions(shape, seed, keepdim, data):
    x = make(shape, seed, fortran=True)
    ndim = len(shape)
    dim = data.draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                              st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                                       unique=True).map(tuple)))
    check(lambda t: t.sum(dim=dim, keepdim=keepdim), x)
    check(lambda t: t.mean(dim=dim, keepdim=keepdim), x)
    check(lambda t: gu.logsumexp(t, dim=dim, keepdim=keepdim), x)
    n = x.numel() if dim is None else int(np.prod([shape[d] for d in np.atleast_1d(dim)]))
    if n > 1:
        check(lambda t: t.var(dim=dim, keepdim=keepdim), x)
        check(lambda t: t.std(dim=dim, keepdim=keepdim, correction=0), x)
    check(lambda t: gu.amax(t, dim=dim, keepdim=keepdim), x)
    check(lambda t: gu.amin(t, dim=dim, keepdim=keepdim), x)
    check(lambda t: gu.norm(t, dim=dim, keepdim=keepdim), make(shape, seed, away_from=0.0))


@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 99),
       keepdim=st.booleans(), data=st.data())
def test_max_min_with_dim_and_prod(shape, seed, keepdim, data):
    x = make(shape, seed)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    check(lambda t: t.max(dim=dim, keepdim=keepdim).values, x)
    check(lambda t: t.min(dim=dim, keepdim=keepdim).values, x)
    check(lambda t: t.max(), x)
    check(lambda t: t.prod(dim=dim, keepdim=keepdim), x)
    check(lambda t: t.prod(), x)


@SETTINGS
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 99),
       data=st.data())
def test_softmax_family(shape, seed, data):
    x = make(shape, seed, low=-3, high=3, fortran=True)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    check(lambda t: gu.softmax(t, dim=dim), x)
    check(lambda t: gu.log_softmax(t, dim=dim), x)


MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((1, 3), (3, 1)),
    ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((2, 1, 2, 3), (4, 3, 2)), ((3,), (2, 3, 4)),
    ((2, 2, 3), (3,)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul(sa, sb):
    a, b = make(sa, 1), make(sb, 2)
    check(lambda x, y: x @ y, a, b)
    np.testing.assert_allclose((a @ b).data, np.matmul(a.data, b.data))


def test_matmul_transposed_inputs():
    a = make((4, 3), 3)
    b = make((5, 4), 4)
    check(lambda x, y: x.T @ y.T, a, b)


def test_linear_mm_bmm_outer_dot_einsum():
    x, w, bias = make((4, 3), 1), make((2, 3), 2), make((2,), 3)
    check(gu.linear, x, w, bias)
    check(lambda u: gu.linear(u, w), make((2, 4, 3), 4))
    check(gu.mm, make((2, 3), 5), make((3, 4), 6))
    check(gu.bmm, make((2, 2, 3), 7), make((2, 3, 4), 8))
    check(gu.outer, make((3,), 9), make((4,), 10))
    check(gu.dot, make((3,), 11), make((3,), 12))
    check(lambda p, q: gu.einsum("ij,jk->ik", p, q), make((2, 3), 13), make((3, 4), 14))
    check(lambda p, q: gu.einsum("bij,bjk->bik", p, q), make((2, 2, 3), 15), make((2, 3, 2), 16))
    check(lambda p, q: gu.einsum("ij,ij->i", p, q), make((2, 3), 17), make((2, 3), 18))
    check(lambda p: gu.einsum("ij->ji", p), make((2, 3), 19))
    check(lambda p, q: gu.einsum("ik,j->ij", p, q), make((2, 3), 20), make((4,), 21))


SHAPE_OPS = {
    "reshape": (lambda t: t.reshape(-1, 2), (2, 3)),
    "view_flatten": (lambda t: t.flatten(), (2, 3, 2)),
    "flatten_mid": (lambda t: t.flatten(1), (2, 3, 2)),
    "unflatten": (lambda t: t.unflatten(1, (2, 3)), (2, 6)),
    "transpose": (lambda t: t.transpose(0, 2), (2, 3, 4)),
    "permute": (lambda t: t.permute(2, 0, 1), (2, 3, 4)),
    "T": (lambda t: t.T, (2, 3)),
    "squeeze": (lambda t: t.squeeze(), (1, 3, 1)),
    "squeeze_dim": (lambda t: t.squeeze(0), (1, 3, 1)),
    "unsqueeze": (lambda t: t.unsqueeze(1), (2, 3)),
    "expand": (lambda t: t.expand(4, 2, 3), (2, 1)),
    "broadcast_to": (lambda t: gu.broadcast_to(t, (3, 2, 2)), (2, 1)),
    "repeat": (lambda t: t.repeat(2, 3), (2, 2)),
    "repeat_more_dims": (lambda t: t.repeat(2, 1, 2), (2, 3)),
    "flip": (lambda t: t.flip(0), (3, 2)),
    "flip_many": (lambda t: t.flip((0, 1)), (3, 2)),
    "roll": (lambda t: t.roll(1, 0), (3, 2)),
    "roll_flat": (lambda t: t.roll(2), (3, 2)),
    "pad": (lambda t: gu.pad(t, (1, 2)), (2, 3)),
    "pad2d": (lambda t: gu.pad(t, (1, 1, 2, 0), value=0.5), (2, 3)),
    "slice": (lambda t: t[1:, ::2], (3, 4)),
    "int_index": (lambda t: t[1], (3, 4)),
    "ellipsis_none": (lambda t: t[..., None, 1], (2, 3)),
    "int_array": (lambda t: t[np.array([0, 2, 0])], (3, 2)),
    "tensor_index": (lambda t: t[gu.tensor([1, 1, 0])], (3, 2)),
    "pair_index": (lambda t: t[np.arange(3), np.array([1, 0, 1])], (3, 2)),
    "bool_mask": (lambda t: t[t.data > 0], (3, 4)),
    "gather": (lambda t: t.gather(1, gu.tensor([[0, 0], [1, 0], [2, 2]])), (3, 3)),
    "index_select": (lambda t: t.index_select(1, gu.tensor([2, 0, 2])), (2, 3)),
    "masked_fill": (lambda t: t.masked_fill(t.data > 0.5, -1.0), (3, 3)),
    "split": (lambda t: t.split([1, 2], dim=1)[1], (2, 3)),
    "chunk": (lambda t: t.chunk(2, dim=0)[0] * 2, (4, 2)),
    "unbind": (lambda t: t.unbind(1)[2], (2, 3)),
    "cat_self": (lambda t: gu.cat([t, t * 2], dim=1), (2, 3)),
    "stack_self": (lambda t: gu.stack([t, t + 1, t * 3], dim=1), (2, 3)),
    "to_float32_and_back": (lambda t: (t.float() * 2).double(), (2, 3)),
    "clone": (lambda t: t.clone() * t, (2, 3)),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_ops(name):
    fn, shape = SHAPE_OPS[name]
    if name == "to_float32_and_back":
        assert gradcheck(fn, (make(shape, 0),), eps=1e-3, atol=1e-3)
        return
    check(fn, make(shape, 0))
    check(fn, make(shape, 1, fortran=True))


def test_cat_stack_of_several_inputs():
    a, b, c = make((2, 3), 1), make((2, 1), 2), make((2, 2), 3)
    check(lambda x, y, z: gu.cat([x, y, z], dim=-1), a, b, c)
    p, q = make((2, 3), 4), make((2, 3), 5)
    check(lambda x, y: gu.stack([x, y], dim=2), p, q)


def test_maximum_tie_splits_gradient_like_pytorch():
    a = gu.tensor([1.0, 2.0], requires_grad=True)
    b = gu.tensor([1.0, 3.0], requires_grad=True)
    gu.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 1.0])
