"""Engine overhead: groundup vs PyTorch on (a) one MLP training step and (b) a long op chain.

(a) forward + backward of an MLP 784-256-128-10 (ReLU) with cross-entropy on a batch of 64, float32;
(b) a chain of 1,000 small elementwise ops on a (64, 64) tensor, forward and backward.

    uv run python benchmarks/engine.py [--rounds 5]

Each side runs in its own process, alternating; the ratio is groundup/PyTorch of median times.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _harness import main, median_time  # noqa: E402

SIZES = [(784, 256), (256, 128), (128, 10)]


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 784)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    params = []
    for fan_in, fan_out in SIZES:
        bound = 1 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return x, y, params


def groundup_mlp(args):
    import groundup as gu
    from groundup.ops.linalg import linear

    x, y, arrays = _data()
    params = [gu.tensor(a, requires_grad=True) for a in arrays]
    xt = gu.tensor(x)
    rows = np.arange(64)

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h = linear(xt, w1, b1).relu()
        h = linear(h, w2, b2).relu()
        logits = linear(h, w3, b3)
        loss = -logits.log_softmax(-1)[rows, y].mean()
        for p in params:
            p.grad = None
        loss.backward()

    return {"seconds": median_time(step, repeats=300, warmup=20)}


def torch_mlp(args):
    import torch

    x, y, arrays = _data()
    params = [torch.tensor(a, requires_grad=True) for a in arrays]
    xt, yt = torch.tensor(x), torch.tensor(y)

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h = torch.nn.functional.linear(xt, w1, b1).relu()
        h = torch.nn.functional.linear(h, w2, b2).relu()
        logits = torch.nn.functional.linear(h, w3, b3)
        loss = -logits.log_softmax(-1)[torch.arange(64), yt].mean()
        for p in params:
            p.grad = None
        loss.backward()

    return {"seconds": median_time(step, repeats=300, warmup=20)}


def _chain(lib, a):
    h = a
    for i in range(1000):
        h = h * 1.0001 if i % 2 else h + 0.001
    h.sum().backward()


def groundup_chain(args):
    import groundup as gu

    a = gu.tensor(np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32),
                  requires_grad=True)

    def run():
        a.grad = None
        _chain(gu, a)

    return {"seconds": median_time(run, repeats=30, warmup=3)}


def torch_chain(args):
    import torch

    a = torch.tensor(np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32),
                     requires_grad=True)

    def run():
        a.grad = None
        _chain(torch, a)

    return {"seconds": median_time(run, repeats=30, warmup=3)}


CASES = {
    "mlp_step_b64": (groundup_mlp, torch_mlp),
    "chain_1000_ops": (groundup_chain, torch_chain),
}

if __name__ == "__main__":
    main(CASES, anchor="PyTorch")
