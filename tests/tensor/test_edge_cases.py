"""Edge cases: ties, kinks, extreme logits, empty inputs, batch of one, NaN."""

from __future__ import annotations

import numpy as np
import pytest

import groundup as gu
from groundup.errors import ShapeError


def test_max_with_dim_sends_gradient_to_first_of_tied_elements():
    x = gu.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    assert indices.tolist() == [1, 0] and values.tolist() == [3.0, 2.0]
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])


def test_full_max_and_amax_share_gradient_among_ties():
    x = gu.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0.5, 0.5])
    y = gu.tensor([[1.0, 1.0], [0.0, 2.0]], requires_grad=True)
    gu.amax(y, dim=1).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [[0.5, 0.5], [0, 1]])


def test_min_with_dim_returns_indices():
    x = gu.tensor([[4.0, 1.0, 1.0]])
    assert x.min(dim=1).indices.tolist() == [1]
    assert x.argmin().item() == 1 and x.argmax(dim=1).tolist() == [0]


def test_relu_gradient_at_zero_is_zero_like_pytorch():
    x = gu.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0])
    y = gu.tensor([0.0], requires_grad=True)
    y.abs().backward(gu.ones(1))
    assert y.grad.item() == 0.0


def test_softmax_family_is_stable_at_plus_minus_1000():
    z = gu.tensor([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0]], requires_grad=True)
    s = gu.softmax(z, dim=1)
    np.testing.assert_allclose(s.numpy(), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-7)
    ls = gu.log_softmax(z, dim=1)
    assert np.isfinite(ls.numpy()[1]).all()
    np.testing.assert_allclose(ls.numpy()[0], [0.0, -1000.0, -2000.0])
    lse = gu.logsumexp(z, dim=1)
    np.testing.assert_allclose(lse.numpy(), [1000.0, -1000.0 + np.log(3)], rtol=1e-6)
    (ls.sum() + lse.sum() + s[0, 0]).backward()
    assert np.isfinite(z.grad.numpy()).all()


def test_logsumexp_of_all_minus_inf_is_minus_inf():
    z = gu.tensor([-np.inf, -np.inf])
    assert gu.logsumexp(z, dim=0).item() == -np.inf


def test_empty_reductions_follow_pytorch():
    e = gu.zeros(0, 3)
    assert e.sum().item() == 0.0
    np.testing.assert_array_equal(e.sum(dim=0).numpy(), [0, 0, 0])
    assert np.isnan(e.mean().item())
    with pytest.raises(ShapeError, match="empty.*help:"):
        e.max()
    with pytest.raises(ShapeError, match="empty"):
        e.max(dim=0)
    assert e.sum(dim=1).shape == (0,)


def test_batch_of_one_and_gradients_keep_shapes():
    x = gu.randn(1, 4, requires_grad=True)
    w = gu.randn(3, 4, requires_grad=True)
    out = gu.linear(x, w).log_softmax(-1)
    out[0, 1].backward()
    assert x.grad.shape == (1, 4) and w.grad.shape == (3, 4)


def test_nan_propagates_through_ops_and_gradients():
    x = gu.tensor([1.0, np.nan], requires_grad=True)
    y = (x * 2).exp().sum()
    assert np.isnan(y.item())
    y.backward()
    assert np.isnan(x.grad.numpy()[1]) and np.isfinite(x.grad.numpy()[0])


def test_sigmoid_is_exact_at_extremes():
    x = gu.tensor([-1000.0, 0.0, 1000.0])
    np.testing.assert_array_equal(gu.sigmoid(x).numpy(), [0.0, 0.5, 1.0])
    x64 = gu.tensor([-30.0, 30.0], dtype=gu.float64)
    np.testing.assert_allclose(gu.sigmoid(x64).numpy(), 1 / (1 + np.exp([30.0, -30.0])), rtol=1e-12)


def test_erf_matches_math_erf_to_double_precision():
    import math

    xs = np.concatenate([np.linspace(-6, 6, 2001), [1e-12, -1e-8, 1.9999999, 2.0, 2.0000001]])
    got = gu.erf(gu.tensor(xs, dtype=gu.float64)).numpy()
    want = np.array([math.erf(v) for v in xs])
    np.testing.assert_allclose(got, want, rtol=2e-15, atol=2e-16)


def test_var_and_std_corrections():
    data = np.array([1.0, 3.0, 5.0, 7.0, 9.0])
    x = gu.tensor(data, dtype=gu.float64)
    assert x.var().item() == pytest.approx(10.0)
    assert x.var(correction=0).item() == pytest.approx(8.0)
    assert x.std(unbiased=False).item() == pytest.approx(np.sqrt(8.0))
