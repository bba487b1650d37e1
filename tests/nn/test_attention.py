"""Attention: the primer's worked examples, scaled_dot_product_attention and MultiheadAttention
against PyTorch (outputs, weights, gradients; masks, batch_first, kdim/vdim), gradcheck with masks,
causality, the fused kernel against the plain reference, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import groundup as gu
from groundup import nn
from groundup.autograd import gradcheck
from groundup.errors import DTypeError, ShapeError
from groundup.nn import functional as F
from groundup.nn.layers.attention import attention_reference


def _t(a, grad=True):
    return gu.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _err(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


# ----------------------------------------------------------------------------- the primer
def test_seed_single_query_attention(seed_example):
    ex = seed_example("attention-single-query-q11-7")
    q = gu.tensor([ex["inputs"]["q"]], dtype=np.float64)           # (1, d_k)
    K = gu.tensor(ex["inputs"]["K"], dtype=np.float64)             # (3, d_k)
    V = gu.tensor(ex["inputs"]["V"], dtype=np.float64).reshape(3, 1)
    tol = ex["tolerance"]
    out, weights = attention_reference(q, K, V)
    scores = (q @ K.T).data[0]
    np.testing.assert_allclose(scores, ex["expected"]["scores"], atol=tol)
    np.testing.assert_allclose(scores / math.sqrt(ex["inputs"]["d_k"]), ex["expected"]["scaled"],
                               atol=tol)
    np.testing.assert_allclose(weights.data[0], ex["expected"]["weights"], atol=tol)
    assert abs(out.item() - ex["expected"]["output"]) <= tol
    fused = F.scaled_dot_product_attention(q, K, V)
    assert abs(fused.item() - ex["expected"]["output"]) <= tol


def test_seed_self_attention_shapes(seed_example):
    ex = seed_example("self-attention-shape-listing-11-1")
    L, d_model, d_k = (ex["inputs"][k] for k in ("seq_len", "d_model", "d_k"))
    gu.manual_seed(0)
    X = gu.randn(L, d_model, dtype=gu.float64)
    Wq, Wk, Wv = (gu.randn(d_model, d_k, dtype=gu.float64) * 0.1 for _ in range(3))
    out, weights = attention_reference(X @ Wq, X @ Wk, X @ Wv)
    assert list(out.shape) == ex["expected"]["output_shape"]
    assert list(weights.shape) == ex["expected"]["weights_shape"]
    assert np.abs(weights.data.sum(-1) - 1).max() <= ex["expected"]["max_row_sum_error"] + \
        ex["tolerance"]
    fused = F.scaled_dot_product_attention(X @ Wq, X @ Wk, X @ Wv)
    np.testing.assert_allclose(fused.data, out.data, rtol=1e-12)


# ----------------------------------------------------------------------------- SDPA
SDPA_CASES = [
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), None, False),
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), "bool", False),
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), "float", False),
    ((3, 5, 4), (3, 5, 4), (3, 5, 2), None, True),
    ((1, 1, 8), (1, 6, 8), (1, 6, 8), "bool", False),
]


@pytest.mark.parametrize("qs,ks,vs,mask,causal", SDPA_CASES)
def test_sdpa_matches_torch(qs, ks, vs, mask, causal):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal(qs), rng.standard_normal(ks), rng.standard_normal(vs)
    L, S = qs[-2], ks[-2]
    m = None
    if mask == "bool":
        m = rng.random((L, S)) > 0.4
        m[:, 0] = True  # every query may attend somewhere
    elif mask == "float":
        m = rng.standard_normal((qs[0], 1, L, S))
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    gq, gk, gv = _t(q), _t(k), _t(v)
    to = torch.nn.functional.scaled_dot_product_attention(
        tq, tk, tv, attn_mask=None if m is None else torch.tensor(m), is_causal=causal)
    go = F.scaled_dot_product_attention(gq, gk, gv, attn_mask=None if m is None else gu.tensor(m),
                                        is_causal=causal)
    assert _err(go.data, to.detach().numpy()) < 1e-12
    w = rng.standard_normal(to.shape)
    (to * torch.tensor(w)).sum().backward()
    (go * gu.tensor(w)).sum().backward()
    for g, t in ((gq, tq), (gk, tk), (gv, tv)):
        assert _err(g.grad.data, t.grad.numpy()) < 1e-12


@pytest.mark.parametrize("mask", [None, "bool", "float", "causal"])
def test_sdpa_gradcheck_with_masks(mask):
    rng = np.random.default_rng(1)
    q, k, v = _t(rng.standard_normal((2, 3, 4))), _t(rng.standard_normal((2, 3, 4))), \
        _t(rng.standard_normal((2, 3, 2)))
    m = None
    if mask == "bool":
        m = gu.tensor(np.array([[True, False, True], [True, True, False], [False, True, True]]))
    elif mask == "float":
        m = gu.tensor(rng.standard_normal((3, 3)))
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(
        q, k, v, attn_mask=m, is_causal=mask == "causal"), (q, k, v))


def test_sdpa_fused_matches_reference_and_drops_out():
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((2, 5, 3)) for _ in range(3))
    m = rng.standard_normal((5, 5))
    gq, gk, gv = _t(q), _t(k), _t(v)
    out = F.scaled_dot_product_attention(gq, gk, gv, attn_mask=gu.tensor(m))
    out.sum().backward()
    rq, rk, rv = _t(q), _t(k), _t(v)
    ref, _ = attention_reference(rq, rk, rv, m)
    ref.sum().backward()
    assert _err(out.data, ref.data) < 1e-14
    for a, b in ((gq, rq), (gk, rk), (gv, rv)):
        assert _err(a.grad.data, b.grad.data) < 1e-13
    # dropout: with the same generator state the fused op and the reference drop the same weights
    g1, g2 = gu.Generator(7), gu.Generator(7)
    d1 = F.scaled_dot_product_attention(_t(q), _t(k), _t(v), dropout_p=0.5, generator=g1)
    d2, _ = attention_reference(_t(q), _t(k), _t(v), None, dropout_p=0.5, generator=g2)
    np.testing.assert_allclose(d1.data, d2.data, rtol=1e-12)
    assert _err(d1.data, out.data - 0) > 1e-3


def test_causal_mask_hides_the_future():
    """Perturbing later positions leaves earlier outputs unchanged (SDPA, MHA, encoder)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 8))
    x2 = x.copy()
    x2[:, 4:] += rng.standard_normal((2, 2, 8)) * 5
    a = F.scaled_dot_product_attention(_t(x), _t(x), _t(x), is_causal=True).data
    b = F.scaled_dot_product_attention(_t(x2), _t(x2), _t(x2), is_causal=True).data
    np.testing.assert_allclose(a[:, :4], b[:, :4], rtol=1e-12, atol=1e-14)
    assert np.abs(a[:, 4:] - b[:, 4:]).max() > 1e-2
    mha = nn.MultiheadAttention(8, 2, batch_first=True, dtype=np.float64)
    mask = nn.Transformer.generate_square_subsequent_mask(6, np.float64)
    ya = mha(_t(x), _t(x), _t(x), attn_mask=mask)[0].data
    yb = mha(_t(x2), _t(x2), _t(x2), attn_mask=mask)[0].data
    np.testing.assert_allclose(ya[:, :4], yb[:, :4], rtol=1e-12, atol=1e-14)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0,
                                                           batch_first=True, dtype=np.float64), 2)
    ea = enc(_t(x), is_causal=True, mask=mask).data
    eb = enc(_t(x2), is_causal=True, mask=mask).data
    np.testing.assert_allclose(ea[:, :4], eb[:, :4], rtol=1e-11, atol=1e-13)
    assert np.abs(ea[:, 4:] - eb[:, 4:]).max() > 1e-2


def test_key_padding_mask_ignores_padded_keys():
    rng = np.random.default_rng(4)
    mha = nn.MultiheadAttention(4, 2, batch_first=True, dtype=np.float64)
    x = rng.standard_normal((1, 5, 4))
    kp = gu.tensor(np.array([[False, False, False, True, True]]))
    out, w = mha(_t(x), _t(x), _t(x), key_padding_mask=kp)
    assert np.all(w.data[..., 3:] == 0)
    x2 = x.copy()
    x2[:, 3:] = 100.0  # whatever sits in padded keys/values cannot change the unpadded queries
    out2, _ = mha(_t(x2), _t(x2), _t(x2), key_padding_mask=kp)
    np.testing.assert_allclose(out.data[:, :3], out2.data[:, :3], rtol=1e-12)


# ----------------------------------------------------------------------------- MHA vs torch
def _copy_from_torch(gm, tm):
    sd = {k: v.detach().numpy().copy() for k, v in tm.state_dict().items()}
    assert sorted(gm.state_dict()) == sorted(sd)
    gm.load_state_dict(sd)


MHA_CASES = [
    dict(batch_first=False, kdim=None, need_weights=True, masks=0, avg=True),
    dict(batch_first=False, kdim=None, need_weights=False, masks=3, avg=True),
    dict(batch_first=True, kdim=None, need_weights=True, masks=3, avg=False),
    dict(batch_first=True, kdim=6, need_weights=True, masks=1, avg=True),
    dict(batch_first=False, kdim=6, need_weights=False, masks=2, avg=True),
    dict(batch_first=True, kdim=None, need_weights=True, masks=4, avg=True),  # float + per-head
]


@pytest.mark.parametrize("case", MHA_CASES)
def test_multihead_attention_matches_torch(case):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    bf, kd = case["batch_first"], case["kdim"]
    E, H, N, L, S = 8, 2, 3, 4, 5
    tm = torch.nn.MultiheadAttention(E, H, batch_first=bf, kdim=kd, vdim=kd).double()
    gm = nn.MultiheadAttention(E, H, batch_first=bf, kdim=kd, vdim=kd, dtype=np.float64)
    _copy_from_torch(gm, tm)
    rng = np.random.default_rng(0)
    kdim = kd or E

    def arr(n, f):
        return rng.standard_normal((N, n, f) if bf else (n, N, f))

    q, k, v = arr(L, E), arr(S, kdim), arr(S, kdim)
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    gq, gk, gv = _t(q), _t(k), _t(v)
    kt, kg = {}, {}
    if case["masks"] & 1:
        am = rng.random((L, S)) < 0.3
        am[:, 0] = False
        kt["attn_mask"], kg["attn_mask"] = torch.tensor(am), gu.tensor(am)
    if case["masks"] & 2:
        kp = np.zeros((N, S), bool)
        kp[0, -2:] = True
        kp[2, -1] = True
        kt["key_padding_mask"], kg["key_padding_mask"] = torch.tensor(kp), gu.tensor(kp)
    if case["masks"] & 4:
        am = rng.standard_normal((N * H, L, S))
        kt["attn_mask"], kg["attn_mask"] = torch.tensor(am), gu.tensor(am)
    nw, avg = case["need_weights"], case["avg"]
    to, tw = tm(tq, tk, tv, need_weights=nw, average_attn_weights=avg, **kt)
    go, gw = gm(gq, gk, gv, need_weights=nw, average_attn_weights=avg, **kg)
    assert go.shape == tuple(to.shape)
    assert _err(go.data, to.detach().numpy()) < 1e-12
    if nw:
        assert gw.shape == tuple(tw.shape)
        assert _err(gw.data, tw.detach().numpy()) < 1e-12
    else:
        assert gw is None and tw is None
    w = rng.standard_normal(to.shape)
    (to * torch.tensor(w)).sum().backward()
    (go * gu.tensor(w)).sum().backward()
    for g, t in ((gq, tq), (gk, tk), (gv, tv)):
        assert _err(g.grad.data, t.grad.numpy()) < 1e-12
    tp = dict(tm.named_parameters())
    for name, p in gm.named_parameters():
        assert _err(p.grad.data, tp[name].grad.numpy()) < 1e-12, name


def test_self_attention_packed_and_unbatched_match_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    tm = torch.nn.MultiheadAttention(8, 4).double()
    gm = nn.MultiheadAttention(8, 4, dtype=np.float64)
    _copy_from_torch(gm, tm)
    x = np.random.default_rng(1).standard_normal((6, 8))
    tx, gx = torch.tensor(x, requires_grad=True), _t(x)
    to, tw = tm(tx, tx, tx, average_attn_weights=False)
    go, gw = gm(gx, gx, gx, average_attn_weights=False)
    assert go.shape == (6, 8) and gw.shape == (4, 6, 6)
    assert _err(go.data, to.detach().numpy()) < 1e-12
    assert _err(gw.data, tw.detach().numpy()) < 1e-12
    to.pow(2).sum().backward()
    go.pow(2).sum().backward()
    assert _err(gx.grad.data, tx.grad.numpy()) < 1e-12


def test_mha_gradcheck_with_masks():
    rng = np.random.default_rng(5)
    mha = nn.MultiheadAttention(4, 2, batch_first=True, dtype=np.float64)
    x = _t(rng.standard_normal((2, 3, 4)))
    am = gu.tensor(np.array([[False, True, False], [False, False, True], [True, False, False]]))
    kp = gu.tensor(np.array([[False, False, True], [False, False, False]]))
    for need_weights in (True, False):
        assert gradcheck(lambda x, *p: mha(x, x, x, attn_mask=am, key_padding_mask=kp,
                                           need_weights=need_weights)[0],
                         (x, *mha.parameters()))


def test_attention_dropout_is_off_in_eval():
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = gu.randn(2, 5, 8)
    a = mha(x, x, x)[0].data
    mha.eval()
    b, c = mha(x, x, x)[0].data, mha(x, x, x)[0].data
    np.testing.assert_array_equal(b, c)
    assert np.abs(a - b).max() > 1e-4


# ----------------------------------------------------------------------------- errors
def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match=r"embed_dim=10 is not divisible by num_heads=3"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = gu.randn(2, 5, 8)
    with pytest.raises(ShapeError, match=r"query of shape \(2, 5, 6\) has feature size 6, "
                                         r"expected 8"):
        mha(gu.randn(2, 5, 6), x, x)
    with pytest.raises(ShapeError, match=r"attn_mask of shape \(4, 5\).*\(5, 5\) or \(4, 5, 5\)"):
        mha(x, x, x, attn_mask=gu.zeros(4, 5))
    with pytest.raises(ShapeError, match=r"key_padding_mask of shape \(5, 2\).*\(2, 5\)"):
        mha(x, x, x, key_padding_mask=gu.tensor(np.zeros((5, 2), bool)))
    with pytest.raises(DTypeError, match=r"key_padding_mask has dtype int64"):
        mha(x, x, x, key_padding_mask=gu.tensor(np.zeros((2, 5), np.int64)))
    with pytest.raises(ShapeError, match=r"batch sizes differ"):
        mha(x, gu.randn(3, 5, 8), gu.randn(3, 5, 8))
    with pytest.raises(ShapeError, match=r"attn_mask of shape \(3, 3\) does not broadcast"):
        F.scaled_dot_product_attention(x, x, x, attn_mask=gu.tensor(np.ones((3, 3), bool)))
    with pytest.raises(ShapeError, match=r"query \(2, 5, 8\), key \(2, 5, 4\)"):
        F.scaled_dot_product_attention(x, gu.randn(2, 5, 4), x)
    with pytest.raises(ValueError, match="either attn_mask or is_causal"):
        F.scaled_dot_product_attention(x, x, x, attn_mask=gu.zeros(5, 5), is_causal=True)
