"""nn.utils: gradient clipping (hand values and torch parity), penalties (the course's Q7.8),
parameters_to_vector / vector_to_parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest

import groundup as gu
from groundup.nn import utils as U


def with_grads(*grads, dtype=np.float64):
    ps = []
    for g in grads:
        p = gu.tensor(np.zeros(np.shape(g), dtype=dtype), requires_grad=True)
        p.grad = gu.tensor(np.array(g, dtype=dtype))
        ps.append(p)
    return ps


def test_clip_grad_norm_by_hand():
    # global norm of (3, 4) and (12,) is 13; clip to 6.5 halves every gradient (up to the 1e-6)
    a, b = with_grads([3.0, 4.0], [12.0])
    total = U.clip_grad_norm_([a, b], max_norm=6.5)
    assert float(total.data) == 13.0
    coef = 6.5 / (13.0 + 1e-6)
    np.testing.assert_allclose(a.grad.data, [3 * coef, 4 * coef], rtol=1e-15)
    np.testing.assert_allclose(b.grad.data, [12 * coef], rtol=1e-15)
    # the direction is kept and the new norm is max_norm
    new = math.sqrt(float((a.grad.data ** 2).sum() + (b.grad.data ** 2).sum()))
    assert new == pytest.approx(6.5, rel=1e-6)


def test_clip_grad_norm_leaves_small_gradients_alone():
    a, = with_grads([0.3, 0.4])
    total = U.clip_grad_norm_(a, max_norm=1.0)
    assert float(total.data) == pytest.approx(0.5, rel=1e-15)
    np.testing.assert_array_equal(a.grad.data, [0.3, 0.4])


def test_clip_grad_norm_inf_and_l1():
    a, b = with_grads([3.0, -4.0], [1.0])
    assert float(U.clip_grad_norm_([a, b], 100.0, norm_type="inf").data) == 4.0
    assert float(U.clip_grad_norm_([a, b], 100.0, norm_type=1).data) == 8.0
    U.clip_grad_norm_([a, b], 2.0, norm_type=float("inf"))
    np.testing.assert_allclose(a.grad.data, [1.5, -2.0], rtol=1e-6)


def test_clip_grad_norm_skips_missing_grads_and_flags_nonfinite():
    a, = with_grads([3.0, 4.0])
    b = gu.tensor([1.0], requires_grad=True)  # no grad
    assert float(U.clip_grad_norm_([a, b], 1.0).data) == 5.0
    c, = with_grads([np.nan, 1.0])
    with pytest.raises(ValueError, match="total norm.*nan.*help:"):
        U.clip_grad_norm_([c], 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="max_norm must be >= 0"):
        U.clip_grad_norm_([a], -1.0)


def test_clip_grad_value():
    a, = with_grads([[-3.0, 0.5], [2.0, -0.1]])
    U.clip_grad_value_([a], 1.0)
    np.testing.assert_array_equal(a.grad.data, [[-1.0, 0.5], [1.0, -0.1]])
    with pytest.raises(ValueError, match="clip_value must be >= 0"):
        U.clip_grad_value_([a], -1.0)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_grad_norm_matches_torch(norm_type, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s).astype(dtype) * 3 for s in [(4, 5), (5,), (2, 3, 2)]]
    ours = with_grads(*grads, dtype=dtype)
    theirs = [torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype, requires_grad=True)
              for g in grads]
    for t, g in zip(theirs, grads):
        t.grad = torch.tensor(g.copy())
    total = U.clip_grad_norm_(ours, 1.5, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, 1.5, norm_type=norm_type)
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert float(total.data) == pytest.approx(float(ttotal), rel=rtol)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=rtol, atol=rtol)


def test_seed_penalties_q7_8(seed_example):
    ex = seed_example("regularization-penalties-q7-8")
    i, e, tol = ex["inputs"], ex["expected"], ex["tolerance"]
    w = gu.tensor(np.array(i["w"]), requires_grad=True)
    assert abs(float(U.l1_penalty([w]).data) - e["l1"]) <= tol
    assert abs(float(U.l2_penalty([w]).data) - e["l2_squared"]) <= tol
    assert abs(i["mse"] + float(U.l1_penalty([w], i["lam"]).data) - e["lasso_loss"]) <= tol
    assert abs(i["mse"] + float(U.l2_penalty([w], i["lam"]).data) - e["ridge_loss"]) <= tol


def test_penalty_gradients():
    w = gu.tensor(np.array([3.0, -1.0, 0.0]), requires_grad=True)
    (U.l1_penalty([w], 0.1) + U.l2_penalty([w], 0.5)).backward()
    # 0.1 sign(w) + 2 * 0.5 w
    np.testing.assert_allclose(w.grad.data, [0.1 + 3.0, -0.1 - 1.0, 0.0], rtol=1e-15)


def test_l2_penalty_equals_weight_decay_of_twice_lambda():
    from groundup import optim

    lam = 0.05
    a = gu.tensor(np.array([1.0, -2.0]), requires_grad=True)
    b = gu.tensor(np.array([1.0, -2.0]), requires_grad=True)
    oa = optim.SGD([a], lr=0.1)
    ob = optim.SGD([b], lr=0.1, weight_decay=2 * lam)
    for _ in range(3):
        oa.zero_grad()
        ob.zero_grad()
        ((a * a).sum() + U.l2_penalty([a], lam)).backward()
        (b * b).sum().backward()
        oa.step()
        ob.step()
    np.testing.assert_allclose(a.data, b.data, rtol=1e-15)


def test_parameters_to_vector_and_back():
    a = gu.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = gu.tensor(np.array([10.0, 11.0]), requires_grad=True)
    v = U.parameters_to_vector([a, b])
    np.testing.assert_array_equal(v.data, [0, 1, 2, 3, 4, 5, 10, 11])
    (v * gu.tensor(np.arange(8.0))).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [[0, 1, 2], [3, 4, 5]])
    U.vector_to_parameters(gu.tensor(np.arange(8.0) * -1), [a, b])
    np.testing.assert_array_equal(a.data, -np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(b.data, [-6.0, -7.0])
    with pytest.raises(ValueError, match="vector has 3 entries, the parameters have 8"):
        U.vector_to_parameters(np.zeros(3), [a, b])
