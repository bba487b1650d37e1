"""Recurrent layers: torch parity (outputs and gradients), gradcheck of every cell and of the
sequence layers, the fused recurrences against plain step-by-step references, parameter counts,
bad input, and a short learning test."""

from __future__ import annotations

import numpy as np
import pytest

import groundup as gu
from groundup import nn
from groundup.autograd import gradcheck
from groundup.errors import DTypeError, ShapeError
from groundup.nn.layers.rnn import gru_reference, lstm_reference, rnn_reference

TORCH_CLS = {"LSTM": "LSTM", "GRU": "GRU", "RNN": "RNN"}


def _t(a, grad=True):
    return gu.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _load_from_torch(gm, tm):
    """Copy a torch module's parameters into the groundup one via load_state_dict (same keys)."""
    sd = {k: v.detach().numpy().copy() for k, v in tm.state_dict().items()}
    gm.load_state_dict(sd)


def _max_err(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


# ----------------------------------------------------------------------------- torch parity
CONFIGS = [
    # kind, kwargs, with initial state
    ("LSTM", dict(num_layers=1), False),
    ("LSTM", dict(num_layers=2, bidirectional=True), True),
    ("LSTM", dict(num_layers=2, batch_first=True), True),
    ("LSTM", dict(num_layers=1, bidirectional=True, batch_first=True, bias=False), False),
    ("GRU", dict(num_layers=1), True),
    ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True), True),
    ("GRU", dict(num_layers=3), False),
    ("RNN", dict(num_layers=2, nonlinearity="tanh", bidirectional=True), True),
    ("RNN", dict(num_layers=2, nonlinearity="relu", batch_first=True), False),
]


@pytest.mark.parametrize("kind,kw,with_state", CONFIGS)
@pytest.mark.parametrize("T,B", [(1, 1), (6, 3)])
def test_sequence_layer_matches_torch(kind, kw, with_state, T, B):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    F_in, H = 5, 4
    tm = getattr(torch.nn, TORCH_CLS[kind])(F_in, H, **kw).double()
    gm = getattr(nn, kind)(F_in, H, dtype=np.float64, **kw)
    assert list(gm.state_dict()) == list(tm.state_dict())
    _load_from_torch(gm, tm)
    rng = np.random.default_rng(1)
    bf = kw.get("batch_first", False)
    x = rng.standard_normal((B, T, F_in) if bf else (T, B, F_in))
    D = 2 if kw.get("bidirectional") else 1
    L = kw.get("num_layers", 1)
    tx, gx = torch.tensor(x, requires_grad=True), _t(x)
    t_args, g_args, states = [], [], []
    if with_state:
        h0 = rng.standard_normal((L * D, B, H))
        states = [(torch.tensor(h0, requires_grad=True), _t(h0))]
        if kind == "LSTM":
            c0 = rng.standard_normal((L * D, B, H))
            states.append((torch.tensor(c0, requires_grad=True), _t(c0)))
            t_args, g_args = [(states[0][0], states[1][0])], [(states[0][1], states[1][1])]
        else:
            t_args, g_args = [states[0][0]], [states[0][1]]
    to, tstate = tm(tx, *t_args)
    go, gstate = gm(gx, *g_args)
    assert go.shape == tuple(to.shape)
    assert _max_err(go.data, to.detach().numpy()) < 1e-12
    w = rng.standard_normal(to.shape)
    if kind == "LSTM":
        assert _max_err(gstate[0].data, tstate[0].detach().numpy()) < 1e-12
        assert _max_err(gstate[1].data, tstate[1].detach().numpy()) < 1e-12
        t_loss = (to * torch.tensor(w)).sum() + (tstate[0] ** 2).sum() + tstate[1].sum() * 0.5
        g_loss = (go * _t(w, False)).sum() + (gstate[0] ** 2).sum() + gstate[1].sum() * 0.5
    else:
        assert _max_err(gstate.data, tstate.detach().numpy()) < 1e-12
        t_loss = (to * torch.tensor(w)).sum() + (tstate ** 2).sum()
        g_loss = (go * _t(w, False)).sum() + (gstate ** 2).sum()
    t_loss.backward()
    g_loss.backward()
    assert _max_err(gx.grad.data, tx.grad.numpy()) < 1e-11
    for ts, gs in states:
        assert _max_err(gs.grad.data, ts.grad.numpy()) < 1e-11
    tparams = dict(tm.named_parameters())
    for name, p in gm.named_parameters():
        assert _max_err(p.grad.data, tparams[name].grad.numpy()) < 1e-10, name


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_unbatched_input_matches_torch(kind):
    torch = pytest.importorskip("torch")
    torch.manual_seed(3)
    tm = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True)
    gm = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True)
    _load_from_torch(gm, tm)
    x = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32)
    to, ts = tm(torch.tensor(x))
    go, gs = gm(gu.tensor(x))
    assert go.shape == (7, 8)
    assert _max_err(go.data, to.detach().numpy()) < 1e-5
    if kind == "LSTM":
        assert gs[0].shape == (4, 4) and _max_err(gs[1].data, ts[1].detach().numpy()) < 1e-5
    else:
        assert gs.shape == (4, 4) and _max_err(gs.data, ts.detach().numpy()) < 1e-5


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cells_match_torch(kind):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = getattr(torch.nn, kind)(5, 3).double()
    gm = getattr(nn, kind)(5, 3, dtype=np.float64)
    assert list(gm.state_dict()) == list(tm.state_dict())
    _load_from_torch(gm, tm)
    rng = np.random.default_rng(0)
    x, h, c = rng.standard_normal((4, 5)), rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    gx, gh, gc = _t(x), _t(h), _t(c)
    if kind == "LSTMCell":
        (th1, tc1), (gh1, gc1) = tm(tx, (th, tc)), gm(gx, (gh, gc))
        ((th1 ** 2).sum() + (tc1 ** 3).sum()).backward()
        ((gh1 ** 2).sum() + (gc1 ** 3).sum()).backward()
        assert _max_err(gc1.data, tc1.detach().numpy()) < 1e-12
        assert _max_err(gc.grad.data, tc.grad.numpy()) < 1e-12
    else:
        th1, gh1 = tm(tx, th), gm(gx, gh)
        (th1 ** 2).sum().backward()
        (gh1 ** 2).sum().backward()
    assert _max_err(gh1.data, th1.detach().numpy()) < 1e-12
    assert _max_err(gx.grad.data, tx.grad.numpy()) < 1e-12
    assert _max_err(gh.grad.data, th.grad.numpy()) < 1e-12
    tp = dict(tm.named_parameters())
    for name, p in gm.named_parameters():
        assert _max_err(p.grad.data, tp[name].grad.numpy()) < 1e-12, name


def test_torch_state_dict_loads_and_runs():
    torch = pytest.importorskip("torch")
    tm = torch.nn.LSTM(28, 16, num_layers=2, bidirectional=True, batch_first=True)
    gm = nn.LSTM(28, 16, num_layers=2, bidirectional=True, batch_first=True)
    gm.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 9, 28)).astype(np.float32)
    assert _max_err(gm(gu.tensor(x))[0].data, tm(torch.tensor(x))[0].detach().numpy()) < 1e-5


# ----------------------------------------------------------------------------- gradcheck
@pytest.mark.parametrize("kind,n_state", [("RNNCell", 1), ("LSTMCell", 2), ("GRUCell", 1)])
def test_cell_gradcheck(kind, n_state):
    rng = np.random.default_rng(0)
    cell = getattr(nn, kind)(3, 2, dtype=np.float64)
    x = _t(rng.standard_normal((2, 3)))
    states = [_t(rng.standard_normal((2, 2))) for _ in range(n_state)]
    # the cell's own Parameters are checked directly (their .data is what gradcheck perturbs)
    params = list(cell.parameters())

    def fn(x, *rest):
        out = cell(x, tuple(rest[:2]) if n_state == 2 else rest[0])
        return out if n_state == 1 else out[0] + out[1] * 0.5

    assert gradcheck(fn, (x, *states, *params))


def test_relu_cell_gradcheck():
    rng = np.random.default_rng(1)
    cell = nn.RNNCell(3, 4, nonlinearity="relu", dtype=np.float64)
    x, h = _t(rng.standard_normal((3, 3))), _t(rng.standard_normal((3, 4)))
    assert gradcheck(lambda x, h, *p: cell(x, h), (x, h, *cell.parameters()))


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_sequence_layer_gradcheck_bidirectional_two_layers(kind):
    rng = np.random.default_rng(0)
    m = getattr(nn, kind)(2, 2, num_layers=2, bidirectional=True, dtype=np.float64)
    x = _t(rng.standard_normal((3, 2, 2)))
    R = rng.standard_normal((3, 2, 4))

    def fn(x, *params):
        out, state = m(x)
        h = state[0] if kind == "LSTM" else state
        loss = (out * gu.tensor(R)).sum() + (h * h).sum()
        if kind == "LSTM":
            loss = loss + state[1].sum()
        return loss

    assert gradcheck(fn, (x, *m.parameters()))


# ----------------------------------------------------------------------------- fused vs plain
def test_fused_sequence_equals_stepping_the_plain_reference():
    """An LSTM/GRU/RNN layer equals the textbook step-by-step loop over elementary ops, values
    and gradients (no torch needed)."""
    rng = np.random.default_rng(5)
    T, B, F_in, H = 5, 3, 4, 3
    x = rng.standard_normal((T, B, F_in))
    for kind in ("LSTM", "GRU", "RNN"):
        m = getattr(nn, kind)(F_in, H, dtype=np.float64)
        w_ih, w_hh, b_ih, b_hh = m.weight_ih_l0, m.weight_hh_l0, m.bias_ih_l0, m.bias_hh_l0
        xs = _t(x)
        out, _ = m(xs)
        out.sum().backward()
        fused = [out.data.copy(), xs.grad.data.copy(), w_hh.grad.data.copy(),
                 b_ih.grad.data.copy()]
        m.zero_grad()
        xr = _t(x)
        h = gu.tensor(np.zeros((B, H)))
        c = gu.tensor(np.zeros((B, H)))
        hs = []
        for t in range(T):
            if kind == "LSTM":
                h, c = lstm_reference(xr[t], h, c, w_ih, w_hh, b_ih, b_hh)
            elif kind == "GRU":
                h = gru_reference(xr[t], h, w_ih, w_hh, b_ih, b_hh)
            else:
                h = rnn_reference(xr[t], h, w_ih, w_hh, b_ih, b_hh)
            hs.append(h)
        ref = gu.stack(hs, 0)
        ref.sum().backward()
        assert _max_err(fused[0], ref.data) < 1e-13, kind
        assert _max_err(fused[1], xr.grad.data) < 1e-13, kind
        assert _max_err(fused[2], w_hh.grad.data) < 1e-13, kind
        assert _max_err(fused[3], b_ih.grad.data) < 1e-13, kind


def test_lstm_gates_follow_the_primers_equations():
    """One LSTM step by hand (NumPy): c = f·c₀ + i·g, h = o·tanh(c), gates in order i,f,g,o."""
    rng = np.random.default_rng(2)
    cell = nn.LSTMCell(2, 3, dtype=np.float64)
    x = rng.standard_normal((1, 2))
    h0, c0 = rng.standard_normal((1, 3)), rng.standard_normal((1, 3))
    a = (x @ cell.weight_ih.data.T + cell.bias_ih.data + h0 @ cell.weight_hh.data.T
         + cell.bias_hh.data)[0]
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    i, f, g, o = sig(a[:3]), sig(a[3:6]), np.tanh(a[6:9]), sig(a[9:])
    c = f * c0[0] + i * g
    h1, c1 = cell(gu.tensor(x), (gu.tensor(h0), gu.tensor(c0)))
    np.testing.assert_allclose(c1.data[0], c, rtol=1e-12)
    np.testing.assert_allclose(h1.data[0], o * np.tanh(c), rtol=1e-12)


def test_cell_without_state_starts_from_zeros_and_unbatched():
    cell = nn.GRUCell(3, 2)
    x = gu.randn(3)
    h = cell(x)
    assert h.shape == (2,)
    np.testing.assert_allclose(h.data, cell(x.unsqueeze(0), gu.zeros(1, 2)).data[0], rtol=1e-6)


# ----------------------------------------------------------------------------- counting
def test_seed_lstm_parameter_count(seed_example):
    ex = seed_example("lstm-param-count-q11-8")
    H, I = ex["inputs"]["hidden"], ex["inputs"]["input"]
    exp = ex["expected"]
    torch_style = nn.LSTM(I, H)
    primer = nn.LSTM(I, H, single_bias=True)
    assert sum(p.numel() for p in torch_style.parameters()) == exp[
        "with_two_biases_per_gate_pytorch_style"]
    assert sum(p.numel() for p in primer.parameters()) == exp["with_one_bias_per_gate"]
    weights = sum(p.numel() for n, p in torch_style.named_parameters() if n.startswith("weight"))
    assert weights == exp["weights"]
    assert nn.lstm_parameter_count(I, H) == 99_328
    assert nn.lstm_parameter_count(I, H, biases_per_gate=1) == 98_816
    s = nn.summary(torch_style, (10, 2, I), print_summary=False)
    assert s.total_params == 99_328


def test_single_bias_lstm_equals_two_bias_lstm_with_summed_biases():
    two = nn.LSTM(3, 4, dtype=np.float64)
    one = nn.LSTM(3, 4, single_bias=True, dtype=np.float64)
    one.weight_ih_l0.data[...] = two.weight_ih_l0.data
    one.weight_hh_l0.data[...] = two.weight_hh_l0.data
    one.bias_ih_l0.data[...] = two.bias_ih_l0.data + two.bias_hh_l0.data
    x = gu.tensor(np.random.default_rng(0).standard_normal((5, 2, 3)))
    np.testing.assert_allclose(one(x)[0].data, two(x)[0].data, rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------------- modes, errors
def test_dropout_between_layers_only_in_training():
    gu.manual_seed(0)
    m = nn.LSTM(4, 8, num_layers=2, dropout=0.5)
    x = gu.randn(6, 3, 4)
    m.eval()
    a, b = m(x)[0].data, m(x)[0].data
    np.testing.assert_array_equal(a, b)
    m.train()
    assert np.abs(m(x)[0].data - a).max() > 1e-3
    single = nn.LSTM(4, 8, num_layers=1, dropout=0.5)  # one layer: dropout has nothing to do
    np.testing.assert_array_equal(single(x)[0].data, single.eval()(x)[0].data)


def test_bad_inputs_raise_clear_errors():
    m = nn.LSTM(10, 20, num_layers=2)
    with pytest.raises(ShapeError, match=r"LSTM\(input_size=10.*\(5, 3, 7\).*H_in=10"):
        m(gu.randn(5, 3, 7))
    with pytest.raises(ShapeError, match=r"h_0 has shape \(1, 3, 20\), expected \(2, 3, 20\)"):
        m(gu.randn(5, 3, 10), (gu.zeros(1, 3, 20), gu.zeros(2, 3, 20)))
    with pytest.raises(ShapeError, match=r"c_0 has shape \(2, 4, 20\), expected \(2, 3, 20\)"):
        m(gu.randn(5, 3, 10), (gu.zeros(2, 3, 20), gu.zeros(2, 4, 20)))
    with pytest.raises(TypeError, match="tuple"):
        m(gu.randn(5, 3, 10), gu.zeros(2, 3, 20))
    with pytest.raises(DTypeError, match="dtype int64"):
        m(gu.tensor(np.zeros((5, 3, 10), dtype=np.int64)))
    with pytest.raises(ShapeError, match=r"GRU.*\(4,\)"):
        nn.GRU(4, 2)(gu.randn(4))
    with pytest.raises(ShapeError, match=r"transpose\(1, 2\) with batch_first=True"):
        nn.GRU(28, 8)(gu.randn(64, 28, 3))
    with pytest.raises(ShapeError, match=r"x.squeeze\(1\)"):
        nn.GRU(28, 8, batch_first=True)(gu.randn(64, 1, 28, 28))
    with pytest.raises(ShapeError, match=r"GRUCell\(3, 2\).*\(4, 5\)"):
        nn.GRUCell(3, 2)(gu.randn(4, 5))
    with pytest.raises(ShapeError, match=r"state hx has shape \(4, 3\), expected \(4, 2\)"):
        nn.GRUCell(3, 2)(gu.randn(4, 3), gu.randn(4, 3))
    with pytest.raises(TypeError, match="single_bias"):  # GRU's b_hn sits inside r ⊙ (...)
        nn.GRU(3, 2, single_bias=True)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 2, nonlinearity="sigmoid")


# ----------------------------------------------------------------------------- learning
def test_lstm_learns_to_remember_the_first_step():
    """The label is the sign of the first input of a 12-step noisy sequence: only a memory of
    step 1 solves it. Cross-entropy falls below 0.1 within 150 Adam steps."""
    from groundup.nn import functional as F
    from groundup.optim import Adam

    gu.manual_seed(0)
    rng = np.random.default_rng(0)
    n, T = 128, 12
    x = rng.standard_normal((n, T, 1)).astype(np.float32)
    y = (x[:, 0, 0] > 0).astype(np.int64)
    lstm, head = nn.LSTM(1, 16, batch_first=True), nn.Linear(16, 2)
    opt = Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.02)
    xt, yt = gu.tensor(x), gu.tensor(y)
    for _ in range(150):
        _, (h, _) = lstm(xt)
        loss = F.cross_entropy(head(h[-1]), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1


def test_fused_recurrence_refuses_second_derivatives_and_reference_gives_them():
    """The fused BPTT kernels are once-differentiable (a clear error), while the plain reference
    step differentiates twice (gradgradcheck)."""
    from groundup.autograd import gradgradcheck
    from groundup.errors import GradError

    rng = np.random.default_rng(0)
    m = nn.LSTM(2, 2, dtype=np.float64)
    x = _t(rng.standard_normal((3, 1, 2)))
    out, _ = m(x)
    with pytest.raises(GradError, match="LSTMRecurrence is once-differentiable"):
        gu.autograd.grad(out.sum(), [x], create_graph=True)
    w_ih, w_hh = _t(rng.standard_normal((8, 2))), _t(rng.standard_normal((8, 2)))
    h, c = _t(rng.standard_normal((1, 2))), _t(rng.standard_normal((1, 2)))
    assert gradgradcheck(lambda x, h, c: lstm_reference(x, h, c, w_ih, w_hh)[0],
                         (_t(rng.standard_normal((1, 2))), h, c))
