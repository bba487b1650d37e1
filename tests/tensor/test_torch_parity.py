"""Each op in groundup and PyTorch on the same inputs: values and gradients agree (skipped without
torch)."""

from __future__ import annotations

import numpy as np
import pytest

import groundup as gu

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)


def arr(*shape, positive=False):
    a = rng.standard_normal(shape)
    return np.abs(a) + 0.3 if positive else a


# name: (groundup fn, torch fn, input arrays)
CASES = {
    "add_broadcast": (lambda a, b: a + b, lambda a, b: a + b, [arr(3, 1, 4), arr(2, 1)]),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, [arr(2, 3), arr(3)]),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, [arr(4, 3), arr(4, 1)]),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [arr(3, 2), arr(2, positive=True)]),
    "pow_tensor": (lambda a, b: a**b, lambda a, b: a**b, [arr(3, positive=True), arr(3)]),
    "pow_scalar": (lambda a: a**3, lambda a: a**3, [arr(2, 3)]),
    "exp": (gu.exp, torch.exp, [arr(2, 3)]),
    "log": (gu.log, torch.log, [arr(5, positive=True)]),
    "log1p": (gu.log1p, torch.log1p, [arr(5, positive=True)]),
    "sqrt": (gu.sqrt, torch.sqrt, [arr(5, positive=True)]),
    "rsqrt": (gu.rsqrt, torch.rsqrt, [arr(5, positive=True)]),
    "reciprocal": (gu.reciprocal, torch.reciprocal, [arr(5, positive=True)]),
    "abs": (gu.abs, torch.abs, [arr(6)]),
    "sign": (gu.sign, torch.sign, [arr(6)]),
    "sin": (gu.sin, torch.sin, [arr(6)]),
    "cos": (gu.cos, torch.cos, [arr(6)]),
    "tanh": (gu.tanh, torch.tanh, [arr(6)]),
    "sigmoid": (gu.sigmoid, torch.sigmoid, [arr(6) * 10]),
    "relu": (gu.relu, torch.relu, [arr(6)]),
    "leaky_relu": (lambda a: gu.leaky_relu(a, 0.2),
                   lambda a: torch.nn.functional.leaky_relu(a, 0.2), [arr(6)]),
    "elu": (gu.elu, torch.nn.functional.elu, [arr(6)]),
    "gelu": (gu.gelu, torch.nn.functional.gelu, [arr(6) * 3]),
    "gelu_tanh": (lambda a: gu.gelu(a, approximate="tanh"),
                  lambda a: torch.nn.functional.gelu(a, approximate="tanh"), [arr(6) * 3]),
    "softplus": (lambda a: gu.softplus(a, beta=2.0),
                 lambda a: torch.nn.functional.softplus(a, beta=2.0), [arr(6) * 10]),
    "erf": (gu.erf, torch.erf, [arr(8) * 2]),
    "clamp": (lambda a: a.clamp(-0.5, 0.5), lambda a: a.clamp(-0.5, 0.5), [arr(8)]),
    "maximum": (gu.maximum, torch.maximum, [arr(3, 4), arr(4)]),
    "minimum": (gu.minimum, torch.minimum, [arr(3, 4), arr(3, 1)]),
    "where": (lambda a, b: gu.where(a > 0, a, b), lambda a, b: torch.where(a > 0, a, b),
              [arr(3, 4), arr(4)]),
    "sum_dims": (lambda a: a.sum(dim=(0, 2), keepdim=True),
                 lambda a: a.sum(dim=(0, 2), keepdim=True), [arr(2, 3, 4)]),
    "mean": (lambda a: a.mean(dim=1), lambda a: a.mean(dim=1), [arr(2, 3, 4)]),
    "var": (lambda a: a.var(dim=-1, correction=0), lambda a: a.var(dim=-1, correction=0),
            [arr(3, 5)]),
    "std": (lambda a: a.std(dim=0), lambda a: a.std(dim=0), [arr(4, 3)]),
    "max_dim": (lambda a: a.max(dim=1).values, lambda a: a.max(dim=1).values, [arr(3, 5)]),
    "min_dim_keep": (lambda a: a.min(dim=0, keepdim=True).values,
                     lambda a: a.min(dim=0, keepdim=True).values, [arr(3, 5)]),
    "amax": (lambda a: a.amax(dim=(0, 1)), lambda a: a.amax(dim=(0, 1)), [arr(2, 3, 2)]),
    "logsumexp": (lambda a: a.logsumexp(dim=1), lambda a: a.logsumexp(dim=1), [arr(3, 4) * 50]),
    "prod": (lambda a: a.prod(dim=1), lambda a: a.prod(dim=1), [arr(3, 4)]),
    "norm": (lambda a: a.norm(dim=1), lambda a: a.norm(dim=1), [arr(3, 4)]),
    "norm_p1": (lambda a: a.norm(p=1), lambda a: a.norm(p=1), [arr(3, 4)]),
    "softmax": (lambda a: a.softmax(dim=0), lambda a: a.softmax(dim=0), [arr(3, 4) * 5]),
    "log_softmax": (lambda a: a.log_softmax(dim=-1), lambda a: a.log_softmax(dim=-1),
                    [arr(3, 4) * 5]),
    "matmul_batched": (lambda a, b: a @ b, lambda a, b: a @ b, [arr(2, 1, 3, 4), arr(5, 4, 2)]),
    "matmul_vec": (lambda a, b: a @ b, lambda a, b: a @ b, [arr(4), arr(3, 4, 2)]),
    "mv": (lambda a, b: a @ b, lambda a, b: a @ b, [arr(3, 4), arr(4)]),
    "bmm": (gu.bmm, torch.bmm, [arr(2, 3, 4), arr(2, 4, 5)]),
    "outer": (gu.outer, torch.outer, [arr(3), arr(4)]),
    "einsum": (lambda a, b: gu.einsum("bij,bkj->bik", a, b),
               lambda a, b: torch.einsum("bij,bkj->bik", a, b), [arr(2, 3, 4), arr(2, 5, 4)]),
    "linear": (gu.linear, torch.nn.functional.linear, [arr(5, 3), arr(4, 3), arr(4)]),
    "transpose": (lambda a: a.transpose(0, 2), lambda a: a.transpose(0, 2), [arr(2, 3, 4)]),
    "permute": (lambda a: a.permute(1, 2, 0), lambda a: a.permute(1, 2, 0), [arr(2, 3, 4)]),
    "expand": (lambda a: a.expand(3, -1, 4), lambda a: a.expand(3, -1, 4), [arr(2, 1)]),
    "repeat": (lambda a: a.repeat(2, 1, 3), lambda a: a.repeat(2, 1, 3), [arr(2, 3)]),
    "flip": (lambda a: a.flip((0, 1)), lambda a: a.flip((0, 1)), [arr(3, 4)]),
    "roll": (lambda a: a.roll((1, -1), (0, 1)), lambda a: a.roll((1, -1), (0, 1)), [arr(3, 4)]),
    "pad": (lambda a: gu.pad(a, (1, 2, 0, 1), value=0.3),
            lambda a: torch.nn.functional.pad(a, (1, 2, 0, 1), value=0.3), [arr(2, 3, 4)]),
    "cat": (lambda a, b: gu.cat([a, b], 1), lambda a, b: torch.cat([a, b], 1),
            [arr(2, 3), arr(2, 2)]),
    "stack": (lambda a, b: gu.stack([a, b], -1), lambda a, b: torch.stack([a, b], -1),
              [arr(2, 3), arr(2, 3)]),
    "split": (lambda a: a.split([1, 3], 1)[1], lambda a: a.split([1, 3], 1)[1], [arr(2, 4)]),
    "chunk": (lambda a: a.chunk(3, 0)[-1], lambda a: a.chunk(3, 0)[-1], [arr(5, 2)]),
    "index_adv": (lambda a: a[[0, 2, 2], 1:], lambda a: a[[0, 2, 2], 1:], [arr(3, 4)]),
    "index_mask": (lambda a: a[a > 0], lambda a: a[a > 0], [arr(3, 4)]),
    "gather": (lambda a: a.gather(1, gu.tensor([[0, 0], [1, 0]])),
               lambda a: a.gather(1, torch.tensor([[0, 0], [1, 0]])), [arr(2, 3)]),
    "index_select": (lambda a: a.index_select(0, gu.tensor([2, 0, 2])),
                     lambda a: a.index_select(0, torch.tensor([2, 0, 2])), [arr(3, 2)]),
    "masked_fill": (lambda a: a.masked_fill(a > 0.5, 2.0),
                    lambda a: a.masked_fill(a > 0.5, 2.0), [arr(3, 3)]),
    "squeeze_unsqueeze": (lambda a: a.squeeze(1).unsqueeze(0),
                          lambda a: a.squeeze(1).unsqueeze(0), [arr(3, 1, 2)]),
    "flatten": (lambda a: a.flatten(1), lambda a: a.flatten(1), [arr(2, 3, 4)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_matches_pytorch(name):
    gfn, tfn, arrays = CASES[name]
    g_in = [gu.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    g_out, t_out = gfn(*g_in), tfn(*t_in)
    np.testing.assert_allclose(g_out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = rng.standard_normal(t_out.shape)
    (g_out * gu.tensor(weights)).sum().backward()
    (t_out * torch.tensor(weights)).sum().backward()
    for g, t in zip(g_in, t_in):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_float32_results_match_pytorch_float32():
    a = rng.standard_normal((64, 100)).astype(np.float32)
    w = rng.standard_normal((10, 100)).astype(np.float32)
    g = gu.linear(gu.tensor(a), gu.tensor(w)).log_softmax(-1)
    t = torch.nn.functional.linear(torch.tensor(a), torch.tensor(w)).log_softmax(-1)
    assert g.dtype == gu.float32
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-4, atol=1e-4)


def test_second_derivatives_match_pytorch():
    x = arr(4)
    gx = gu.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    gy = (gx.tanh() * gx.sigmoid()).softmax(0)[1] * gx.exp().sum()
    ty = (tx.tanh() * tx.sigmoid()).softmax(0)[1] * tx.exp().sum()
    (gg,) = gu.autograd.grad(gy, gx, create_graph=True)
    (tg,) = torch.autograd.grad(ty, tx, create_graph=True)
    np.testing.assert_allclose(gg.numpy(), tg.detach().numpy(), rtol=1e-10)
    gg.sum().backward()
    tg.sum().backward()
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-9)
