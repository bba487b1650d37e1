"""Tensor creation, dtypes, conversion, Python operators and printing."""

from __future__ import annotations

import numpy as np
import pytest

import groundup as gu
from groundup.errors import DTypeError, GradError, ShapeError


def test_dtype_inference_follows_pytorch():
    assert gu.tensor([1.0, 2.0]).dtype == gu.float32
    assert gu.tensor([1, 2]).dtype == gu.int64
    assert gu.tensor([True, False]).dtype == gu.bool_
    assert gu.tensor(np.array([1.0], dtype=np.float64)).dtype == gu.float64
    assert gu.tensor([1, 2], dtype=gu.float64).dtype == gu.float64
    assert gu.tensor(3.5).shape == ()


def test_tensor_copies_and_from_numpy_shares():
    a = np.array([1.0, 2.0], dtype=np.float32)
    t = gu.tensor(a)
    s = gu.from_numpy(a)
    a[0] = 10.0
    assert t[0].item() == 1.0
    assert s[0].item() == 10.0


def test_creation_functions():
    assert gu.zeros(2, 3).shape == (2, 3) and gu.zeros(2, 3).sum().item() == 0
    assert gu.ones((2, 3)).sum().item() == 6
    assert gu.full((2, 2), 7.0).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert gu.empty(4).shape == (4,)
    assert gu.arange(5).tolist() == [0, 1, 2, 3, 4] and gu.arange(5).dtype == gu.int64
    assert gu.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    np.testing.assert_allclose(gu.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_array_equal(gu.eye(3).numpy(), np.eye(3))
    x = gu.randn(3, 4)
    assert gu.zeros_like(x).shape == (3, 4) and gu.ones_like(x).dtype == gu.float32
    assert gu.full_like(x, 2.0).sum().item() == 24.0
    assert gu.empty_like(x).shape == x.shape
    r = gu.randint(0, 10, (100,))
    assert r.dtype == gu.int64 and 0 <= r.min().item() and r.max().item() < 10
    assert sorted(gu.randperm(6).tolist()) == list(range(6))
    u = gu.rand(1000)
    assert 0 <= u.min().item() and u.max().item() < 1


def test_manual_seed_makes_random_functions_reproducible():
    gu.manual_seed(42)
    a = (gu.randn(5), gu.rand(3), gu.randint(0, 100, (4,)), gu.randperm(5))
    gu.manual_seed(42)
    b = (gu.randn(5), gu.rand(3), gu.randint(0, 100, (4,)), gu.randperm(5))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    gu.manual_seed(43)
    assert not np.array_equal(gu.randn(5).numpy(), a[0].numpy())


def test_generator_state_round_trip():
    g = gu.Generator(7)
    state = g.get_state()
    first = gu.randn(4, generator=g).numpy()
    g.set_state(state)
    np.testing.assert_array_equal(gu.randn(4, generator=g).numpy(), first)


def test_conversions_and_metadata():
    x = gu.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert x.ndim == 2 and x.numel() == 4 and x.size() == (2, 2) and x.size(1) == 2
    assert len(x) == 2 and x.dim() == 2
    assert x.double().dtype == gu.float64 and x.long().dtype == gu.int64
    assert x.long().tolist() == [[1, 2], [3, 4]]
    assert x.to(gu.float64).float().dtype == gu.float32
    assert x.T.tolist() == [[1.5, 3.0], [2.0, 4.0]]
    assert gu.tensor([2.5]).item() == 2.5
    assert isinstance(gu.tensor(3).item(), int)
    assert x.numpy() is x.data


def test_scalars_and_arrays_on_either_side():
    x = gu.tensor([1.0, 2.0, 4.0])
    np.testing.assert_allclose((2 * x).numpy(), [2, 4, 8])
    np.testing.assert_allclose((x / 2).numpy(), [0.5, 1, 2])
    np.testing.assert_allclose((1 - x).numpy(), [0, -1, -3])
    np.testing.assert_allclose((x**2).numpy(), [1, 4, 16])
    np.testing.assert_allclose((2**x).numpy(), [2, 4, 16])
    np.testing.assert_allclose((8 / x).numpy(), [8, 4, 2])
    arr = np.array([1.0, 1.0, 1.0], dtype=np.float32)
    np.testing.assert_allclose((arr + x).numpy(), [2, 3, 5])
    np.testing.assert_allclose((x - arr).numpy(), [0, 1, 3])
    assert isinstance(arr * x, gu.Tensor)
    w = np.eye(3, dtype=np.float32)
    np.testing.assert_allclose((x @ w).numpy(), x.numpy())
    np.testing.assert_allclose((w @ x).numpy(), x.numpy())
    assert (2 * x).dtype == gu.float32  # a Python scalar never promotes


def test_comparisons_give_bool_without_grad():
    x = gu.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for m in (x > 1.5, x >= 2, x < 2, x <= 1, x == 2, x != 2):
        assert m.dtype == gu.bool_ and not m.requires_grad
    assert (x > 1.5).tolist() == [False, True, True]
    assert (x == gu.tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]


def test_repr_like_pytorch():
    assert repr(gu.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(gu.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"
    x = gu.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward>)"
    assert repr(gu.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype=groundup.float64" in repr(gu.tensor([1.0], dtype=gu.float64))


def test_bad_input_errors_name_what_is_wrong():
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(4,\)"):
        gu.ones(2, 3) + gu.ones(4)
    with pytest.raises(ShapeError, match=r"matmul.*\(2, 3\).*\(2, 3\)"):
        gu.ones(2, 3) @ gu.ones(2, 3)
    with pytest.raises(GradError, match="scalar outputs.*help:"):
        (gu.ones(3, requires_grad=True) * 2).backward()
    with pytest.raises(DTypeError, match="unsupported dtype.*help:"):
        gu.tensor(np.array([1 + 2j]))
    with pytest.raises(DTypeError, match="unsupported dtype"):
        gu.tensor(["a", "b"])
    with pytest.raises(GradError, match="in-place.*help:"):
        gu.ones(3, requires_grad=True).add_(1)
    with pytest.raises(ShapeError, match=r"3 elements.*\(3,\).*help:"):
        gu.ones(3).item()
    with pytest.raises(DTypeError, match="floating-point.*int64.*help:"):
        gu.tensor([1, 2], requires_grad=True)
    with pytest.raises(ShapeError, match="reshape.*6 elements.*help:"):
        gu.ones(2, 3).reshape(4, 2)
    for exc in (ShapeError, DTypeError, GradError):
        assert issubclass(exc, (ValueError, TypeError, RuntimeError))


def test_failed_op_changes_nothing():
    a = gu.ones(2, 3, requires_grad=True)
    b = gu.ones(4, requires_grad=True)
    with pytest.raises(ShapeError):
        a * b
    assert a.grad is None and a.tolist() == [[1.0] * 3] * 2


def test_inplace_allowed_under_no_grad_and_bumps_version():
    w = gu.ones(3, requires_grad=True)
    with gu.no_grad():
        w.sub_(gu.tensor([0.5, 0.5, 0.5]))
        w *= 2
    assert w.tolist() == [1.0, 1.0, 1.0]
    assert w._version == 2


def test_setitem_on_constant_and_stale_saved_input_detected():
    x = gu.tensor([1.0, 2.0, 3.0])
    x[1] = 5.0
    assert x.tolist() == [1.0, 5.0, 3.0]
    w = gu.tensor([2.0, 2.0, 2.0], requires_grad=True)
    y = (w * x).sum()
    x[0] = 100.0  # x was saved for mul's backward: its gradient would now be wrong
    with pytest.raises(GradError, match="modified in place"):
        y.backward()
