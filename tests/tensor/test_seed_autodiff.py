"""The course's autodiff and calculus worked examples, computed with groundup's autograd."""

from __future__ import annotations

import numpy as np
import pytest

import groundup as gu
from groundup.autograd.functional import hessian


def scalar(v):
    return gu.tensor(float(v), dtype=gu.float64, requires_grad=True)


def test_deriv_x2_at_3(seed_example):
    ex = seed_example("deriv-x2-at-3")
    x = scalar(ex["inputs"]["x"])
    (x**2).backward()
    assert x.grad.item() == pytest.approx(ex["expected"]["f_prime"], abs=ex["tolerance"])


def test_graph_two_paths(seed_example):
    ex = seed_example("graph-two-paths-q9-7")
    x, y = scalar(ex["inputs"]["x"]), scalar(ex["inputs"]["y"])
    a, b = x + y, y + 1
    f = a * b
    f.backward()
    exp, tol = ex["expected"], ex["tolerance"]
    assert (a.item(), b.item(), f.item()) == pytest.approx((exp["a"], exp["b"], exp["f"]), abs=tol)
    assert x.grad.item() == pytest.approx(exp["df_dx"], abs=tol)
    assert y.grad.item() == pytest.approx(exp["df_dy"], abs=tol)


def test_multiply_node_gradients(seed_example):
    ex = seed_example("multiply-node-gradients")
    x, y = scalar(ex["inputs"]["x"]), scalar(ex["inputs"]["y"])
    (x * y).backward(gu.tensor(ex["inputs"]["upstream"], dtype=gu.float64))
    assert x.grad.item() == pytest.approx(ex["expected"]["dL_dx"], abs=ex["tolerance"])
    assert y.grad.item() == pytest.approx(ex["expected"]["dL_dy"], abs=ex["tolerance"])


def test_relu_local_gradient(seed_example):
    ex = seed_example("relu-local-gradient")
    z = gu.tensor(ex["inputs"]["z"], dtype=gu.float64, requires_grad=True)
    z.relu().sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), ex["expected"]["grad"], atol=ex["tolerance"])


def test_backprop_example_9_1(seed_example):
    ex = seed_example("backprop-example-9-1")
    i, exp, tol = ex["inputs"], ex["expected"], ex["tolerance"]
    w1, b1, w2, b2 = (scalar(i[k]) for k in ("w1", "b1", "w2", "b2"))
    z1 = w1 * i["x"] + b1
    z1.retain_grad()
    a1 = z1.relu()
    a1.retain_grad()
    y_hat = w2 * a1 + b2
    y_hat.retain_grad()
    loss = (y_hat - i["y"]) ** 2
    loss.backward()
    got = {
        "z1": z1.item(), "a1": a1.item(), "y_hat": y_hat.item(), "loss": loss.item(),
        "dL_dyhat": y_hat.grad.item(), "dL_da1": a1.grad.item(), "dL_dz1": z1.grad.item(),
        "dL_dw1": w1.grad.item(), "dL_db1": b1.grad.item(), "dL_dw2": w2.grad.item(),
        "dL_db2": b2.grad.item(),
        "w1_new": w1.item() - i["eta"] * w1.grad.item(),
        "w2_new": w2.item() - i["eta"] * w2.grad.item(),
    }
    for key, value in exp.items():
        assert got[key] == pytest.approx(value, abs=tol), key


def test_backprop_q9_8(seed_example):
    ex = seed_example("backprop-q9-8")
    i, exp, tol = ex["inputs"], ex["expected"], ex["tolerance"]
    w1, w2 = scalar(i["w1"]), scalar(i["w2"])
    z1 = w1 * i["x"]
    z1.retain_grad()
    h = z1.relu()
    h.retain_grad()
    y_hat = w2 * h
    y_hat.retain_grad()
    loss = (y_hat - i["y"]) ** 2
    loss.backward()
    got = {"z1": z1.item(), "h": h.item(), "y_hat": y_hat.item(), "loss": loss.item(),
           "dL_dyhat": y_hat.grad.item(), "dL_dw2": w2.grad.item(), "dL_dh": h.grad.item(),
           "dL_dz1": z1.grad.item(), "dL_dw1": w1.grad.item()}
    for key, value in exp.items():
        assert got[key] == pytest.approx(value, abs=tol), key


def test_gradient_accumulation(seed_example):
    ex = seed_example("gradient-accumulation")
    w = scalar(ex["inputs"]["w"])
    seen = []
    for _ in range(ex["inputs"]["backward_calls"]):
        (w**2).backward()
        seen.append(w.grad.item())
    np.testing.assert_allclose(seen, ex["expected"]["grad_after_each_backward"],
                               atol=ex["tolerance"])
    w.grad.zero_()
    assert w.grad.item() == ex["expected"]["after_zero"]


def test_sigmoid_vanishing_50_layers(seed_example):
    ex = seed_example("sigmoid-vanishing-50-layers")
    # the largest derivative of σ is σ'(0) = 0.25; chain it through 50 layers with autograd
    z = gu.tensor(0.0, dtype=gu.float64, requires_grad=True)
    h = z
    for _ in range(ex["inputs"]["layers"]):
        h = gu.sigmoid(h) - 0.5  # keeps each layer's input at 0, where σ' = 0.25
    h.backward()
    assert z.grad.item() == pytest.approx(ex["expected"]["value"], rel=1e-9)
    assert np.log10(z.grad.item()) == pytest.approx(ex["expected"]["log10"], abs=ex["tolerance"])


QUADRATICS = {
    "hessian-x2-4y2-xy": lambda v: v[0] ** 2 + 4 * v[1] ** 2 + v[0] * v[1],
    "critical-point-saddle-q2-7": lambda v: 3 * v[0] ** 2 + v[0] * v[1] - v[1] ** 2 + 5 * v[0],
    "hessian-2w0sq-3w1sq": lambda v: 2 * v[0] ** 2 + 3 * v[1] ** 2,
    "convexity-hessian-13-5": lambda v: v[0] ** 2 + 2 * v[0] * v[1] + 3 * v[1] ** 2,
}


@pytest.mark.parametrize("example_id", sorted(QUADRATICS))
def test_hessians_by_double_backward(example_id, seed_example):
    ex = seed_example(example_id)
    f, exp, tol = QUADRATICS[example_id], ex["expected"], ex["tolerance"]
    probe = ex["inputs"].get("probe_point", [0.3, -0.2])
    H = hessian(f, gu.tensor(probe, dtype=gu.float64)).numpy()
    np.testing.assert_allclose(H, exp["H"], atol=tol)
    eig = np.sort(np.linalg.eigvalsh(H))
    np.testing.assert_allclose(eig, np.sort(exp["eigenvalues"]), atol=tol)
    if "grad_at_point" in exp:
        x = gu.tensor(probe, dtype=gu.float64, requires_grad=True)
        f(x).backward()
        np.testing.assert_allclose(x.grad.numpy(), exp["grad_at_point"], atol=tol)
    if "grad_at_origin" in exp:
        x = gu.tensor([0.0, 0.0], dtype=gu.float64, requires_grad=True)
        f(x).backward()
        np.testing.assert_allclose(x.grad.numpy(), exp["grad_at_origin"], atol=tol)
    if "critical_point" in exp:
        # a quadratic's critical point solves H·x = −∇f(0)
        x = gu.tensor([0.0, 0.0], dtype=gu.float64, requires_grad=True)
        f(x).backward()
        crit = np.linalg.solve(H, -x.grad.numpy())
        np.testing.assert_allclose(crit, exp["critical_point"], atol=tol)
        xc = gu.tensor(crit, dtype=gu.float64, requires_grad=True)
        f(xc).backward()
        np.testing.assert_allclose(xc.grad.numpy(), [0.0, 0.0], atol=tol)


def test_grad_of_euclidean_norm_has_unit_length(seed_example):
    ex = seed_example("grad-euclidean-norm-never-zero")
    w = gu.tensor(ex["inputs"]["point"], dtype=gu.float64, requires_grad=True)
    w.norm().backward()
    np.testing.assert_allclose(w.grad.numpy(), ex["expected"]["grad_at_point"],
                               atol=ex["tolerance"])
    rng = np.random.default_rng(0)
    for p in rng.normal(size=(20, 2)) * rng.uniform(0.01, 100, (20, 1)):
        v = gu.tensor(p, requires_grad=True, dtype=gu.float64)
        v.norm().backward()
        assert np.linalg.norm(v.grad.numpy()) == pytest.approx(1.0, abs=ex["tolerance"])
