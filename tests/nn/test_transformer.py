"""Transformer layers: parity with PyTorch (encoder/decoder layers and stacks, post- and pre-norm,
relu/gelu, masks, batch_first), sinusoidal positions, gradcheck through a layer, bad input and a
short learning test."""

from __future__ import annotations

import math

import numpy as np
import pytest

import groundup as gu
from groundup import nn
from groundup.autograd import gradcheck
from groundup.errors import ShapeError


def _t(a, grad=True):
    return gu.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _err(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


def _copy_from_torch(gm, tm):
    sd = {k: v.detach().numpy().copy() for k, v in tm.state_dict().items()}
    assert sorted(gm.state_dict()) == sorted(sd)
    gm.load_state_dict(sd)


def _check_grads(gm, tm, pairs, tol=1e-10):
    for g, t in pairs:
        assert _err(g.grad.data, t.grad.numpy()) < tol
    tp = dict(tm.named_parameters())
    for name, p in gm.named_parameters():
        assert _err(p.grad.data, tp[name].grad.numpy()) < tol, name


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation,batch_first", [("relu", False), ("gelu", True)])
def test_encoder_matches_torch(norm_first, activation, batch_first):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    E, H, FF = 8, 2, 16
    tl = torch.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, activation=activation,
                                          batch_first=batch_first, norm_first=norm_first)
    tm = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(E),
                                     enable_nested_tensor=False).double()
    gl = nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, activation=activation,
                                    batch_first=batch_first, norm_first=norm_first,
                                    dtype=np.float64)
    gm = nn.TransformerEncoder(gl, 2, norm=nn.LayerNorm(E, dtype=np.float64))
    _copy_from_torch(gm, tm)
    rng = np.random.default_rng(0)
    N, S = 3, 5
    x = rng.standard_normal((N, S, E) if batch_first else (S, N, E))
    kp = np.zeros((N, S), bool)
    kp[0, -1] = True
    kp[1, -2:] = True
    mask = rng.standard_normal((S, S))  # an additive float mask
    tx, gx = torch.tensor(x, requires_grad=True), _t(x)
    to = tm(tx, mask=torch.tensor(mask), src_key_padding_mask=torch.tensor(kp).double()
            .masked_fill(torch.tensor(kp), float("-inf")))
    go = gm(gx, mask=gu.tensor(mask), src_key_padding_mask=gu.tensor(kp))
    assert _err(go.data, to.detach().numpy()) < 1e-12
    w = rng.standard_normal(to.shape)
    (to * torch.tensor(w)).sum().backward()
    (go * gu.tensor(w)).sum().backward()
    _check_grads(gm, tm, [(gx, tx)])


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_decoder_matches_torch(norm_first):
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    tm = torch.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, batch_first=True,
                              norm_first=norm_first).double()
    gm = nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, batch_first=True, norm_first=norm_first,
                        dtype=np.float64)
    _copy_from_torch(gm, tm)
    rng = np.random.default_rng(1)
    src, tgt = rng.standard_normal((2, 6, 8)), rng.standard_normal((2, 4, 8))
    mkp = np.zeros((2, 6), bool)
    mkp[1, -2:] = True
    ts, tt = torch.tensor(src, requires_grad=True), torch.tensor(tgt, requires_grad=True)
    gs, gt = _t(src), _t(tgt)
    to = tm(ts, tt, tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(4).double(),
            memory_key_padding_mask=torch.tensor(mkp))
    go = gm(gs, gt, tgt_mask=nn.Transformer.generate_square_subsequent_mask(4, np.float64),
            memory_key_padding_mask=gu.tensor(mkp))
    assert _err(go.data, to.detach().numpy()) < 1e-12
    (to ** 2).sum().backward()
    (go ** 2).sum().backward()
    _check_grads(gm, tm, [(gs, ts), (gt, tt)])


def test_decoder_stack_unbatched_matches_torch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(2)
    tl = torch.nn.TransformerDecoderLayer(8, 4, 12, dropout=0.0)
    tm = torch.nn.TransformerDecoder(tl, 2).double()
    gm = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 4, 12, dropout=0.0,
                                                          dtype=np.float64), 2)
    _copy_from_torch(gm, tm)
    rng = np.random.default_rng(2)
    tgt, mem = rng.standard_normal((5, 8)), rng.standard_normal((7, 8))
    to = tm(torch.tensor(tgt), torch.tensor(mem), tgt_is_causal=True,
            tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(5).double())
    go = gm(_t(tgt), _t(mem), tgt_is_causal=True)
    assert go.shape == (5, 8)
    assert _err(go.data, to.detach().numpy()) < 1e-12


def test_encoder_layer_gradcheck_with_padding():
    rng = np.random.default_rng(3)
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, batch_first=True, dtype=np.float64)
    x = _t(rng.standard_normal((2, 3, 4)))
    kp = gu.tensor(np.array([[False, False, True], [False, False, False]]))
    assert gradcheck(lambda x, *p: layer(x, src_key_padding_mask=kp), (x, *layer.parameters()))


def test_layers_are_independent_copies():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    enc = nn.TransformerEncoder(layer, 3)
    p0 = enc.layers[0].linear1.weight
    p1 = enc.layers[1].linear1.weight
    assert p0 is not p1 and np.array_equal(p0.data, p1.data)
    p0.data[...] += 1
    assert not np.array_equal(p0.data, p1.data)
    assert len(list(enc.parameters())) == 3 * len(list(layer.parameters()))


# ----------------------------------------------------------------------------- positions
def test_sinusoidal_encoding_values_and_shape():
    pe = nn.SinusoidalPositionalEncoding(6, max_len=50, dtype=np.float64)
    table = pe.pe.data
    for pos in (0, 1, 7, 49):
        for i in range(3):
            w = 1.0 / 10000 ** (2 * i / 6)
            assert abs(table[pos, 2 * i] - math.sin(pos * w)) < 1e-12
            assert abs(table[pos, 2 * i + 1] - math.cos(pos * w)) < 1e-12
    x = gu.zeros(4, 2, 6, dtype=gu.float64)
    np.testing.assert_array_equal(pe(x).data[:, 1], table[:4])
    bf = nn.SinusoidalPositionalEncoding(6, max_len=50, batch_first=True, dtype=np.float64)
    np.testing.assert_array_equal(bf(gu.zeros(2, 4, 6, dtype=gu.float64)).data[1], table[:4])
    assert "pe" not in pe.state_dict()  # a fixed table, not a weight
    with pytest.raises(ShapeError, match="exceeds max_len=50"):
        pe(gu.zeros(51, 1, 6))
    with pytest.raises(ShapeError, match=r"d_model=6.*\(4, 2, 5\)"):
        pe(gu.zeros(4, 2, 5))


def test_transformer_errors():
    with pytest.raises(ValueError, match="not divisible"):
        nn.TransformerEncoderLayer(10, 3)
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    with pytest.raises(ShapeError, match=r"TransformerEncoderLayer\(d_model=8\).*\(2, 5, 6\)"):
        layer(gu.randn(2, 5, 6))
    with pytest.raises(ValueError, match="activation"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(ShapeError, match=r"src_key_padding_mask|key_padding_mask of shape"):
        layer(gu.randn(2, 5, 8), src_key_padding_mask=gu.tensor(np.zeros((2, 4), bool)))


# ----------------------------------------------------------------------------- learning
def test_tiny_transformer_learns_to_copy_the_first_token():
    """Each sequence's label is its first token; the model must attend from every position back
    to position 0 (positions come from sinusoidal encodings). Cross-entropy on all positions
    falls below 0.05 within 120 Adam steps."""
    from groundup.nn import functional as F
    from groundup.optim import Adam

    gu.manual_seed(0)
    rng = np.random.default_rng(0)
    V, T, D = 6, 5, 16
    tokens = rng.integers(0, V, (64, T))
    emb = nn.Embedding(V, D)
    pos = nn.SinusoidalPositionalEncoding(D, batch_first=True)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, 2, 32, dropout=0.0,
                                                           batch_first=True), 1)
    head = nn.Linear(D, V)
    params = [p for m in (emb, enc, head) for p in m.parameters()]
    opt = Adam(params, lr=0.01)
    x = gu.tensor(tokens)
    y = gu.tensor(np.repeat(tokens[:, :1], T, axis=1).reshape(-1))
    for _ in range(120):
        logits = head(enc(pos(emb(x))))
        loss = F.cross_entropy(logits.reshape(-1, V), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
