"""Learning-rate schedules: hand values, PyTorch's exact sequences over 25 steps, JSON state_dict
round trips that continue identically, and bad input."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import groundup as gu
from groundup.optim import SGD, Adam
from groundup.optim import lr_scheduler as S

STEPS = 25


def make_opt(lrs=(0.1,), cls=SGD, **kw):
    groups = [{"params": [gu.tensor(np.zeros(2), requires_grad=True)], "lr": lr} for lr in lrs]
    return cls(groups, **kw)


def lr_sequence(opt, sched, steps=STEPS, metrics=None):
    seq = [sched.get_last_lr()]
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        seq.append(sched.get_last_lr())
    return seq


# ---------------------------------------------------------------------------- hand values
def test_step_lr_by_hand():
    opt = make_opt((1.0,))
    seq = [x[0] for x in lr_sequence(opt, S.StepLR(opt, step_size=3, gamma=0.5), steps=9)]
    assert seq == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]


def test_multistep_lr_by_hand():
    opt = make_opt((1.0,))
    seq = [x[0] for x in lr_sequence(opt, S.MultiStepLR(opt, [2, 4, 4], gamma=0.1), steps=5)]
    np.testing.assert_allclose(seq, [1, 1, 0.1, 0.1, 1e-3, 1e-3], rtol=1e-15)


def test_exponential_lr_matches_course_formula():
    # workshop: eta_t = eta_0 exp(-lambda t), gamma = exp(-lambda)
    lam = 0.2
    opt = make_opt((0.5,))
    seq = [x[0] for x in lr_sequence(opt, S.ExponentialLR(opt, math.exp(-lam)), steps=20)]
    np.testing.assert_allclose(seq, [0.5 * math.exp(-lam * t) for t in range(21)], rtol=1e-13)


def test_cosine_annealing_matches_course_formula():
    # primer: eta_t = eta_min + (eta_max - eta_min)(1 + cos(pi t / T))/2
    opt = make_opt((0.1,))
    T, lo = 10, 0.001  # noqa: N806
    seq = [x[0] for x in lr_sequence(opt, S.CosineAnnealingLR(opt, T_max=T, eta_min=lo), 10)]
    expected = [lo + (0.1 - lo) * (1 + math.cos(math.pi * t / T)) / 2 for t in range(11)]
    np.testing.assert_allclose(seq, expected, rtol=1e-13)
    assert seq[5] == pytest.approx((0.1 + lo) / 2, rel=1e-13) and seq[10] == pytest.approx(lo)


def test_linear_warmup_by_hand():
    opt = make_opt((1.0,))
    seq = [x[0] for x in lr_sequence(opt, S.LinearLR(opt, 0.25, 1.0, total_iters=3), steps=5)]
    np.testing.assert_allclose(seq, [0.25, 0.5, 0.75, 1.0, 1.0, 1.0], rtol=1e-15)


def test_warmup_then_cosine_with_sequential():
    opt = make_opt((1.0,))
    warm = S.LinearLR(opt, 0.5, 1.0, total_iters=2)
    cos = S.CosineAnnealingLR(opt, T_max=4)
    seq = [x[0] for x in lr_sequence(opt, S.SequentialLR(opt, [warm, cos], milestones=[2]), 6)]
    np.testing.assert_allclose(seq, [0.5, 0.75, 1.0, (1 + math.cos(math.pi / 4)) / 2, 0.5,
                                     (1 + math.cos(3 * math.pi / 4)) / 2, 0.0], atol=1e-15)


def test_one_cycle_endpoints():
    opt = make_opt((0.1,), momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.3)
    seq = [x[0] for x in lr_sequence(opt, sched, steps=9)]
    assert seq[0] == pytest.approx(1.0 / 25)  # max_lr / div_factor
    assert seq[2] == pytest.approx(1.0)       # end of warmup: step pct_start*total - 1
    assert seq[9] == pytest.approx(1.0 / 25 / 1e4)  # initial_lr / final_div_factor
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)


def test_cyclic_triangular_by_hand():
    opt = make_opt((0.1,), momentum=0.9)
    sched = S.CyclicLR(opt, base_lr=0.0, max_lr=1.0, step_size_up=2, cycle_momentum=False)
    seq = [x[0] for x in lr_sequence(opt, sched, steps=8)]
    np.testing.assert_allclose(seq, [0, 0.5, 1, 0.5, 0, 0.5, 1, 0.5, 0], atol=1e-15)


def test_warm_restarts_by_hand():
    opt = make_opt((1.0,))
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    seq = [x[0] for x in lr_sequence(opt, sched, steps=7)]
    # cycles of 2 then 4 epochs: cos at T_cur/T_i = 0, 1/2 | 0, 1/4, 2/4, 3/4 | 0
    expected = [1, 0.5, 1, (1 + math.cos(math.pi / 4)) / 2, 0.5, (1 + math.cos(3 * math.pi / 4)) / 2,
                1, (1 + math.cos(math.pi / 8)) / 2]
    np.testing.assert_allclose(seq, expected, atol=1e-15)


def test_reduce_on_plateau_by_hand():
    opt = make_opt((1.0,))
    sched = S.ReduceLROnPlateau(opt, factor=0.5, patience=1, min_lr=0.2)
    metrics = [1.0, 0.5, 0.6, 0.7, 0.4, 0.5, 0.5, 0.5, 0.5, 0.5]
    seq = [x[0] for x in lr_sequence(opt, sched, steps=len(metrics), metrics=metrics)]
    assert seq == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2]


def test_scheduler_before_optimizer_warns():
    opt = make_opt()
    sched = S.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before optimizer.step"):
        sched.step()


def test_step_with_epoch_uses_closed_form():
    opt = make_opt((1.0,))
    sched = S.StepLR(opt, step_size=2, gamma=0.1)
    opt.step()
    sched.step(5)
    assert sched.get_last_lr() == [pytest.approx(0.01)]


# ---------------------------------------------------------------------------- torch parity
SCHEDULERS = {
    "LambdaLR": lambda M, o: M.LambdaLR(o, lambda e: 1 / (1 + 0.3 * e)),
    "LambdaLR-per-group": lambda M, o: M.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: 1 + e]),
    "MultiplicativeLR": lambda M, o: M.MultiplicativeLR(o, lambda e: 0.93),
    "StepLR": lambda M, o: M.StepLR(o, 4, 0.5),
    "MultiStepLR": lambda M, o: M.MultiStepLR(o, [3, 7, 7, 15], 0.3),
    "ConstantLR": lambda M, o: M.ConstantLR(o, 0.25, 6),
    "LinearLR": lambda M, o: M.LinearLR(o, 0.1, 1.0, 8),
    "LinearLR-decay": lambda M, o: M.LinearLR(o, 1.0, 0.05, 12),
    "ExponentialLR": lambda M, o: M.ExponentialLR(o, 0.87),
    "PolynomialLR": lambda M, o: M.PolynomialLR(o, 15, 2.0),
    "CosineAnnealingLR": lambda M, o: M.CosineAnnealingLR(o, 7, 0.001),
    "SequentialLR": lambda M, o: M.SequentialLR(
        o, [M.LinearLR(o, 0.1, 1.0, 5), M.CosineAnnealingLR(o, 15, 1e-4)], [5]),
    "SequentialLR-3": lambda M, o: M.SequentialLR(
        o, [M.ConstantLR(o, 0.5, 10), M.ExponentialLR(o, 0.9), M.StepLR(o, 3)], [4, 12]),
    "CyclicLR-triangular": lambda M, o: M.CyclicLR(o, 0.01, 0.1, 4, 3),
    "CyclicLR-triangular2": lambda M, o: M.CyclicLR(o, [0.01, 0.02], 0.1, 3, mode="triangular2"),
    "CyclicLR-exp_range": lambda M, o: M.CyclicLR(o, 0.01, 0.1, 5, mode="exp_range", gamma=0.95),
    "OneCycleLR-cos": lambda M, o: M.OneCycleLR(o, 0.5, total_steps=STEPS),
    "OneCycleLR-linear-3phase": lambda M, o: M.OneCycleLR(
        o, [0.5, 0.2], epochs=5, steps_per_epoch=5, three_phase=True, anneal_strategy="linear"),
    "CosineAnnealingWarmRestarts": lambda M, o: M.CosineAnnealingWarmRestarts(o, 3, 2, 0.001),
    "CosineAnnealingWarmRestarts-T1": lambda M, o: M.CosineAnnealingWarmRestarts(o, 4),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_torch_sequence_exactly(name, opt_name):
    torch = pytest.importorskip("torch")
    from torch.optim import lr_scheduler as T  # noqa: N812

    kw = {"momentum": 0.9} if opt_name == "SGD" else {}
    gopt = make_opt((0.1, 0.05), cls={"SGD": SGD, "Adam": Adam}[opt_name], **kw)
    topt = getattr(torch.optim, opt_name)(
        [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in (0.1, 0.05)], **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gs, ts = SCHEDULERS[name](S, gopt), SCHEDULERS[name](T, topt)
        got = lr_sequence(gopt, gs)
        expected = [ts.get_last_lr()]
        for _ in range(STEPS):
            topt.step()
            ts.step()
            expected.append(ts.get_last_lr())
    assert got == expected  # bit-for-bit: the same floating-point operations as PyTorch
    key = "momentum" if opt_name == "SGD" else "betas"
    assert [g[key] for g in gopt.param_groups] == [g[key] for g in topt.param_groups]


def test_reduce_on_plateau_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.optim import lr_scheduler as T  # noqa: N812

    rng = np.random.default_rng(0)
    metrics = list(np.round(1 / np.arange(1, 31) + rng.uniform(0, 0.2, 30), 3))
    for kw in ({"patience": 2, "cooldown": 1, "factor": 0.5},
               {"mode": "max", "threshold_mode": "abs", "threshold": 0.01, "patience": 1},
               {"min_lr": [0.02, 0.001], "patience": 0, "factor": 0.3}):
        gopt = make_opt((0.1, 0.05))
        topt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr}
                                for lr in (0.1, 0.05)])
        gs, ts = S.ReduceLROnPlateau(gopt, **kw), T.ReduceLROnPlateau(topt, **kw)
        got, exp = [], []
        for m in metrics:
            gs.step(m)
            ts.step(m)
            got.append(gs.get_last_lr())
            exp.append(ts.get_last_lr())
        assert got == exp
        assert len({tuple(x) for x in got}) > 1


# ---------------------------------------------------------------------------- state_dict
@pytest.mark.parametrize("name", [n for n in SCHEDULERS])
def test_state_dict_json_round_trip_continues_identically(name):
    make = SCHEDULERS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt_ref = make_opt((0.1, 0.05), momentum=0.9)
        ref = lr_sequence(opt_ref, make(S, opt_ref), steps=20)

        opt = make_opt((0.1, 0.05), momentum=0.9)
        sched = make(S, opt)
        lr_sequence(opt, sched, steps=9)
        text = json.dumps({"sched": sched.state_dict(), "opt": opt.state_dict()["param_groups"]})

        saved = json.loads(text)
        opt2 = make_opt((0.1, 0.05), momentum=0.9)
        sched2 = make(S, opt2)
        opt2.load_state_dict({"state": {}, "param_groups": saved["opt"]})
        sched2.load_state_dict(saved["sched"])
        assert sched2.get_last_lr() == ref[9]
        rest = lr_sequence(opt2, sched2, steps=11)
    assert rest == ref[9:]


def test_plateau_state_dict_round_trip():
    opt = make_opt((1.0,))
    sched = S.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    for m in (1.0, 2.0, 2.0):
        sched.step(m)
    sd = json.loads(json.dumps(sched.state_dict()))
    opt2 = make_opt((opt.param_groups[0]["lr"],))
    sched2 = S.ReduceLROnPlateau(opt2, patience=1, factor=0.5)
    sched2.load_state_dict(sd)
    assert sched2.best == 1.0 and sched2.num_bad_epochs == sched.num_bad_epochs
    for m in (2.0, 2.0):
        sched.step(m)
        sched2.step(m)
    assert sched2.get_last_lr() == sched.get_last_lr() == [0.25]


def test_lambda_state_dict_keeps_callable_object_state_not_functions():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, epoch):
            return self.rate ** epoch

    opt = make_opt((1.0, 1.0))
    d = Decay()
    sched = S.LambdaLR(opt, [lambda e: 1.0, d])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [None, {"rate": 0.5}]
    d.rate = 0.1
    sched.load_state_dict(sd)
    assert d.rate == 0.5


# ---------------------------------------------------------------------------- bad input
def test_bad_scheduler_arguments():
    opt = make_opt()
    with pytest.raises(TypeError, match="is not an Optimizer"):
        S.StepLR(object(), 2)
    with pytest.raises(ValueError, match="StepLR: step_size must be a positive int.*help:"):
        S.StepLR(opt, 0)
    with pytest.raises(ValueError, match="LinearLR: start_factor"):
        S.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="ReduceLROnPlateau: factor must be < 1"):
        S.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="OneCycleLR: give total_steps"):
        S.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="lr_lambda has 2 values but the optimizer has 1"):
        S.LambdaLR(opt, [lambda e: 1, lambda e: 1])
    with pytest.raises(ValueError, match="2 schedulers need 1 milestones"):
        S.SequentialLR(opt, [S.StepLR(opt, 2), S.StepLR(opt, 3)], [])
    with pytest.raises(ValueError, match="has no momentum or betas"):
        from groundup.optim import Adagrad
        S.CyclicLR(Adagrad([gu.tensor([1.0], requires_grad=True)]), 0.01, 0.1)
    one = make_opt(momentum=0.9)
    sched = S.OneCycleLR(one, 0.1, total_steps=2)
    one.step()
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="stepped 3 times but total_steps is 2"):
        sched.step()
