"""Autograd semantics: accumulation, retain_graph, create_graph, grad(), grad modes, deep graphs."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import groundup as gu
from groundup.autograd import functional as AF
from groundup.errors import GradError


def test_gradients_accumulate_until_cleared():
    w = gu.tensor(2.0, requires_grad=True)
    (w * w).backward()
    assert w.grad.item() == 4.0
    (w * w).backward()
    assert w.grad.item() == 8.0
    w.grad = None
    (w * w).backward()
    assert w.grad.item() == 4.0


def test_second_backward_through_freed_graph_raises():
    x = gu.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(GradError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = gu.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_saved_arrays_are_released_after_backward():
    x = gu.tensor(np.ones(1000, dtype=np.float32), requires_grad=True)
    h = x * 3.0
    y = (h.exp()).sum()
    node = y._node
    exp_node = h.exp()._node  # a separate exp node, to check that freed nodes hold no arrays
    del exp_node
    ref = weakref.ref(h)
    del h
    y.backward()
    gc.collect()
    assert node.freed and node.inputs == ()
    assert ref() is None  # nothing keeps the intermediate alive once its consumers are freed


def test_non_leaf_grad_only_with_retain_grad():
    x = gu.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    k = x * 4
    (h * k).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), (x * 4).data)
    assert k.grad is None
    assert x.is_leaf and not h.is_leaf


def test_no_grad_records_nothing_and_works_as_decorator():
    x = gu.tensor([1.0], requires_grad=True)
    with gu.no_grad():
        y = x * 2
        with gu.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @gu.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad
    assert gu.is_grad_enabled()


def test_nothing_recorded_when_no_input_requires_grad():
    x = gu.tensor([1.0, 2.0])
    y = (x * 2).exp().sum()
    assert y.grad_fn is None and not y.requires_grad
    with pytest.raises(GradError, match="does not require grad"):
        y.backward()


def test_detach_and_requires_grad_():
    x = gu.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    d.requires_grad_()
    (d * x).sum().backward()
    np.testing.assert_allclose(d.grad.numpy(), [1.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_backward_with_explicit_gradient():
    x = gu.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(gu.tensor([1.0, 0.5, 0.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 0.0])


def test_autograd_grad_returns_without_accumulating():
    x = gu.tensor(3.0, requires_grad=True)
    y = x**3
    (g,) = gu.autograd.grad(y, x, create_graph=True)
    assert g.item() == 27.0 and x.grad is None
    (g2,) = gu.autograd.grad(g, x)
    assert g2.item() == 18.0
    a = gu.tensor(1.0, requires_grad=True)
    with pytest.raises(GradError, match="allow_unused"):
        gu.autograd.grad((x * 2), [x, a])
    assert gu.autograd.grad(x * 2, [x, a], allow_unused=True)[1] is None


def test_create_graph_gives_second_derivatives_through_backward():
    x = gu.tensor(2.0, dtype=gu.float64, requires_grad=True)
    y = x.sin() * x**2
    y.backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.backward()
    # y'' = 2 sin x + 4x cos x − x² sin x
    v = 2.0
    assert x.grad.item() == pytest.approx(2 * np.sin(v) + 4 * v * np.cos(v) - v**2 * np.sin(v))


def test_functional_jacobian_hessian_hvp_vjp_jvp():
    x = gu.tensor([1.0, 2.0], dtype=gu.float64)

    def f(v):
        return gu.stack([v[0] * v[1], v[0].exp() + v[1] ** 2])

    J = AF.jacobian(f, x).numpy()
    np.testing.assert_allclose(J, [[2.0, 1.0], [np.e, 4.0]])

    def g(v):
        return (v[0] ** 2) * v[1] + v[1] ** 3

    H = AF.hessian(g, x).numpy()
    np.testing.assert_allclose(H, [[4.0, 2.0], [2.0, 12.0]])
    v = gu.tensor([1.0, -1.0], dtype=gu.float64)
    _, hv = AF.hvp(g, x, v)
    np.testing.assert_allclose(hv.numpy(), H @ v.numpy())
    _, vj = AF.vjp(f, x, v)
    np.testing.assert_allclose(vj.numpy(), v.numpy() @ J)
    _, jv = AF.jvp(f, x, v)
    np.testing.assert_allclose(jv.numpy(), J @ v.numpy())


def test_backward_through_10000_op_chain():
    x = gu.tensor(1.0, dtype=gu.float64, requires_grad=True)
    h = x
    for _ in range(10_000):
        h = h * 1.0001
    h.backward()
    assert x.grad.item() == pytest.approx(1.0001**10_000, rel=1e-9)


def test_shared_subexpression_gets_both_paths():
    x = gu.tensor(2.0, requires_grad=True)
    a = x * 3
    y = a * a + a  # dy/dx = (2a + 1)·3 = 39
    y.backward()
    assert x.grad.item() == pytest.approx(39.0)


def test_leaf_grads_do_not_alias_each_other():
    a = gu.tensor([1.0, 2.0], requires_grad=True)
    b = gu.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.data *= 10  # clipping one gradient in place must not touch the other
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def test_backward_with_inputs_gives_grads_that_later_backwards_accumulate_into():
    x = gu.ones(3, requires_grad=True)
    x.sum().backward(inputs=[x])  # Sum's gradient is a read-only broadcast view
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0, 3.0])
    (g,) = gu.autograd.grad(x.sum(), [x])
    g.data *= 2  # a returned gradient is the caller's own array
    np.testing.assert_allclose(g.numpy(), [2.0, 2.0, 2.0])


def test_grad_of_float32_stays_float32():
    x = gu.randn(3, 4, requires_grad=True)
    (x.tanh() * 2).sum().backward()
    assert x.grad.dtype == gu.float32 and x.grad.shape == (3, 4)


def test_once_differentiable_op_refuses_second_derivative():
    from groundup.autograd import Function

    class Cube(Function):
        once_differentiable = True

        @staticmethod
        def forward(ctx, a):
            ctx.a = a
            return a**3

        @staticmethod
        def backward(ctx, grad):
            return (gu.Tensor(grad.data * 3 * ctx.a**2),)

    x = gu.tensor(2.0, requires_grad=True)
    Cube.apply(x).backward()
    assert x.grad.item() == 12.0
    with pytest.raises(GradError, match="once-differentiable"):
        gu.autograd.grad(Cube.apply(x), x, create_graph=True)


def test_to_dot_and_trace_show_the_graph():
    x = gu.tensor(2.0, requires_grad=True)
    y = gu.tensor(3.0, requires_grad=True)
    f = (x + y) * (y + 1)
    dot = gu.autograd.to_dot(f)
    assert dot.startswith("digraph") and dot.count("Add") == 2 and "Mul" in dot
    steps = gu.autograd.trace(f)
    assert [s.op for s in steps] == ["Mul", "Add", "Add"]
    assert steps[0].value.item() == 20.0 and steps[0].grad.item() == 1.0
    # the two Add nodes receive ∂f/∂a = b = 4 and ∂f/∂b = a = 5
    assert sorted(s.grad.item() for s in steps[1:]) == [4.0, 5.0]
    assert x.grad.item() == 4.0 and y.grad.item() == 9.0
    table = str(steps)
    assert "Mul" in table and "grad" in table.splitlines()[0]
    assert "grad=" in gu.autograd.to_dot(f)
