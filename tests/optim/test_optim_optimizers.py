"""Optimizers: hand-computed steps, PyTorch parity for every option, flat vs per-parameter paths,
state_dict round trips, bad input, and learning a small regression problem."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

import groundup as gu
from groundup import optim
from groundup.errors import DTypeError, GradError

F64 = np.float64


def param(values, dtype=F64):
    return gu.tensor(np.array(values, dtype=dtype), requires_grad=True)


def set_grad(p, g):
    p.grad = gu.tensor(np.array(g, dtype=p.data.dtype))


def run_quadratic(opt_factory, w0, steps, grad_fn=lambda w: w):
    """Iterates of an optimizer on one parameter with gradient ``grad_fn(w)``."""
    w = param(w0)
    opt = opt_factory([w])
    out = []
    for _ in range(steps):
        set_grad(w, grad_fn(w.data.copy()))
        opt.step()
        out.append(w.data.copy())
    return np.array(out)


# ---------------------------------------------------------------------------- hand-computed steps
class TestHandSteps:
    def test_sgd_plain_is_gradient_descent(self):
        # f(w) = w²/2, g = w, lr 0.1: w_{t+1} = 0.9 w_t
        xs = run_quadratic(lambda p: optim.SGD(p, lr=0.1), [1.0], 3)
        np.testing.assert_allclose(xs[:, 0], [0.9, 0.81, 0.729], rtol=0, atol=1e-15)

    def test_sgd_momentum_by_hand(self):
        # b1 = g1 = 1, w1 = 1 - 0.1*1 = 0.9; b2 = 0.9*1 + 0.9 = 1.8, w2 = 0.72;
        # b3 = 0.9*1.8 + 0.72 = 2.34, w3 = 0.72 - 0.234 = 0.486
        xs = run_quadratic(lambda p: optim.SGD(p, lr=0.1, momentum=0.9), [1.0], 3)
        np.testing.assert_allclose(xs[:, 0], [0.9, 0.72, 0.486], rtol=0, atol=1e-15)

    def test_sgd_nesterov_by_hand(self):
        # b1 = 1, d1 = 1 + 0.9*1 = 1.9, w1 = 0.81; g2 = 0.81, b2 = 0.9 + 0.81 = 1.71,
        # d2 = 0.81 + 0.9*1.71 = 2.349, w2 = 0.81 - 0.2349 = 0.5751
        xs = run_quadratic(lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), [1.0], 2)
        np.testing.assert_allclose(xs[:, 0], [0.81, 0.5751], rtol=0, atol=1e-15)

    def test_sgd_ema_momentum_course_form(self):
        # primer Q5.2: v_t = 0.9 v_{t-1} + 0.1 g_t, v_0 = 0. v1 = 0.1, w1 = 1 - 0.01 = 0.99;
        # g2 = 0.99, v2 = 0.09 + 0.099 = 0.189, w2 = 0.99 - 0.0189 = 0.9711
        xs = run_quadratic(lambda p: optim.SGD(p, lr=0.1, momentum=0.9, ema=True), [1.0], 2)
        np.testing.assert_allclose(xs[:, 0], [0.99, 0.9711], rtol=0, atol=1e-15)

    def test_sgd_dampening_differs_from_ema_only_in_first_step(self):
        w = param([1.0])
        opt = optim.SGD([w], lr=0.1, momentum=0.9, dampening=0.9)
        set_grad(w, [1.0])
        opt.step()
        # PyTorch copies the first gradient into the buffer (no dampening on step 1)
        assert opt.state[w]["momentum_buffer"][0] == 1.0
        set_grad(w, [1.0])
        opt.step()
        assert opt.state[w]["momentum_buffer"][0] == pytest.approx(0.9 + 0.1, abs=1e-15)

    def test_sgd_weight_decay_and_maximize(self):
        # g' = -g + wd*w = -1 + 0.5*2 = 0 -> no move; then g = -2: g' = 2 + 1 = 3, w = 2 - 0.3
        w = param([2.0])
        opt = optim.SGD([w], lr=0.1, weight_decay=0.5, maximize=True)
        set_grad(w, [1.0])
        opt.step()
        assert w.data[0] == 2.0
        set_grad(w, [-2.0])
        opt.step()
        assert w.data[0] == pytest.approx(1.7, abs=1e-15)

    def test_rmsprop_by_hand(self):
        # constant g = 2, α = 0.9, ε = 0: s1 = 0.4, step 0.01*2/sqrt(0.4);
        # s2 = 0.36 + 0.4 = 0.76, step 0.02/sqrt(0.76)
        xs = run_quadratic(lambda p: optim.RMSprop(p, lr=0.01, alpha=0.9, eps=0.0), [1.0], 2,
                           grad_fn=lambda w: [2.0])
        s1, s2 = 0.4, 0.76
        expected = [1 - 0.02 / math.sqrt(s1), 1 - 0.02 / math.sqrt(s1) - 0.02 / math.sqrt(s2)]
        np.testing.assert_allclose(xs[:, 0], expected, rtol=0, atol=1e-15)
        assert 0.02 / math.sqrt(s1) == pytest.approx(0.0316228, abs=1e-7)

    def test_rmsprop_eps_inside_vs_outside_the_root(self):
        # g = 1e-4, α = 0.9, ε = 1e-8: s1 = 0.1 * 1e-8 = 1e-9
        g, s1, eps, lr = 1e-4, 1e-9, 1e-8, 0.01
        out = run_quadratic(lambda p: optim.RMSprop(p, lr=lr, alpha=0.9, eps=eps), [0.0], 1,
                            grad_fn=lambda w: [g])
        inside = run_quadratic(lambda p: optim.RMSprop(p, lr=lr, alpha=0.9, eps=eps,
                                                       eps_inside_sqrt=True), [0.0], 1,
                               grad_fn=lambda w: [g])
        assert out[0, 0] == pytest.approx(-lr * g / (math.sqrt(s1) + eps), rel=1e-12)
        assert inside[0, 0] == pytest.approx(-lr * g / math.sqrt(s1 + eps), rel=1e-12)
        # workshop's form: sqrt(1.1e-8) = 1.0488e-4, a step ten times smaller than PyTorch's
        assert out[0, 0] / inside[0, 0] == pytest.approx(math.sqrt(1.1e-8) / (math.sqrt(1e-9) + 1e-8),
                                                         rel=1e-12)

    def test_rmsprop_momentum_and_centered_by_hand(self):
        # g = 2 twice, α = 0.5, ε = 0, centered: s1 = 2, ḡ1 = 1, d1 = sqrt(2 - 1) = 1;
        # momentum 0.5: b1 = g/d = 2, w1 = -0.1*2 = -0.2; s2 = 3, ḡ2 = 1.5, d2 = sqrt(3 - 2.25)
        xs = run_quadratic(lambda p: optim.RMSprop(p, lr=0.1, alpha=0.5, eps=0.0, momentum=0.5,
                                                   centered=True), [0.0], 2,
                           grad_fn=lambda w: [2.0])
        b2 = 0.5 * 2 + 2 / math.sqrt(0.75)
        np.testing.assert_allclose(xs[:, 0], [-0.2, -0.2 - 0.1 * b2], rtol=0, atol=1e-15)

    def test_adagrad_by_hand(self):
        # constant g = 2: s1 = 4 -> step lr*2/2 = lr; s2 = 8 -> step lr*2/sqrt(8) = lr/sqrt(2)
        xs = run_quadratic(lambda p: optim.Adagrad(p, lr=0.1, eps=0.0), [0.0], 2,
                           grad_fn=lambda w: [2.0])
        np.testing.assert_allclose(xs[:, 0], [-0.1, -0.1 - 0.1 / math.sqrt(2)], rtol=0,
                                   atol=1e-15)

    def test_adagrad_lr_decay_and_initial_accumulator(self):
        # s0 = 1, g = 1: s1 = 2, clr1 = 0.1, step 0.1/sqrt(2); s2 = 3, clr2 = 0.1/(1+0.5)
        xs = run_quadratic(lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.5, eps=0.0,
                                                   initial_accumulator_value=1.0), [0.0], 2,
                           grad_fn=lambda w: [1.0])
        s1 = -0.1 / math.sqrt(2)
        np.testing.assert_allclose(xs[:, 0], [s1, s1 - (0.1 / 1.5) / math.sqrt(3)], rtol=0,
                                   atol=1e-15)

    def test_adam_two_steps_by_hand(self):
        # g = 3 then g = 1; β = (0.9, 0.999), η = 0.01, ε = 0
        w = param([0.0])
        opt = optim.Adam([w], lr=0.01, eps=0.0)
        set_grad(w, [3.0])
        opt.step()
        assert w.data[0] == pytest.approx(-0.01, abs=1e-15)
        set_grad(w, [1.0])
        opt.step()
        m2 = 0.9 * 0.3 + 0.1 * 1.0
        v2 = 0.999 * 0.009 + 0.001 * 1.0
        step2 = 0.01 * (m2 / (1 - 0.81)) / math.sqrt(v2 / (1 - 0.999 ** 2))
        assert w.data[0] == pytest.approx(-0.01 - step2, abs=1e-15)
        assert opt.state[w]["step"] == 2

    def test_amsgrad_uses_running_max(self):
        w = param([0.0])
        opt = optim.Adam([w], lr=0.01, eps=0.0, amsgrad=True)
        for g in (10.0, 0.1):
            set_grad(w, [g])
            opt.step()
        st = opt.state[w]
        assert st["max_exp_avg_sq"][0] == pytest.approx(0.001 * 100, rel=1e-14)
        assert st["exp_avg_sq"][0] < st["max_exp_avg_sq"][0]

    def test_adamw_decays_weights_not_gradient(self):
        # zero gradient: Adam's m = 0 so only the decoupled decay moves w: w (1 - lr*wd)
        w = param([2.0])
        opt = optim.AdamW([w], lr=0.1, weight_decay=0.5, eps=1e-8)
        set_grad(w, [0.0])
        opt.step()
        assert w.data[0] == pytest.approx(2.0 * (1 - 0.05), abs=1e-15)
        # Adam's coupled decay instead feeds wd*w = 1 through the moments: first step = lr
        w2 = param([2.0])
        opt2 = optim.Adam([w2], lr=0.1, weight_decay=0.5, eps=0.0)
        set_grad(w2, [0.0])
        opt2.step()
        assert w2.data[0] == pytest.approx(1.9, abs=1e-15)


# ---------------------------------------------------------------------------- seed example
def test_seed_adam_one_step_g3(seed_example):
    ex = seed_example("adam-one-step-g3")
    i, e, tol = ex["inputs"], ex["expected"], ex["tolerance"]
    w = param([5.0])
    opt = optim.Adam([w], lr=i["eta"], betas=(i["beta1"], i["beta2"]), eps=i["eps"])
    set_grad(w, [i["g"]])
    opt.step()
    st = opt.state[w]
    m1, v1 = st["exp_avg"][0], st["exp_avg_sq"][0]
    assert abs(m1 - e["m1"]) <= tol
    assert abs(v1 - e["v1"]) <= tol
    assert abs(m1 / (1 - i["beta1"]) - e["m_hat"]) <= tol
    assert abs(v1 / (1 - i["beta2"]) - e["v_hat"]) <= tol
    assert abs((5.0 - w.data[0]) - e["delta"]) <= tol
    # without bias correction the step would be eta * m1 / (sqrt(v1) + eps)
    assert abs(i["eta"] * m1 / (math.sqrt(v1) + i["eps"]) - e["delta_without_bias_correction"]) \
        <= 1e-7


def test_seed_adam_one_step_float32(seed_example):
    ex = seed_example("adam-one-step-g3")
    w = gu.tensor([5.0], requires_grad=True)  # float32, the default
    opt = optim.Adam([w], lr=0.01)
    w.grad = gu.tensor([3.0])
    opt.step()
    assert w.dtype == np.float32
    assert abs((5.0 - float(w.data[0])) - ex["expected"]["delta"]) <= 1e-6


# ---------------------------------------------------------------------------- torch parity
SHAPES = [(5, 4), (4,), (3, 5), (1,)]

CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01,
             "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "maximize": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.9, "weight_decay": 0.05}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1,
                 "initial_accumulator_value": 0.3, "eps": 1e-6, "maximize": True}),
]


def _torch_run(torch, name, kw, init, grads):
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(torch.optim, name)(tp, **kw)
    for gs in grads:
        for p, g in zip(tp, gs):
            p.grad = torch.tensor(g.copy())
        opt.step()
    return [p.detach().numpy() for p in tp], opt


def _gu_run(name, kw, init, grads, foreach=None):
    gp = [gu.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(optim, name)(gp, foreach=foreach, **kw)
    for gs in grads:
        for p, g in zip(gp, gs):
            p.grad = gu.tensor(g.copy())
        opt.step()
    return [p.data for p in gp], opt


def _problem(dtype, steps=40, seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    return init, grads


@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_torch_parity(name, kw, dtype):
    torch = pytest.importorskip("torch")
    init, grads = _problem(dtype)
    expected, topt = _torch_run(torch, name, kw, init, grads)
    got, gopt = _gu_run(name, kw, init, grads)
    # float64: a few ulps of difference in the order of operations; float32 likewise
    rtol = 1e-13 if dtype == np.float64 else 2e-6
    for a, b in zip(got, expected):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
    # the state matches torch's state, buffer by buffer
    tstate = topt.state_dict()["state"]
    gstate = gopt.state_dict()["state"]
    assert sorted(tstate) == sorted(gstate)
    for i in tstate:
        assert set(tstate[i]) == set(gstate[i]), (tstate[i].keys(), gstate[i].keys())
        for k, v in tstate[i].items():
            np.testing.assert_allclose(gstate[i][k], v.numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_flat_and_per_parameter_paths_are_bit_identical(name, kw):
    init, grads = _problem(np.float32, steps=15, seed=1)
    a, oa = _gu_run(name, kw, init, grads, foreach=True)
    b, ob = _gu_run(name, kw, init, grads, foreach=False)
    assert oa._flat and not ob._flat  # the two paths really ran
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_flat_update_split_over_threads_is_bit_identical(name, kw):
    # parameters large enough (3e5 values) that the kernel threads each update a slice
    rng = np.random.default_rng(3)
    shapes = [(400, 500), (100_000,)]
    init = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(4)]
    before = gu.get_num_threads()
    gu.set_num_threads(3)
    try:
        a, oa = _gu_run(name, kw, init, grads, foreach=True)
    finally:
        gu.set_num_threads(before)
    b, _ = _gu_run(name, kw, init, grads, foreach=False)
    assert oa._flat
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_param_groups_with_own_options_match_torch():
    torch = pytest.importorskip("torch")
    init, grads = _problem(np.float64, steps=20, seed=2)
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    gp = [gu.tensor(a.copy(), requires_grad=True) for a in init]
    topt = torch.optim.SGD([{"params": tp[:2]}, {"params": tp[2:], "lr": 0.01, "momentum": 0.5}],
                           lr=0.1, momentum=0.9)
    gopt = optim.SGD([{"params": gp[:2]}, {"params": gp[2:], "lr": 0.01, "momentum": 0.5}],
                     lr=0.1, momentum=0.9)
    for gs in grads:
        for t, g, x in zip(tp, gp, gs):
            t.grad = torch.tensor(x.copy())
            g.grad = gu.tensor(x.copy())
        topt.step()
        gopt.step()
    for t, g in zip(tp, gp):
        np.testing.assert_allclose(g.data, t.detach().numpy(), rtol=1e-13, atol=1e-13)
    assert gopt.param_groups[1]["lr"] == 0.01 and gopt.param_groups[0]["momentum"] == 0.9


def test_params_without_grad_are_skipped_like_torch():
    torch = pytest.importorskip("torch")
    init, grads = _problem(np.float64, steps=12, seed=3)
    tp = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    gp = [gu.tensor(a.copy(), requires_grad=True) for a in init]
    topt = torch.optim.Adam(tp, lr=0.01)
    gopt = optim.Adam(gp, lr=0.01)
    for k, gs in enumerate(grads):
        for i, (t, g, x) in enumerate(zip(tp, gp, gs)):
            if (i == 1 and k % 2 == 0) or (i == 3 and k < 3):  # some get no gradient
                t.grad, g.grad = None, None
            else:
                t.grad, g.grad = torch.tensor(x.copy()), gu.tensor(x.copy())
        topt.step()
        gopt.step()
    for t, g in zip(tp, gp):
        np.testing.assert_allclose(g.data, t.detach().numpy(), rtol=1e-13, atol=1e-13)
    steps = [gopt.state[p]["step"] for p in gp]
    assert steps == [int(topt.state[t]["step"].item()) for t in tp]
    assert len(set(steps)) > 1


# ---------------------------------------------------------------------------- state_dict
@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_state_dict_round_trip_continues_identically(name, kw):
    init, grads = _problem(np.float32, steps=20, seed=4)
    ref, _ = _gu_run(name, kw, init, grads)

    first, opt = _gu_run(name, kw, init, grads[:10])
    first = [a.copy() for a in first]
    sd = opt.state_dict()
    saved = copy.deepcopy(sd)
    json.dumps(sd["param_groups"])  # options and indices are JSON
    for st in sd["state"].values():
        assert all(isinstance(v, np.ndarray) for v in st.values())
    # state arrays are copies: stepping on does not change the saved dict
    params = [p for g in opt.param_groups for p in g["params"]]
    for p in params:
        p.grad = gu.tensor(np.ones_like(p.data))
    opt.step()
    for i, st in sd["state"].items():
        for k, v in st.items():
            np.testing.assert_array_equal(v, saved["state"][i][k])

    # a fresh optimizer over copies of the parameters, loaded, continues bit-identically
    fresh_params = [gu.tensor(a.copy(), requires_grad=True) for a in first]
    opt2 = getattr(optim, name)(fresh_params, **kw)
    opt2.load_state_dict(saved)
    for gs in grads[10:]:
        for p, g in zip(fresh_params, gs):
            p.grad = gu.tensor(g.copy())
        opt2.step()
    for a, b in zip(fresh_params, ref):
        np.testing.assert_array_equal(a.data, b)


def test_state_dict_layout_is_pytorchs():
    w, b = param(np.zeros((2, 3))), param(np.zeros(2))
    opt = optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.1}], lr=0.01)
    set_grad(w, np.ones((2, 3)))
    set_grad(b, np.ones(2))
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.1 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(sd["state"]) == {0, 1}
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][0]["step"].dtype == np.float32 and float(sd["state"][0]["step"]) == 1.0
    assert sd["state"][0]["exp_avg"].shape == (2, 3)


def test_load_state_dict_from_torch():
    torch = pytest.importorskip("torch")
    init, grads = _problem(np.float64, steps=16, seed=5)
    expected, _ = _torch_run(torch, "Adam", {"lr": 0.01}, init, grads)
    mid, topt = _torch_run(torch, "Adam", {"lr": 0.01}, init, grads[:8])
    tsd = topt.state_dict()
    sd = {"state": {i: {k: v.numpy() for k, v in st.items()} for i, st in tsd["state"].items()},
          "param_groups": tsd["param_groups"]}
    gp = [gu.tensor(a.copy(), requires_grad=True) for a in mid]
    opt = optim.Adam(gp, lr=0.5)
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.01
    for gs in grads[8:]:
        for p, g in zip(gp, gs):
            p.grad = gu.tensor(g.copy())
        opt.step()
    for a, b in zip(gp, expected):
        np.testing.assert_allclose(a.data, b, rtol=1e-13, atol=1e-13)


def test_load_state_dict_mismatch_changes_nothing():
    w = param(np.zeros(3))
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    set_grad(w, [1.0, 2.0, 3.0])
    opt.step()
    before = opt.state_dict()
    bad = copy.deepcopy(before)
    bad["state"][0]["momentum_buffer"] = np.zeros(4)
    bad["param_groups"][0]["lr"] = 5.0
    with pytest.raises(ValueError, match=r"SGD.load_state_dict.*shape \(4,\).*help:"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["lr"] == 0.1
    np.testing.assert_array_equal(opt.state[w]["momentum_buffer"], [1.0, 2.0, 3.0])
    two_groups = {"state": {}, "param_groups": before["param_groups"] * 2}
    with pytest.raises(ValueError, match="2 parameter groups.*has 1"):
        opt.load_state_dict(two_groups)


def test_loaded_state_is_copied():
    w = param(np.zeros(2))
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    buf = np.array([1.0, 1.0])
    opt.load_state_dict({"state": {"0": {"momentum_buffer": buf}},
                         "param_groups": opt.state_dict()["param_groups"]})
    set_grad(w, [0.0, 0.0])
    opt.step()
    np.testing.assert_array_equal(buf, [1.0, 1.0])
    np.testing.assert_allclose(w.data, [-0.09, -0.09], rtol=0, atol=1e-16)


# ---------------------------------------------------------------------------- API behaviour
def test_zero_grad_set_to_none_and_zeros():
    w = param([1.0, 2.0])
    opt = optim.SGD([w], lr=0.1)
    set_grad(w, [3.0, 4.0])
    g = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is g
    np.testing.assert_array_equal(w.grad.data, [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None
    opt.step()  # no gradient: nothing happens
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


def test_step_with_closure_returns_loss_and_records_no_graph():
    w = param([3.0])
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with gu.no_grad():  # the closure still runs with gradients enabled
        loss = opt.step(closure)
    assert float(loss.data) == 9.0
    assert w.data[0] == 1.5  # 3 - 0.25 * 6
    assert w.is_leaf and w.grad_fn is None


def test_step_bumps_version_so_stale_graphs_refuse_backward():
    w = param([1.0, 2.0])
    loss = (w * w).sum()
    opt = optim.SGD([w], lr=0.1)
    set_grad(w, [1.0, 1.0])
    opt.step()
    with pytest.raises(GradError):
        loss.backward()


def test_add_param_group_and_defaults():
    a, b = param([1.0]), param([1.0])
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.01
    for p in (a, b):
        set_grad(p, [1.0])
    opt.step()
    assert a.data[0] == pytest.approx(0.9, abs=1e-15)
    assert b.data[0] == pytest.approx(0.99, abs=1e-15)
    with pytest.raises(ValueError, match="already in another parameter group"):
        opt.add_param_group({"params": [a]})


def test_lr_change_takes_effect_on_next_step():
    w = param([1.0])
    opt = optim.Adam([w], lr=0.01, eps=0.0)
    set_grad(w, [1.0])
    opt.step()
    opt.param_groups[0]["lr"] = 0.0
    opt.step()
    assert w.data[0] == pytest.approx(0.99, abs=1e-15)


def test_mixed_dtypes_fall_back_to_per_parameter_path():
    a = param([1.0, 2.0], dtype=np.float32)
    b = param([1.0], dtype=np.float64)
    opt = optim.Adam([a, b], lr=0.1, eps=0.0)
    for p in (a, b):
        set_grad(p, np.ones(p.shape))
    opt.step()
    assert not opt._flat
    assert a.dtype == np.float32 and b.dtype == np.float64
    np.testing.assert_allclose(a.data, [0.9, 1.9], rtol=1e-6)
    assert b.data[0] == pytest.approx(0.9, abs=1e-12)


def test_repr_lists_groups():
    opt = optim.SGD([param([1.0])], lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad])
def test_refuses_empty_set_duplicates_negative_lr(cls):
    name = cls.__name__
    w = param([1.0])
    with pytest.raises(ValueError, match=rf"{name} got an empty parameter list.*help:"):
        cls([], lr=0.1)
    with pytest.raises(ValueError, match=rf"{name}: params given as a set.*help:"):
        cls({w}, lr=0.1)
    with pytest.raises(ValueError, match=rf"{name}: parameter params\[1\].*more than once.*help:"):
        cls([w, w], lr=0.1)
    with pytest.raises(ValueError, match=rf"{name}: invalid lr -0.1 \(must be >= 0\).*help:"):
        cls([w], lr=-0.1)
    with pytest.raises(ValueError, match=rf"{name}: params should be an iterable.*single"):
        cls(w, lr=0.1)
    gen = (p for p in [w])
    list(gen)
    with pytest.raises(ValueError, match="already consumed"):
        cls(gen, lr=0.1)


@pytest.mark.parametrize("betas", [(1.0, 0.999), (0.9, -0.1), (0.9,), "ab"])
def test_adam_refuses_bad_betas(betas):
    with pytest.raises(ValueError, match=r"Adam: (invalid betas|betas must be a pair).*help:"):
        optim.Adam([param([1.0])], betas=betas)


def test_other_bad_options():
    w = param([1.0])
    with pytest.raises(ValueError, match="Nesterov momentum requires momentum > 0"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="SGD: invalid momentum -0.5"):
        optim.SGD([w], lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="RMSprop: invalid alpha -1"):
        optim.RMSprop([w], alpha=-1)
    with pytest.raises(ValueError, match="Adagrad: invalid lr_decay -1"):
        optim.Adagrad([w], lr_decay=-1)
    with pytest.raises(ValueError, match="AdamW: invalid weight_decay -1"):
        optim.AdamW([w], weight_decay=-1)
    with pytest.raises(ValueError, match="does not require grad"):
        optim.SGD([gu.tensor([1.0])], lr=0.1)
    with pytest.raises(DTypeError, match="floating-point"):
        optim.SGD([gu.tensor([1, 2])], lr=0.1)
    with pytest.raises(ValueError, match="only optimize Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)


# ---------------------------------------------------------------------------- learning
def _regression(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((64, 3))
    w_true = np.array([[1.5], [-2.0], [0.5]])
    y = X @ w_true + 0.3
    return gu.tensor(X), gu.tensor(y)


@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=0.05),
    lambda p: optim.SGD(p, lr=0.02, momentum=0.9, nesterov=True),
    lambda p: optim.SGD(p, lr=0.05, momentum=0.9, ema=True),
    lambda p: optim.Adam(p, lr=0.05),
    lambda p: optim.Adam(p, lr=0.05, amsgrad=True),
    lambda p: optim.AdamW(p, lr=0.05, weight_decay=1e-3),
    lambda p: optim.RMSprop(p, lr=0.01),
    lambda p: optim.RMSprop(p, lr=0.01, centered=True, momentum=0.5, eps_inside_sqrt=True),
    lambda p: optim.Adagrad(p, lr=0.3),
], ids=["sgd", "nesterov", "sgd-ema", "adam", "amsgrad", "adamw", "rmsprop", "rmsprop-c",
        "adagrad"])
def test_every_optimizer_fits_a_linear_regression(make):
    X, y = _regression()
    w = gu.tensor(np.zeros((3, 1)), requires_grad=True)
    b = gu.tensor(np.zeros(1), requires_grad=True)
    opt = make([w, b])

    def loss_fn():
        r = X @ w + b - y
        return (r * r).mean()

    first = float(loss_fn().data)
    for _ in range(300):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
    last = float(loss_fn().data)
    assert last < 1e-2 * first, (first, last)


def test_adam_lr_zero_moves_moments_not_weights():
    w = param([1.0, -1.0])
    opt = optim.Adam([w], lr=0.0)
    set_grad(w, [3.0, 1.0])
    opt.step()
    np.testing.assert_array_equal(w.data, [1.0, -1.0])
    np.testing.assert_allclose(opt.state[w]["exp_avg"], [0.3, 0.1], rtol=1e-15)


def test_many_small_parameters_use_the_flat_path_by_default():
    ps = [param(np.full(3, float(i))) for i in range(12)]
    opt = optim.SGD(ps, lr=0.5)
    for p in ps:
        set_grad(p, np.ones(3))
    opt.step()
    assert opt._flat
    for i, p in enumerate(ps):
        np.testing.assert_array_equal(p.data, np.full(3, i - 0.5))
