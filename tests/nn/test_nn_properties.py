"""Property tests on random shapes (hypothesis) for the fused kernels, and edge cases: empty
batches, batch of one, NaN inputs, non-contiguous inputs, the primer CNN's summary."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_testutils import t64

import groundup as gu
from groundup import nn
from groundup.autograd import gradcheck

F = nn.functional
FAST = settings(max_examples=15, deadline=None)


@FAST
@given(n=st.integers(1, 4), c=st.integers(1, 5), d=st.integers(0, 2),
       reduction=st.sampled_from(["none", "mean", "sum"]), ls=st.sampled_from([0.0, 0.25]),
       seed=st.integers(0, 2**31))
def test_cross_entropy_random_shapes_gradcheck_and_composition(n, c, d, reduction, ls, seed):
    rng = np.random.default_rng(seed)
    shape = (n, c) + (2,) * d
    z = rng.standard_normal(shape) * 3
    y = gu.tensor(rng.integers(0, c, (n,) + (2,) * d))
    gradcheck(lambda a: F.cross_entropy(a, y, reduction=reduction, label_smoothing=ls) * 1.0,
              (t64(z),))
    if ls == 0.0:
        ref = F.nll_loss(F.log_softmax(gu.tensor(z), 1), y, reduction=reduction)
        np.testing.assert_allclose(F.cross_entropy(gu.tensor(z), y, reduction=reduction).data,
                                   ref.data, rtol=1e-12, atol=1e-14)


@FAST
@given(shape=st.lists(st.integers(1, 3), min_size=2, max_size=4), k=st.integers(1, 2),
       seed=st.integers(0, 2**31))
def test_layer_norm_random_shapes_gradcheck(shape, k, seed):
    ns = tuple(shape[-min(k, len(shape) - 1):])
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    w, b = t64(rng.standard_normal(ns)), t64(rng.standard_normal(ns))
    proj = gu.tensor(rng.standard_normal(x.shape))
    gradcheck(lambda a, w_, b_: (F.layer_norm(a, ns, w_, b_) * proj).sum(), (t64(x), w, b))


@FAST
@given(n=st.integers(2, 4), c=st.integers(1, 3), hw=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_batch_norm_random_shapes_gradcheck(n, c, hw, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, hw, hw))
    w, b = t64(rng.standard_normal(c)), t64(rng.standard_normal(c))
    proj = gu.tensor(rng.standard_normal(x.shape))
    gradcheck(lambda a, w_, b_: (F.batch_norm(a, None, None, w_, b_, training=True) * proj).sum(),
              (t64(x), w, b))


def test_non_contiguous_inputs():
    base = np.random.default_rng(0).standard_normal((4, 6))
    x = gu.tensor(base.T)  # a transposed (non-contiguous) view
    lin = nn.Linear(4, 3).double()
    np.testing.assert_allclose(lin(x).data, base.T @ lin.weight.data.T + lin.bias.data)
    gradcheck(lambda a: (nn.functional.layer_norm(a, (4,)) * 1.0).sum(), (t64(base.T),))
    gradcheck(lambda a: F.cross_entropy(a, gu.tensor(np.array([0, 1, 2, 3, 0, 1]))),
              (t64(base.T),))


def test_empty_batches():
    assert nn.Linear(3, 2)(gu.zeros(0, 3)).shape == (0, 2)
    assert nn.LayerNorm(3)(gu.zeros(0, 3)).shape == (0, 3)
    assert nn.Dropout(0.3)(gu.ones(0, 3)).shape == (0, 3)
    empty_y = gu.tensor(np.zeros(0, dtype=np.int64))
    assert F.cross_entropy(gu.zeros(0, 3), empty_y, reduction="none").shape == (0,)
    assert F.cross_entropy(gu.zeros(0, 3), empty_y, reduction="sum").item() == 0.0
    assert np.isnan(F.cross_entropy(gu.zeros(0, 3), empty_y).item())  # 0/0, like PyTorch


def test_batch_of_one_and_nan_propagation():
    bn = nn.BatchNorm1d(3)
    bn.eval()  # one sample is fine with running statistics
    assert bn(gu.ones(1, 3)).shape == (1, 3)
    out = F.cross_entropy(gu.tensor([[np.nan, 1.0, 2.0], [0.0, 1.0, 2.0]]),
                          gu.tensor(np.array([0, 1])), reduction="none")
    assert np.isnan(out.data[0]) and np.isfinite(out.data[1])
    assert np.isnan(nn.LayerNorm(2)(gu.tensor([[np.nan, 1.0]])).data).all()


def test_primer_cnn_summary_counts():
    pytest.importorskip("groundup.nn.models_cnn")
    from groundup.nn.models import PrimerCNN

    for channels, first in ((1, 320), (3, 896)):
        s = nn.summary(PrimerCNN(in_channels=channels), (1, channels, 28, 28),
                       print_summary=False)
        convs = [r for r in s.layers if r.type == "Conv2d"]
        assert [r.params for r in convs] == [first, 18496]
        assert convs[1].output_shape == (1, 64, 14, 14)
